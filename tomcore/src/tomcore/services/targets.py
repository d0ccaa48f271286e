"""Targets: look up, create and update, in batches, through the one matcher.

:meth:`TargetService.save` is the single write path for new targets: a hand-made target,
a row of an imported file, a broker's alert and a catalog entry all go through it. It checks
every target, asks the matcher about all of them at once (and about duplicates inside the
batch), decides per ``on_duplicate``, and writes the whole batch in one transaction with
bulk inserts, or writes nothing and reports every problem.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.extras import typed
from tomcore.domain.targets import MODEL_FIELDS, NUMERIC_FIELDS, Target, normalise_name, unique_names
from tomcore.errors import AmbiguousError, NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.services.matcher import MatchCandidate

ON_DUPLICATE = ("error", "skip", "update")
CHUNK = 900

#: Columns of ``targets`` written from a :class:`Target` (the rest are derived).
_WRITABLE = tuple(f for f in MODEL_FIELDS if f not in ("galactic_lng", "galactic_lat"))


@attrs.define
class SaveOutcome:
    """What happened to one target of a batch.

    :param action: ``created``, ``updated``, ``unchanged``, ``skipped`` or ``error``.
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
        counts = dict.fromkeys(("created", "updated", "unchanged", "skipped", "error"), 0)
        for outcome in self.outcomes:
            counts[outcome.action] += 1
        return counts


def _describe(candidate: MatchCandidate) -> str:
    parts = []
    if candidate.by_name:
        parts.append(f"by name {candidate.matched_name!r}" if candidate.matched_name != candidate.name else "by name")
    if "position" in candidate.by and candidate.separation_arcsec is not None:
        parts.append(f"{candidate.separation_arcsec:.2f}\" away")
    return f"{candidate.name!r} ({', '.join(parts)})"


