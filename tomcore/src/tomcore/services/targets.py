"""Targets: look up, create and update, in batches, through the one matcher.

:meth:`TargetService.save` is the single write path for new targets: a hand-made target,
a row of an imported file, a broker's alert and a catalog entry all go through it. It checks
every target, asks the matcher about all of them at once (and about duplicates inside the
batch), decides per ``on_duplicate``, and writes the whole batch in one transaction with
bulk inserts (:mod:`tomcore.services.target_write`), or writes nothing and reports every
problem.

Editing, renaming, aliases and deletion are in :mod:`tomcore.services.target_edit`;
queries with filters in :mod:`tomcore.services.target_query`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.targets import MODEL_FIELDS, NUMERIC_FIELDS, Target, normalise_name, unique_names
from tomcore.errors import AmbiguousError, NotFoundError, ValidationError
from tomcore.services.target_read import extra_value, row_to_target

__all__ = ["SaveOutcome", "SaveReport", "TargetService", "describe_candidate", "extra_value", "fold_into",
           "row_to_target"]

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.services.matcher import MatchCandidate

ON_DUPLICATE = ("error", "skip", "update")
CHUNK = 900
#: Batches creating at least this many targets refresh PostgreSQL's planner statistics.
ANALYZE_AFTER = 5000

#: Columns of ``targets`` written from a :class:`Target` (the rest are derived).
WRITABLE = tuple(f for f in MODEL_FIELDS if f not in ("galactic_lng", "galactic_lat"))


@attrs.define
class SaveOutcome:
    """What happened to one target of a batch.

    :param action: ``created``, ``updated``, ``unchanged``, ``skipped``, ``merged`` (folded
        into an earlier target of the same batch) or ``error``.
    :param target: the target as saved (for created/updated/unchanged).
    :param candidates: the existing targets it matched.
    :param duplicate_of: index of an earlier target of the same batch it duplicates.
    """

    index: int
    label: str
    action: str
    target: Target | None = None
    candidates: list[MatchCandidate] = attrs.Factory(list)
    duplicate_of: int | None = None
    errors: dict[str, list[str]] = attrs.Factory(dict)


@attrs.define
class SaveReport:
    outcomes: list[SaveOutcome] = attrs.Factory(list)

    def _with(self, action: str) -> list[SaveOutcome]:
        return [o for o in self.outcomes if o.action == action]

    @property
    def created(self) -> list[Target]:
        return [o.target for o in self._with("created") if o.target is not None]

    @property
    def updated(self) -> list[Target]:
        return [o.target for o in self._with("updated") if o.target is not None]

    @property
    def unchanged(self) -> list[Target]:
        return [o.target for o in self._with("unchanged") if o.target is not None]

    @property
    def skipped(self) -> list[SaveOutcome]:
        return self._with("skipped")

    @property
    def errors(self) -> list[SaveOutcome]:
        return self._with("error")

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "updated", "unchanged", "skipped", "merged", "error"), 0)
        for outcome in self.outcomes:
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
        return counts


def describe_candidate(candidate: MatchCandidate) -> str:
    """``'SN 2024abc' (by name 'AT2024abc', 0.42" away)``."""
    parts = []
    if candidate.by_name:
        parts.append(f"by name {candidate.matched_name!r}" if candidate.matched_name != candidate.name else "by name")
    if candidate.separation_arcsec is not None:
        parts.append(f"{candidate.separation_arcsec:.2f}\" away")
    return f"{candidate.name!r} ({', '.join(parts)})" if parts else repr(candidate.name)


_describe = describe_candidate


class TargetService:
    """Targets of one TOM."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    def _session(self, session: Session | None, readonly: bool = False) -> Any:
        return nullcontext(session) if session is not None else self.tom.db.session(readonly=readonly)

    # -- reading -------------------------------------------------------------------------------

    def load(self, session: Session, ids: Iterable[int]) -> dict[int, Target]:
        """Targets by id, with aliases, extras and lists (four queries per 900 ids), in the
        order of ``ids`` (:func:`tomcore.services.target_read.load`)."""
        from tomcore.services.target_read import load

        return load(session, ids)

    def resolve_id(self, session: Session, name: str) -> int:
        """The id of the target called ``name`` (its name or an alias, exactly; else a
        unique normalised match). :class:`NotFoundError` or :class:`AmbiguousError`."""
        from sqlalchemy import select

        from tomcore.store.models import TargetNameRow

        text = name.strip()
        if not text:
            raise NotFoundError("no target name given")
        exact = session.execute(select(TargetNameRow.target_id).where(TargetNameRow.name == text)).scalar()
        if exact is not None:
            return int(exact)
        found = self.tom.matcher.by_names(session, [text]).get(normalise_name(text), [])
        ids = {tid: primary for tid, primary, _ in found}
        if len(ids) == 1:
            return next(iter(ids))
        if len(ids) > 1:
            raise AmbiguousError(f"{text!r} matches several targets; use the exact name",
                                 [(primary, f"id {tid}") for tid, primary in sorted(ids.items())])
        raise NotFoundError(f"no target named {text!r}{self._suggest(session, text)}")

    def resolve_ids(self, session: Session, names: Sequence[str]) -> dict[str, int]:
        """Ids of many targets by name or alias; :class:`NotFoundError` naming every name
        not found (and suggestions), :class:`AmbiguousError` for a name matching several."""
        from sqlalchemy import select

        from tomcore.store.models import TargetNameRow

        wanted = [n.strip() for n in names if n and n.strip()]
        result: dict[str, int] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            result.update(session.execute(
                select(TargetNameRow.name, TargetNameRow.target_id).where(TargetNameRow.name.in_(chunk))
            ).all())
        rest = [n for n in wanted if n not in result]
        if rest:
            hits = self.tom.matcher.by_names(session, rest)
            missing = []
            for name in rest:
                ids = {tid: primary for tid, primary, _ in hits.get(normalise_name(name), [])}
                if len(ids) == 1:
                    result[name] = next(iter(ids))
                elif len(ids) > 1:
                    raise AmbiguousError(f"{name!r} matches several targets; use the exact name",
                                         [(primary, f"id {tid}") for tid, primary in sorted(ids.items())])
                else:
                    missing.append(name)
            if missing:
                detail = "" if len(missing) > 1 else self._suggest(session, missing[0])
                raise NotFoundError(f"no target named {', '.join(repr(m) for m in missing)}{detail}")
        return result

    def _suggest(self, session: Session, text: str) -> str:
        from sqlalchemy import select

        from tomcore.store.models import TargetNameRow

        norm = normalise_name(text)
        if len(norm) < 2:
            return ""
        pattern = "%" + norm[:20].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = session.execute(
            select(TargetNameRow.name).where(TargetNameRow.norm.like(pattern, escape="\\"))
            .order_by(TargetNameRow.name).limit(5)
        ).scalars().all()
        return f" (did you mean {', '.join(like)}?)" if like else ""

    def get(self, name: str, *, session: Session | None = None) -> Target:
        """The target called ``name`` (name or alias)."""
        with self._session(session, readonly=True) as s:
            return self.load(s, [self.resolve_id(s, name)]).popitem()[1]

    def get_by_id(self, target_id: int, *, session: Session | None = None) -> Target:
        with self._session(session, readonly=True) as s:
            found = self.load(s, [target_id])
        if not found:
            raise NotFoundError(f"no target with id {target_id}")
        return found[target_id]

    def count(self) -> int:
        from sqlalchemy import func, select

        from tomcore.store.models import TargetRow

        with self.tom.db.session(readonly=True) as s:
            return int(s.execute(select(func.count()).select_from(TargetRow)).scalar_one())

    # -- writing -------------------------------------------------------------------------------

    def create(self, target: Target, *, on_duplicate: str = "error", source: str | None = None) -> Target:
        """Create one target (or update/skip per ``on_duplicate``); return it as saved."""
        report = self.save([target], on_duplicate=on_duplicate, source=source)
        outcome = report.outcomes[0]
        if outcome.target is None:  # skipped
            raise ValidationError(f"target {target.name!r} was not created", {target.name: [
                f"matches existing target {', '.join(describe_candidate(c) for c in outcome.candidates)}"]})
        return outcome.target

    def save(
        self,
        targets: Sequence[Target],
        *,
        on_duplicate: str = "error",
        overwrite: bool = True,
        overwrite_extras: bool | None = None,
        skip_invalid: bool = False,
        source: str | None = None,
        labels: Sequence[str] | None = None,
        radius_arcsec: float | None = None,
        session: Session | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SaveReport:
        """Create or update many targets in one transaction.

        :param on_duplicate: what to do with a target matching an existing one (or an
            earlier one of the batch): ``error`` (report it), ``skip``, or ``update`` the
            existing target (its names become aliases, fields, extras and lists are added).
        :param overwrite: on update, replace fields that already have a value (True) or
            only fill empty ones (False).
        :param overwrite_extras: on update, replace extras the target already has (True)
            or only add missing ones (False); default: as ``overwrite``. A broker ingest
            uses ``overwrite=False, overwrite_extras=True``: its classification and score
            are refreshed, the target's own coordinates are kept.
        :param skip_invalid: write the good targets and report the bad ones; by default
            any bad target means nothing is written and :class:`ValidationError` lists all.
        :param source: recorded on the names this batch adds (``alerce``, ``import``...).
        :param labels: how to name each target in errors (``line 12``); default its name.
        :param session: write in the caller's transaction; then no event is fired and the
            caller calls :meth:`emit` after committing.
        :param progress: called with the number of targets written, as they are.

        Targets created are updated in place: ``id``, ``created``, ``modified`` and the
        galactic coordinates are set.
        """
        if on_duplicate not in ON_DUPLICATE:
            raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}")
        from tomcore.services.target_write import paused_gc

        with paused_gc():
            return self._save(targets, on_duplicate, (overwrite, overwrite if overwrite_extras is None else overwrite_extras),
                              skip_invalid, source, labels, radius_arcsec, session, progress)

    def _save(self, targets: Sequence[Target], on_duplicate: str, overwrite: tuple[bool, bool], skip_invalid: bool,
              source: str | None, labels: Sequence[str] | None, radius_arcsec: float | None,
              session: Session | None, progress: Callable[[int], None] | None) -> SaveReport:
        labels = list(labels) if labels is not None else [t.name or f"target {i + 1}" for i, t in enumerate(targets)]
        report = SaveReport([SaveOutcome(i, labels[i], "pending") for i in range(len(targets))])
        incomplete: dict[int, dict[str, list[str]]] = {}
        for i, target in enumerate(targets):
            aliases = target.aliases
            if aliases and not (len(aliases) == 1 and aliases[0] != target.name and aliases[0] and aliases[0][0] > " "
                                and aliases[0][-1] > " "):
                target.aliases = [a for a in unique_names(aliases) if a != target.name]
            problems = target.problems()
            if problems:
                if target.problems(partial=True):
                    report.outcomes[i].action = "error"
                    report.outcomes[i].errors = problems
                else:  # only missing fields: fine for updating an existing target
                    incomplete[i] = problems
        owned = session is None
        with self._session(session) as s:
            self._decide(s, targets, report, on_duplicate, radius_arcsec)
            for i, problems in incomplete.items():
                if report.outcomes[i].action == "create":
                    report.outcomes[i].action = "error"
                    report.outcomes[i].errors = problems
            bad = report.errors
            if bad and not skip_invalid:
                raise ValidationError(
                    f"{len(bad)} of {len(targets)} targets cannot be saved; nothing was saved",
                    {f"{o.label}" + (f", {field}" if field != "_" else ""): reasons
                     for o in bad for field, reasons in o.errors.items()},
                )
            self._write(s, targets, report, overwrite, source, progress)
        if owned:
            created = sum(1 for o in report.outcomes if o.action == "created")
            if created >= ANALYZE_AFTER:
                from tomcore.services.target_write import analyze

                analyze(self.tom.db.engine, ("targets", "target_names", "target_extras"))
            self.emit(report)
        return report

    def emit(self, report: SaveReport) -> None:
        """Fire ``on_targets_created`` / ``on_targets_updated`` for a committed report."""
        created = report.created
        if created:
            self.tom.emit("on_targets_created", targets=created)
        updated = report.updated
        if updated:
            self.tom.emit("on_targets_updated", targets=updated)

    # -- the steps of save ---------------------------------------------------------------------

    def _decide(self, session: Session, targets: Sequence[Target], report: SaveReport,
                on_duplicate: str, radius_arcsec: float | None) -> None:
        import numpy as np

        from tomcore.services.sky import cross_match, hpx_index, neighbourhood_depth, unit_vectors

        pending = [o.index for o in report.outcomes if o.action == "pending"]
        if not pending:
            return
        from tomcore.services.matcher import normalised_names

        batch = [targets[i] for i in pending]
        batch_norms = normalised_names(batch)
        matches = self.tom.matcher.match_many(batch, session=session, radius_arcsec=radius_arcsec, norms=batch_norms)
        radius = self.tom.matcher.radius_arcsec if radius_arcsec is None else radius_arcsec
        # Positional pairs inside the batch (HEALPix neighbourhoods, exact cut), earlier first.
        positioned = [i for i in pending if targets[i].ra is not None and targets[i].dec is not None]
        near_earlier: dict[int, list[int]] = {}
        if len(positioned) > 1:
            ra = np.asarray([targets[i].ra for i in positioned], dtype=float)
            dec = np.asarray([targets[i].dec for i in positioned], dtype=float)
            depth = neighbourhood_depth(radius / 3600.0)
            cx, cy, cz = unit_vectors(ra, dec)
            cells = hpx_index(ra, dec, order=depth) if depth >= 0 else None
            qi, ri = cross_match(ra, dec, cx, cy, cz, cells, radius / 3600.0)
            earlier = ri < qi
            for q, r in zip(qi[earlier].tolist(), ri[earlier].tolist(), strict=True):
                near_earlier.setdefault(positioned[q], []).append(positioned[r])
            for found in near_earlier.values():
                found.sort()
        if not near_earlier and not any(matches):
            # the common case of a big import: nothing known, no two positions close; new
            # unless two names of the batch collide (checked over all names at once)
            every = [norm for norms in batch_norms for norm in norms]
            if len(set(every)) == len(every):
                outcomes = report.outcomes
                for i in pending:
                    outcomes[i].action = "create"
                return
        seen_names: dict[str, int] = {}
        for i, candidates, norms in zip(pending, matches, batch_norms, strict=True):
            outcome = report.outcomes[i]
            outcome.candidates = candidates
            # duplicates inside the batch: the first occurrence (being created) wins
            earlier_index = None
            for norm in norms:
                earlier_index = seen_names.get(norm)
                if earlier_index is not None:
                    break
            if earlier_index is None:
                for j in near_earlier.get(i, ()):
                    if report.outcomes[j].action == "create":
                        earlier_index = j
                        break
            if candidates:
                if on_duplicate == "error":
                    outcome.action = "error"
                    outcome.errors = {"_": [f"matches existing target {'; '.join(describe_candidate(c) for c in candidates)}"]}
                elif on_duplicate == "skip":
                    outcome.action = "skipped"
                elif len({c.target_id for c in candidates}) > 1:
                    outcome.action = "error"
                    outcome.errors = {"_": [f"matches several existing targets: {'; '.join(describe_candidate(c) for c in candidates)}"]}
                else:
                    outcome.action = "update"
            elif earlier_index is not None:
                outcome.duplicate_of = earlier_index
                if on_duplicate == "error":
                    outcome.action = "error"
                    outcome.errors = {"_": [f"duplicates {report.outcomes[earlier_index].label} of the same batch"]}
                elif on_duplicate == "skip":
                    outcome.action = "skipped"
                else:
                    outcome.action = "merge"
            else:
                outcome.action = "create"
                for norm in norms:
                    seen_names.setdefault(norm, i)

    def _write(self, session: Session, targets: Sequence[Target], report: SaveReport, overwrite: tuple[bool, bool],
               source: str | None, progress: Callable[[int], None] | None) -> None:
        # Targets merged into an earlier one of the batch fold into it before writing.
        for outcome in report.outcomes:
            if outcome.action == "merge" and outcome.duplicate_of is not None:
                root: int = outcome.duplicate_of
                parent = report.outcomes[root].duplicate_of
                while report.outcomes[root].action == "merge" and parent is not None:
                    root, parent = parent, report.outcomes[parent].duplicate_of
                fold_into(targets[root], targets[outcome.index], *overwrite)
                outcome.action = "merged"
        now = self.tom.now()
        creating = [o.index for o in report.outcomes if o.action == "create"]
        if creating:
            self._insert(session, [targets[i] for i in creating], source, now, progress)
            for i in creating:
                report.outcomes[i].target = targets[i]
                report.outcomes[i].action = "created"
        updating = [o for o in report.outcomes if o.action == "update"]
        if updating:
            from tomcore.services.target_update import update_matched

            update_matched(self, session, targets, updating, overwrite[0], source, now, overwrite_extras=overwrite[1])
            if progress is not None:
                progress(len(updating))

    def _insert(self, session: Session, targets: list[Target], source: str | None, now: Any,
                progress: Callable[[int], None] | None) -> None:
        """Insert new targets with their names, extras and lists (bulk, driver level), in
        chunks (the progress bar moves per chunk)."""
        from tomcore.services.target_write import CHUNK as WRITE_CHUNK
        from tomcore.services.target_write import BulkWriter

        writer = BulkWriter(session)
        if len(targets) >= WRITE_CHUNK:
            writer.grow_cache()
        ids = writer.next_ids("targets", len(targets))
        for target, target_id in zip(targets, ids, strict=True):
            target.id = target_id
            target.created = target.modified = now
        stamp = writer.time(now)
        for start in range(0, len(targets), WRITE_CHUNK):
            chunk = targets[start:start + WRITE_CHUNK]
            self._insert_chunk(writer, chunk, source, stamp)
            if progress is not None:
                progress(len(chunk))
        memberships = {t.id: t.lists for t in targets if t.lists}
        if memberships:
            from tomcore.services.lists import add_memberships

            add_memberships(session, memberships, now)  # type: ignore[arg-type]

    @staticmethod
    def _insert_chunk(writer: Any, targets: list[Target], source: str | None, stamp: Any) -> None:
        import numpy as np

        from tomcore.services.sky import galactic, sky_columns
        from tomcore.services.target_write import EXTRA_COLUMNS, NAME_COLUMNS

        n = len(targets)
        getter = attrgetter(*WRITABLE)
        columns: dict[str, Any] = {"id": [t.id for t in targets]}
        columns.update(zip(WRITABLE, zip(*(getter(t) for t in targets), strict=True), strict=True))
        sidereal = [k for k, t in enumerate(targets) if t.ra is not None and t.dec is not None]
        if sidereal:
            ra = np.asarray([targets[k].ra for k in sidereal], dtype=float)
            dec = np.asarray([targets[k].dec for k in sidereal], dtype=float)
            sky = sky_columns(ra, dec)
            gl, gb = galactic(ra, dec)
            values = {"hpx": sky["hpx"].tolist(), "cx": sky["cx"].tolist(), "cy": sky["cy"].tolist(),
                      "cz": sky["cz"].tolist(), "galactic_lng": gl.tolist(), "galactic_lat": gb.tolist()}
            if len(sidereal) < n:
                for name, column in list(values.items()):
                    full: list[Any] = [None] * n
                    for k, v in zip(sidereal, column, strict=True):
                        full[k] = v
                    values[name] = full
            columns.update(values)
            gl_col, gb_col = values["galactic_lng"], values["galactic_lat"]
            for k, target in enumerate(targets):
                target.galactic_lng, target.galactic_lat = gl_col[k], gb_col[k]
        columns["created"] = columns["modified"] = [stamp] * n
        writer.insert_columns("targets", columns)
        name_rows = []
        for target in targets:
            name_rows.append((target.id, target.name, normalise_name(target.name), True, source, stamp))
            for alias in target.aliases:
                name_rows.append((target.id, alias, normalise_name(alias), False, source, stamp))
        writer.insert("target_names", NAME_COLUMNS, name_rows)
        writer.insert("target_extras", EXTRA_COLUMNS, writer.extra_rows((t.id, t.extras) for t in targets if t.extras))


def fold_into(keep: Target, other: Target, overwrite: bool, overwrite_extras: bool | None = None) -> None:
    """Merge ``other`` into ``keep`` in memory: names become aliases, fields, extras and
    lists are added (``overwrite`` replaces fields ``keep`` already has, ``overwrite_extras``
    its extras; default as ``overwrite``)."""
    if overwrite_extras is None:
        overwrite_extras = overwrite
    for name in other.names:
        if name != keep.name and name not in keep.aliases:
            keep.aliases.append(name)
    for field in (*NUMERIC_FIELDS, "scheme"):
        value = getattr(other, field)
        if value is not None and (overwrite or getattr(keep, field) is None):
            setattr(keep, field, value)
    for key, value in other.extras.items():
        if overwrite_extras or key not in keep.extras:
            keep.extras[key] = value
    for name in other.lists:
        if name not in keep.lists:
            keep.lists.append(name)
