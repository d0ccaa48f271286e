"""The one matcher: "is this a target we already have?"

Manual creation, bulk import, broker ingest and catalog creation all ask this module. A
target matches an existing one

* by name: any of its names, normalised (:func:`tomcore.domain.targets.normalise_name`),
  equals a normalised name or alias of the other; one indexed ``IN`` query per batch;
* by position: the two are within the match radius (``matcher.radius_arcsec``, default
  2"); HEALPix neighbourhood ranges joined to the ``hpx`` index per batch, then an exact cut.

It never scans all targets, and it decides nothing: it returns the candidates with how they
matched and their separation, and the caller chooses (update, skip, refuse).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from tomcore.domain.targets import Target, normalise_name

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom

NAME_CHUNK = 900


@attrs.frozen
class MatchCandidate:
    """An existing target that may be the same object.

    :param by: how it matched: ``("name",)``, ``("position",)`` or both.
    :param matched_name: the existing name or alias that matched, for name matches.
    :param separation_arcsec: the distance between the two positions, when both have one.
    """

    target_id: int
    name: str
    by: tuple[str, ...]
    matched_name: str | None = None
    separation_arcsec: float | None = None

    @property
    def by_name(self) -> bool:
        return "name" in self.by


def fill_ranges(session: Session, query: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Any:
    """Put ``(query, lo, hi)`` index ranges in the connection's temporary table
    ``tom_ranges`` (emptied first) and return it for joining.

    A temporary table filled with the driver's executemany is much faster than a VALUES
    clause for thousands of ranges, and works the same on SQLite and PostgreSQL.
    """
    from sqlalchemy import BigInteger, Integer, column, table, text

    connection = session.connection()
    connection.execute(text(
        "CREATE TEMPORARY TABLE IF NOT EXISTS tom_ranges (q INTEGER NOT NULL, lo BIGINT NOT NULL, hi BIGINT NOT NULL)"
    ))
    connection.execute(text("DELETE FROM tom_ranges"))
    ranges = table("tom_ranges", column("q", Integer), column("lo", BigInteger), column("hi", BigInteger))
    rows = [{"q": q, "lo": a, "hi": b} for q, a, b in zip(query.tolist(), lo.tolist(), hi.tolist(), strict=True)]
    if rows:
        connection.execute(ranges.insert(), rows)
    return ranges


class Matcher:
    """Find existing targets matching new ones, in batches."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    @property
    def radius_arcsec(self) -> float:
        return float(self.tom.settings.get("matcher", "radius_arcsec"))

    # -- primitives ----------------------------------------------------------------------------

    def by_names(self, session: Session, names: Iterable[str]) -> dict[str, list[tuple[int, str, str]]]:
        """Normalised name -> ``[(target id, primary name, matching name)]`` for every
        existing target having a name or alias with that normalised form."""
        from sqlalchemy import select

        from tomcore.store.models import TargetNameRow, TargetRow

        norms = sorted({normalise_name(n) for n in names if n})
        found: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for start in range(0, len(norms), NAME_CHUNK):
            chunk = norms[start:start + NAME_CHUNK]
            rows = session.execute(
                select(TargetNameRow.norm, TargetNameRow.target_id, TargetRow.name, TargetNameRow.name)
                .join(TargetRow, TargetRow.id == TargetNameRow.target_id)
                .where(TargetNameRow.norm.in_(chunk))
            )
            for norm, target_id, primary, matched in rows:
                found[norm].append((target_id, primary, matched))
        return found

    def by_positions(
        self, session: Session, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float | None = None
    ) -> list[list[tuple[int, str, float]]]:
        """For each position: ``[(target id, name, separation arcsec)]`` within the radius,
        nearest first."""
        from sqlalchemy import select

        from tomcore.services.sky import chord2, neighbourhood_ranges, separation_deg, unit_vectors
        from tomcore.store.models import TargetRow

        ra_a = np.asarray(ra, dtype=float)
        dec_a = np.asarray(dec, dtype=float)
        results: list[list[tuple[int, str, float]]] = [[] for _ in range(ra_a.size)]
        if ra_a.size == 0:
            return results
        radius = self.radius_arcsec if radius_arcsec is None else radius_arcsec
        radius_deg = radius / 3600.0
        query, lo, hi = neighbourhood_ranges(ra_a, dec_a, radius_deg)
        qx, qy, qz = unit_vectors(ra_a, dec_a)
        limit = chord2(radius_deg)
        hits_q: list[int] = []
        hits: list[tuple[int, str, float, float, float, float, float]] = []
        ranges = fill_ranges(session, query, lo, hi)
        stmt = (
            select(ranges.c.q, TargetRow.id, TargetRow.name, TargetRow.ra, TargetRow.dec,
                   TargetRow.cx, TargetRow.cy, TargetRow.cz)
            .select_from(ranges)
            .join(TargetRow, TargetRow.hpx.between(ranges.c.lo, ranges.c.hi))
        )
        for q, tid, name, tra, tdec, cx, cy, cz in session.execute(stmt):
            hits_q.append(q)
            hits.append((tid, name, tra, tdec, cx, cy, cz))
        if not hits:
            return results
        q_idx = np.asarray(hits_q)
        tv = np.asarray([h[4:7] for h in hits], dtype=float)
        d2 = (tv[:, 0] - qx[q_idx]) ** 2 + (tv[:, 1] - qy[q_idx]) ** 2 + (tv[:, 2] - qz[q_idx]) ** 2
        inside = np.nonzero(d2 <= limit)[0]
        if inside.size:
            seps = separation_deg(
                ra_a[q_idx[inside]], dec_a[q_idx[inside]],
                [hits[i][2] for i in inside], [hits[i][3] for i in inside],
            ) * 3600.0
            seen: set[tuple[int, int]] = set()
            for i, sep in zip(inside.tolist(), seps.tolist(), strict=True):
                q = int(q_idx[i])
                tid, name = hits[i][0], hits[i][1]
                if (q, tid) not in seen:  # neighbouring cells can overlap at the poles
                    seen.add((q, tid))
                    results[q].append((tid, name, sep))
        for found in results:
            found.sort(key=lambda item: item[2])
        return results

    # -- the question --------------------------------------------------------------------------

    def match_many(
        self,
        targets: Sequence[Target],
        *,
        session: Session | None = None,
        radius_arcsec: float | None = None,
        exclude_ids: Iterable[int] = (),
    ) -> list[list[MatchCandidate]]:
        """Candidates for each target (existing targets only; ``exclude_ids`` left out).

        Name matches come first, then position matches by separation.
        """
        if session is None:
            with self.tom.db.session(readonly=True) as own:
                return self.match_many(targets, session=own, radius_arcsec=radius_arcsec, exclude_ids=exclude_ids)
        exclude = set(exclude_ids)
        name_hits = self.by_names(session, (n for t in targets for n in t.names))
        positioned = [i for i, t in enumerate(targets) if t.ra is not None and t.dec is not None]
        pos_hits = self.by_positions(
            session, [targets[i].ra for i in positioned], [targets[i].dec for i in positioned], radius_arcsec  # type: ignore[misc]
        )
        by_position = dict(zip(positioned, pos_hits, strict=True))
        results: list[list[MatchCandidate]] = []
        for index, target in enumerate(targets):
            found: dict[int, dict[str, Any]] = {}
            for name in target.names:
                for tid, primary, matched in name_hits.get(normalise_name(name), ()):
                    if tid not in exclude:
                        found.setdefault(tid, {"name": primary, "by": [], "matched": matched, "sep": None})
                        if "name" not in found[tid]["by"]:
                            found[tid]["by"].append("name")
            for tid, primary, sep in by_position.get(index, ()):
                if tid not in exclude:
                    entry = found.setdefault(tid, {"name": primary, "by": [], "matched": None, "sep": None})
                    entry["by"].append("position")
                    entry["sep"] = sep
            candidates = [
                MatchCandidate(tid, e["name"], tuple(e["by"]), e["matched"], e["sep"]) for tid, e in found.items()
            ]
            candidates.sort(key=lambda c: (not c.by_name, c.separation_arcsec if c.separation_arcsec is not None else 0.0))
            results.append(candidates)
        if any(t.ra is not None for t in targets):
            self._add_separations(session, targets, results)
        return results

    def match(self, target: Target, **kwargs: Any) -> list[MatchCandidate]:
        """Candidates for one target."""
        return self.match_many([target], **kwargs)[0]

    def _add_separations(self, session: Session, targets: Sequence[Target], results: list[list[MatchCandidate]]) -> None:
        """Fill in the separation of name matches that lie outside the radius (callers use
        it to refuse merging objects that are far apart)."""
        from sqlalchemy import select

        from tomcore.services.sky import separation_deg
        from tomcore.store.models import TargetRow

        missing = {c.target_id for t, cands in zip(targets, results, strict=True) if t.ra is not None
                   for c in cands if c.separation_arcsec is None}
        if not missing:
            return
        positions: dict[int, tuple[float, float]] = {}
        ids = sorted(missing)
        for start in range(0, len(ids), NAME_CHUNK):
            for tid, ra, dec in session.execute(
                select(TargetRow.id, TargetRow.ra, TargetRow.dec).where(TargetRow.id.in_(ids[start:start + NAME_CHUNK]))
            ):
                if ra is not None and dec is not None:
                    positions[tid] = (ra, dec)
        for target, cands in zip(targets, results, strict=True):
            if target.ra is None or target.dec is None:
                continue
            for i, cand in enumerate(cands):
                if cand.separation_arcsec is None and cand.target_id in positions:
                    ra, dec = positions[cand.target_id]
                    sep = float(separation_deg(target.ra, target.dec, ra, dec)) * 3600.0
                    cands[i] = attrs.evolve(cand, separation_arcsec=sep)