class TargetService:
    """Targets of one TOM."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    def _session(self, session: Session | None, readonly: bool = False) -> Any:
        return nullcontext(session) if session is not None else self.tom.db.session(readonly=readonly)

    # -- reading -------------------------------------------------------------------------------

    def load(self, session: Session, ids: Iterable[int]) -> dict[int, Target]:
        """Targets by id, with aliases, extras and lists (three queries per 900 ids)."""
        from sqlalchemy import select

        from tomcore.store.models import (
            TargetExtraRow,
            TargetListMemberRow,
            TargetListRow,
            TargetNameRow,
            TargetRow,
        )

        wanted = sorted(set(ids))
        result: dict[int, Target] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            for row in session.execute(select(TargetRow).where(TargetRow.id.in_(chunk))).scalars():
                result[row.id] = row_to_target(row)
            for tid, name in session.execute(
                select(TargetNameRow.target_id, TargetNameRow.name)
                .where(TargetNameRow.target_id.in_(chunk), TargetNameRow.is_primary.is_(False))
                .order_by(TargetNameRow.id)
            ):
                result[tid].aliases.append(name)
            for extra in session.execute(
                select(TargetExtraRow).where(TargetExtraRow.target_id.in_(chunk)).order_by(TargetExtraRow.key)
            ).scalars():
                result[extra.target_id].extras[extra.key] = extra_value(extra)
            for tid, list_name in session.execute(
                select(TargetListMemberRow.target_id, TargetListRow.name)
                .join(TargetListRow, TargetListRow.id == TargetListMemberRow.list_id)
                .where(TargetListMemberRow.target_id.in_(chunk))
                .order_by(TargetListRow.name)
            ):
                result[tid].lists.append(list_name)
        return result

    def resolve_id(self, session: Session, name: str) -> int:
        """The id of the target called ``name`` (its name or an alias, exactly; else a
        unique normalised match). :class:`NotFoundError` or :class:`AmbiguousError`."""
        from sqlalchemy import select

        from tomcore.store.models import TargetNameRow, TargetRow

        text = name.strip()
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
        suggestion = ""
        like = session.execute(
            select(TargetRow.name).where(TargetRow.name.ilike(f"%{text[:20]}%")).order_by(TargetRow.name).limit(5)
        ).scalars().all()
        if like:
            suggestion = f" (did you mean {', '.join(like)}?)"
        raise NotFoundError(f"no target named {text!r}{suggestion}")

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
                f"matches existing target {', '.join(_describe(c) for c in outcome.candidates)}"]})
        return outcome.target

    def save(
        self,
        targets: Sequence[Target],
        *,
        on_duplicate: str = "error",
        overwrite: bool = True,
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
        :param skip_invalid: write the good targets and report the bad ones; by default
            any bad target means nothing is written and :class:`ValidationError` lists all.
        :param source: recorded on the names this batch adds (``alerce``, ``import``...).
        :param labels: how to name each target in errors (``line 12``); default its name.
        :param session: write in the caller's transaction; then no event is fired and the
            caller calls :meth:`emit` after committing.

        Targets created are updated in place: ``id``, ``created``, ``modified`` and the
        galactic coordinates are set.
        """
        if on_duplicate not in ON_DUPLICATE:
            raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}")
        labels = list(labels) if labels is not None else [t.name or f"target {i + 1}" for i, t in enumerate(targets)]
        report = SaveReport([SaveOutcome(i, labels[i], "pending") for i in range(len(targets))])
        for i, target in enumerate(targets):
            target.aliases = [a for a in unique_names(target.aliases) if a != target.name]
            problems = target.problems()
            if problems:
                report.outcomes[i].action = "error"
                report.outcomes[i].errors = problems
        owned = session is None
        with self._session(session) as s:
            self._decide(s, targets, report, on_duplicate, radius_arcsec)
            bad = report.errors
            if bad and not skip_invalid:
                raise ValidationError(
                    f"{len(bad)} of {len(targets)} targets cannot be saved; nothing was saved",
                    {f"{o.label}" + (f" {field}" if field != "_" else ""): reasons
                     for o in bad for field, reasons in o.errors.items()},
                )
            self._write(s, targets, report, overwrite, source, progress)
        if owned:
            self.emit(report)
        return report

    def emit(self, report: SaveReport) -> None:
        """Fire ``on_targets_created`` / ``on_targets_updated`` for a committed report."""
        if report.created:
            self.tom.emit("on_targets_created", targets=report.created)
        if report.updated:
            self.tom.emit("on_targets_updated", targets=report.updated)

    # -- the steps of save ---------------------------------------------------------------------

    def _decide(self, session: Session, targets: Sequence[Target], report: SaveReport,
                on_duplicate: str, radius_arcsec: float | None) -> None:
        from tomcore.services.sky import chord2, unit_vectors

        pending = [o.index for o in report.outcomes if o.action == "pending"]
        matches = self.tom.matcher.match_many([targets[i] for i in pending], session=session, radius_arcsec=radius_arcsec)
        radius = self.tom.matcher.radius_arcsec if radius_arcsec is None else radius_arcsec
        limit = chord2(radius / 3600.0)
        seen_names: dict[str, int] = {}
        cell_size = max(radius / 3600.0, 1e-6) * 2
        seen_cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        vectors: dict[int, tuple[float, float, float]] = {}
        for i, candidates in zip(pending, matches, strict=True):
            target, outcome = targets[i], report.outcomes[i]
            outcome.candidates = candidates
            # duplicates inside the batch: the first occurrence wins
            earlier = None
            for name in target.names:
                earlier = seen_names.get(normalise_name(name))
                if earlier is not None:
                    break
            cell = None
            if target.ra is not None and target.dec is not None:
                x, y, z = (float(v) for v in unit_vectors(target.ra, target.dec))
                vectors[i] = (x, y, z)
                cell = (math.floor(target.dec / cell_size), math.floor(target.ra * max(math.cos(math.radians(target.dec)), 1e-3) / cell_size))
                if earlier is None:
                    for dd in (-1, 0, 1):
                        for dr in (-1, 0, 1):
                            for j in seen_cells.get((cell[0] + dd, cell[1] + dr), ()):
                                xj, yj, zj = vectors[j]
                                if (x - xj) ** 2 + (y - yj) ** 2 + (z - zj) ** 2 <= limit:
                                    earlier = j
                                    break
                            if earlier is not None:
                                break
                        if earlier is not None:
                            break
            if candidates:
                if on_duplicate == "error":
                    outcome.action = "error"
                    outcome.errors = {"_": [f"matches existing target {'; '.join(_describe(c) for c in candidates)}"]}
                elif on_duplicate == "skip":
                    outcome.action = "skipped"
                elif len(candidates) > 1:
                    outcome.action = "error"
                    outcome.errors = {"_": [f"matches several existing targets: {'; '.join(_describe(c) for c in candidates)}"]}
                else:
                    outcome.action = "update"
            elif earlier is not None:
                outcome.duplicate_of = earlier
                if on_duplicate == "error":
                    outcome.action = "error"
                    outcome.errors = {"_": [f"duplicates {report.outcomes[earlier].label} of the same batch"]}
                elif on_duplicate == "skip":
                    outcome.action = "skipped"
                else:
                    outcome.action = "merge"
            else:
                outcome.action = "create"
            if outcome.action in ("create",):
                for name in target.names:
                    seen_names.setdefault(normalise_name(name), i)
                if cell is not None:
                    seen_cells[cell].append(i)

    def _write(self, session: Session, targets: Sequence[Target], report: SaveReport, overwrite: bool,
               source: str | None, progress: Callable[[int], None] | None) -> None:
        from sqlalchemy import insert

        from tomcore.services.sky import galactic, sky_columns
        from tomcore.store.models import TargetNameRow, TargetRow

        now = self.tom.now()
        # Targets merged into an earlier one of the batch fold into it before writing.
        for outcome in report.outcomes:
            if outcome.action == "merge" and outcome.duplicate_of is not None:
                root = outcome.duplicate_of
                while report.outcomes[root].action == "merge" and report.outcomes[root].duplicate_of is not None:
                    root = report.outcomes[root].duplicate_of
                fold_into(targets[root], targets[outcome.index], overwrite)
                outcome.action = "merged"

        creating = [o.index for o in report.outcomes if o.action == "create"]
        if creating:
            sidereal = [i for i in creating if targets[i].ra is not None and targets[i].dec is not None]
            ra = [targets[i].ra for i in sidereal]
            dec = [targets[i].dec for i in sidereal]
            sky = sky_columns(ra, dec)
            gl, gb = galactic(ra, dec)
            derived = {
                i: {"hpx": int(sky["hpx"][k]), "cx": float(sky["cx"][k]), "cy": float(sky["cy"][k]),
                    "cz": float(sky["cz"][k]), "galactic_lng": float(gl[k]), "galactic_lat": float(gb[k])}
                for k, i in enumerate(sidereal)
            }
            empty = {"hpx": None, "cx": None, "cy": None, "cz": None, "galactic_lng": None, "galactic_lat": None}
            rows = []
            for i in creating:
                target = targets[i]
                row = {f: getattr(target, f) for f in _WRITABLE}
                row.update(derived.get(i, empty))
                row["created"] = row["modified"] = now
                rows.append(row)
            ids = session.connection().execute(
                insert(TargetRow.__table__).returning(TargetRow.id, sort_by_parameter_order=True), rows
            ).scalars().all()
            name_rows = []
            for i, target_id in zip(creating, ids, strict=True):
                target = targets[i]
                target.id = int(target_id)
                target.created = target.modified = now
                values = derived.get(i)
                if values is not None:
                    target.galactic_lng, target.galactic_lat = values["galactic_lng"], values["galactic_lat"]
                name_rows.append({"target_id": target.id, "name": target.name, "norm": normalise_name(target.name),
                                  "is_primary": True, "source": source, "created": now})
                for alias in target.aliases:
                    name_rows.append({"target_id": target.id, "name": alias, "norm": normalise_name(alias),
                                      "is_primary": False, "source": source, "created": now})
                report.outcomes[i].target = target
                report.outcomes[i].action = "created"
            session.connection().execute(insert(TargetNameRow.__table__), name_rows)
            self._write_extras(session, {targets[i].id: targets[i].extras for i in creating if targets[i].extras})  # type: ignore[misc]
            self._write_lists(session, {targets[i].id: targets[i].lists for i in creating if targets[i].lists})  # type: ignore[misc]
            if progress is not None:
                progress(len(creating))

        updating = [o for o in report.outcomes if o.action == "update"]
        if updating:
            self._update(session, targets, updating, overwrite, source, now)
            if progress is not None:
                progress(len(updating))

    def _update(self, session: Session, targets: Sequence[Target], outcomes: list[SaveOutcome], overwrite: bool,
                source: str | None, now: Any) -> None:
        from sqlalchemy import insert, select

        from tomcore.services.sky import galactic, sky_columns
        from tomcore.store.models import TargetNameRow, TargetRow

        ids = [o.candidates[0].target_id for o in outcomes]
        existing = self.load(session, ids)
        rows = {r.id: r for r in session.execute(select(TargetRow).where(TargetRow.id.in_(ids))).scalars()}
        taken = {
            name for (name,) in session.execute(
                select(TargetNameRow.name).where(TargetNameRow.name.in_(
                    [n for o in outcomes for n in targets[o.index].names]))
            )
        }
        new_names = []
        changed_ids = []
        for outcome in outcomes:
            incoming, tid = targets[outcome.index], outcome.candidates[0].target_id
            current, row = existing[tid], rows[tid]
            changed = False
            for field in ("type", *NUMERIC_FIELDS, "scheme"):
                value = getattr(incoming, field)
                if field == "type" and value == "SIDEREAL" and incoming.ra is None:
                    continue  # a bare name carries no type
                if value is not None and value != getattr(current, field) and (overwrite or getattr(current, field) is None):
                    setattr(row, field, value)
                    changed = True
            if changed and row.ra is not None and row.dec is not None:
                sky = sky_columns([row.ra], [row.dec])
                row.hpx, row.cx, row.cy, row.cz = int(sky["hpx"][0]), float(sky["cx"][0]), float(sky["cy"][0]), float(sky["cz"][0])
                gl, gb = galactic([row.ra], [row.dec])
                row.galactic_lng, row.galactic_lat = float(gl[0]), float(gb[0])
            for name in incoming.names:
                if name not in taken and name not in current.names:
                    taken.add(name)
                    new_names.append({"target_id": tid, "name": name, "norm": normalise_name(name),
                                      "is_primary": False, "source": source, "created": now})
                    changed = True
            extras = {k: v for k, v in incoming.extras.items()
                      if current.extras.get(k) != v and (overwrite or k not in current.extras)}
            if extras:
                self._write_extras(session, {tid: extras}, replace=True)
                changed = True
            new_lists = [name for name in incoming.lists if name not in current.lists]
            if new_lists:
                self._write_lists(session, {tid: new_lists})
                changed = True
            if changed:
                row.modified = now
                changed_ids.append(tid)
            outcome.action = "updated" if changed else "unchanged"
        if new_names:
            session.connection().execute(insert(TargetNameRow.__table__), new_names)
        session.flush()
        fresh = self.load(session, ids)
        for outcome in outcomes:
            outcome.target = fresh[outcome.candidates[0].target_id]

    def _write_extras(self, session: Session, extras: dict[int, dict[str, Any]], replace: bool = False) -> None:
        from sqlalchemy import delete, insert, tuple_

        from tomcore.store.models import TargetExtraRow

        rows = []
        for tid, values in extras.items():
            for key, value in values.items():
                if value is None:
                    continue
                tv = typed(value)
                rows.append({"target_id": tid, "key": key, "value_type": tv.type, "value_text": tv.text,
                             "value_num": tv.num, "value_bool": tv.flag, "value_time": tv.time})
        if not rows:
            return
        if replace:
            keys = [(r["target_id"], r["key"]) for r in rows]
            for start in range(0, len(keys), CHUNK):
                session.execute(delete(TargetExtraRow).where(
                    tuple_(TargetExtraRow.target_id, TargetExtraRow.key).in_(keys[start:start + CHUNK])))
        session.connection().execute(insert(TargetExtraRow.__table__), rows)

    def _write_lists(self, session: Session, memberships: dict[int, list[str]]) -> None:
        from sqlalchemy import insert, select

        from tomcore.store.models import TargetListMemberRow, TargetListRow

        names = sorted({n for lists in memberships.values() for n in lists})
        if not names:
            return
        ids = dict(session.execute(select(TargetListRow.name, TargetListRow.id).where(TargetListRow.name.in_(names))).all())
        missing = [n for n in names if n not in ids]
        if missing:
            now = self.tom.now()
            for name, lid in zip(missing, session.execute(
                insert(TargetListRow).returning(TargetListRow.id, sort_by_parameter_order=True),
                [{"name": n, "created": now, "modified": now} for n in missing],
            ).scalars().all(), strict=True):
                ids[name] = lid
        existing = set(session.execute(
            select(TargetListMemberRow.list_id, TargetListMemberRow.target_id)
            .where(TargetListMemberRow.target_id.in_(list(memberships)))
        ).tuples()) if len(memberships) < CHUNK else set()
        rows = [{"list_id": ids[n], "target_id": tid} for tid, lists in memberships.items()
                for n in dict.fromkeys(lists) if (ids[n], tid) not in existing]
        if rows:
            session.connection().execute(insert(TargetListMemberRow.__table__), rows)


def fold_into(keep: Target, other: Target, overwrite: bool) -> None:
    """Merge ``other`` into ``keep`` in memory: names become aliases, fields, extras and
    lists are added (``overwrite`` replaces fields ``keep`` already has)."""
    for name in other.names:
        if name != keep.name and name not in keep.aliases:
            keep.aliases.append(name)
    for field in (*NUMERIC_FIELDS, "scheme"):
        value = getattr(other, field)
        if value is not None and (overwrite or getattr(keep, field) is None):
            setattr(keep, field, value)
    for key, value in other.extras.items():
        if overwrite or key not in keep.extras:
            keep.extras[key] = value
    for name in other.lists:
        if name not in keep.lists:
            keep.lists.append(name)


def row_to_target(row: Any) -> Target:
    """A :class:`Target` (without aliases, extras and lists) from a ``targets`` row."""
    values = {f: getattr(row, f) for f in MODEL_FIELDS}
    return Target(id=row.id, created=row.created, modified=row.modified, **values)


def extra_value(row: Any) -> Any:
    if row.value_type == "number":
        number = row.value_num
        return int(number) if number is not None and number.is_integer() and "." not in row.value_text and "e" not in row.value_text.lower() else number
    if row.value_type == "boolean":
        return row.value_bool
    if row.value_type == "datetime":
        return row.value_time
    return row.value_text
