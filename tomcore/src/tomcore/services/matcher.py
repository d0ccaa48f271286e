"""The one matcher: "is this a target we already have?"

Manual creation, bulk import, broker ingest and catalog creation all ask this module. A
target matches an existing one

* by name: any of its names, normalised (:func:`tomcore.domain.targets.normalise_name`),
  equals a normalised name or alias of the other; one indexed query per batch (the names go
  in as one array parameter: ``= ANY(...)`` on PostgreSQL, ``json_each`` on SQLite);
* by position: the two are within the match radius (``matcher.radius_arcsec``, default
  2"). The batch's HEALPix neighbourhoods (see :mod:`tomcore.services.sky`) become index
  ranges on ``targets.hpx``; the rows in them are cut exactly (chord distance) in numpy.

It never scans all targets, and it decides nothing: it returns the candidates with how they
matched and their separation, and the caller chooses (update, skip, refuse).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from tomcore.domain.targets import Target, normalise_name
from tomcore.services.target_write import driver_rows

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom

NAME_CHUNK = 20000
#: Ranges sent inline (``OR hpx BETWEEN``) up to this many; a temporary table beyond.
INLINE_RANGES = 40
#: Above this many ranges, a coarser depth is considered (fewer ranges, more rows read).
COARSEN_ABOVE = 2000
#: Cost of one range relative to one row read (see :func:`_plan_depth`).
RANGE_COST = 1.0


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


def normalised_names(targets: Sequence[Target]) -> list[list[str]]:
    """Each target's names (name, then aliases) normalised, for a batch: computed once
    (without :func:`normalise_name`'s cache, which a batch of unique names only churns)."""
    normalise = getattr(normalise_name, "__wrapped__", normalise_name)
    return [[normalise(t.name), *map(normalise, t.aliases)] if t.aliases else [normalise(t.name)] for t in targets]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def estimated_rows(session: Session, table: str = "targets") -> int:
    """A quick estimate of a table's row count (PostgreSQL statistics when present)."""
    connection = session.connection()
    if _dialect(session) == "postgresql":
        estimate = connection.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,)
        ).scalar()
        if estimate is not None and estimate >= 0:
            return int(estimate)
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)


def rows_in_ranges(session: Session, lo: np.ndarray, hi: np.ndarray, columns: str) -> list[tuple[Any, ...]]:
    """Rows of ``targets`` (``columns``, SQL) whose ``hpx`` lies in any ``[lo, hi]`` range.

    Few ranges go inline; many go through the connection's temporary table ``tom_ranges``
    (filled with the driver's executemany) joined with the ``hpx`` index.
    """
    if lo.size == 0:
        return []
    connection = session.connection()
    postgres = _dialect(session) == "postgresql"
    mark = "%s" if postgres else "?"
    if lo.size <= INLINE_RANGES:
        where = " OR ".join([f"t.hpx BETWEEN {mark} AND {mark}"] * lo.size)
        params = tuple(v for pair in zip(lo.tolist(), hi.tolist(), strict=True) for v in pair)
        return driver_rows(connection, f"SELECT {columns} FROM targets t WHERE {where}", params)
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS tom_ranges (lo BIGINT NOT NULL, hi BIGINT NOT NULL)"
    )
    connection.exec_driver_sql("DELETE FROM tom_ranges")
    pairs = list(zip(lo.tolist(), hi.tolist(), strict=True))
    if postgres:  # COPY: executemany costs a round trip's worth of work per row there
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy("COPY tom_ranges (lo, hi) FROM STDIN") as copy:
                for pair in pairs:
                    copy.write_row(pair)
        finally:
            cursor.close()
        connection.exec_driver_sql("ANALYZE tom_ranges")
    else:
        connection.exec_driver_sql(f"INSERT INTO tom_ranges (lo, hi) VALUES ({mark}, {mark})", pairs)
    if postgres:
        sql = f"SELECT {columns} FROM tom_ranges r JOIN targets t ON t.hpx BETWEEN r.lo AND r.hi"
    else:  # CROSS JOIN keeps SQLite's loop order: ranges outside, the hpx index inside
        sql = f"SELECT {columns} FROM tom_ranges r CROSS JOIN targets t WHERE t.hpx BETWEEN r.lo AND r.hi"
    return driver_rows(connection, sql)


def _plan_depth(around: np.ndarray, depth: int, n_rows: Any) -> int:
    """The depth at which to read the neighbourhood cells from the database: the finest
    (fewest rows read) unless its ranges are so many that reading the rows of coarser cells
    is cheaper. ``n_rows`` is called for the table's size only when it matters."""
    from tomcore.services.sky import sorted_unique

    cells = sorted_unique(around[around >= 0])
    ranges = 1 + int(np.count_nonzero(np.diff(cells) != 1))
    if ranges <= COARSEN_ABOVE:
        return depth
    total = n_rows()
    # a range costs a temporary-table row and an index probe (in the database's C code); a
    # row read costs its transfer and a Python tuple: about the same, measured on SQLite
    best, best_cost = depth, RANGE_COST * ranges + total * cells.size / (12 * 4**depth)
    d = depth
    while d > 0:
        d -= 1
        cells = cells >> 2
        cells = cells[np.r_[True, cells[1:] != cells[:-1]]]
        ranges = 1 + int(np.count_nonzero(np.diff(cells) != 1))
        cost = RANGE_COST * ranges + total * cells.size / (12 * 4**d)
        if cost < best_cost:
            best, best_cost = d, cost
        if cells.size >= 12 * 4**d:
            break
    return best


class Matcher:
    """Find existing targets matching new ones, in batches."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    @property
    def radius_arcsec(self) -> float:
        return float(self.tom.settings.get("matcher", "radius_arcsec"))

    # -- primitives ----------------------------------------------------------------------------

    def by_names(self, session: Session, names: Iterable[str], *,
                 normalised: bool = False) -> dict[str, list[tuple[int, str, str]]]:
        """Normalised name -> ``[(target id, primary name, matching name)]`` for every
        existing target having a name or alias with that normalised form (``normalised``:
        the names given are normalised already)."""
        norms = list({n for n in names if n} if normalised else {normalise_name(n) for n in names if n})
        found: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        if not norms:
            return found
        connection = session.connection()
        postgres = _dialect(session) == "postgresql"
        columns = "n.norm, n.target_id, t.name, n.name"
        for start in range(0, len(norms), NAME_CHUNK):
            chunk = norms[start:start + NAME_CHUNK]
            if postgres:
                rows = driver_rows(connection,
                                   f"SELECT {columns} FROM target_names n JOIN targets t ON t.id = n.target_id "
                                   "WHERE n.norm = ANY(%s)", (chunk,))
            else:  # the names outside, one index probe each (no temporary index of the batch)
                rows = driver_rows(connection,
                                   f"SELECT {columns} FROM json_each(?) j CROSS JOIN target_names n "
                                   "ON n.norm = j.value JOIN targets t ON t.id = n.target_id", (json.dumps(chunk),))
            for norm, target_id, primary, matched in rows:
                found[norm].append((int(target_id), primary, matched))
        return found

    def by_positions(
        self, session: Session, ra: Sequence[float], dec: Sequence[float], radius_arcsec: float | None = None
    ) -> list[list[tuple[int, str, float]]]:
        """For each position: ``[(target id, name, separation arcsec)]`` within the radius,
        nearest first."""
        from tomcore.services.sky import (
            cells_at,
            cells_to_ranges,
            cross_match,
            neighbourhoods,
            separation_deg,
            sorted_unique,
        )

        ra_a = np.atleast_1d(np.asarray(ra, dtype=float))
        dec_a = np.atleast_1d(np.asarray(dec, dtype=float))
        results: list[list[tuple[int, str, float]]] = [[] for _ in range(ra_a.size)]
        if ra_a.size == 0:
            return results
        radius = self.radius_arcsec if radius_arcsec is None else radius_arcsec
        radius_deg = radius / 3600.0
        depth, _cells, around = neighbourhoods(ra_a, dec_a, radius_deg)
        columns = "t.id, t.name, t.ra, t.dec, t.hpx, t.cx, t.cy, t.cz"
        rows: list[Any]
        if depth < 0:
            rows = driver_rows(session, f"SELECT {columns} FROM targets t WHERE t.hpx IS NOT NULL")
        else:
            read_depth = _plan_depth(around, depth, lambda: estimated_rows(session))
            cells = sorted_unique(around[around >= 0] >> (2 * (depth - read_depth)))
            lo, hi = cells_to_ranges(cells, read_depth)
            rows = rows_in_ranges(session, lo, hi, columns)
        if not rows:
            return results
        ids = [r[0] for r in rows]
        names = [r[1] for r in rows]
        data = np.asarray([r[2:] for r in rows], dtype=float)
        hpx = np.asarray([r[4] for r in rows], dtype=np.int64)
        qi, ri = cross_match(ra_a, dec_a, data[:, 3], data[:, 4], data[:, 5],
                             cells_at(hpx, depth) if depth >= 0 else None, radius_deg)
        if qi.size == 0:
            return results
        seps = separation_deg(ra_a[qi], dec_a[qi], data[ri, 0], data[ri, 1]) * 3600.0
        for q, r, sep in zip(qi.tolist(), ri.tolist(), seps.tolist(), strict=True):
            results[q].append((int(ids[r]), names[r], sep))
        for found in results:
            if len(found) > 1:
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
        norms: Sequence[Sequence[str]] | None = None,
    ) -> list[list[MatchCandidate]]:
        """Candidates for each target (existing targets only; ``exclude_ids`` left out).

        Name matches come first, then position matches by separation. ``norms``: each
        target's names normalised (:func:`normalised_names`), when the caller has them.
        """
        if session is None:
            with self.tom.db.session(readonly=True) as own:
                return self.match_many(targets, session=own, radius_arcsec=radius_arcsec, exclude_ids=exclude_ids,
                                       norms=norms)
        exclude = set(exclude_ids)
        if norms is None:
            norms = normalised_names(targets)
        name_hits = self.by_names(session, (n for names in norms for n in names), normalised=True)
        positioned = [i for i, t in enumerate(targets) if t.ra is not None and t.dec is not None]
        pos_hits = self.by_positions(
            session, [targets[i].ra for i in positioned], [targets[i].dec for i in positioned], radius_arcsec  # type: ignore[misc]
        )
        by_position = {i: hits for i, hits in zip(positioned, pos_hits, strict=True) if hits}
        results: list[list[MatchCandidate]] = []
        need_separation = False
        for index, target in enumerate(targets):
            if not name_hits and index not in by_position:
                results.append([])
                continue
            found: dict[int, dict[str, Any]] = {}
            if name_hits:
                for norm in norms[index]:
                    for tid, primary, matched in name_hits.get(norm, ()):
                        if tid not in exclude:
                            entry = found.setdefault(tid, {"name": primary, "by": [], "matched": matched, "sep": None})
                            if "name" not in entry["by"]:
                                entry["by"].append("name")
            for tid, primary, sep in by_position.get(index, ()):
                if tid not in exclude:
                    entry = found.setdefault(tid, {"name": primary, "by": [], "matched": None, "sep": None})
                    entry["by"].append("position")
                    entry["sep"] = sep
            if not found:
                results.append([])
                continue
            candidates = [
                MatchCandidate(tid, e["name"], tuple(e["by"]), e["matched"], e["sep"]) for tid, e in found.items()
            ]
            candidates.sort(key=lambda c: (not c.by_name, c.separation_arcsec if c.separation_arcsec is not None else 0.0))
            need_separation = need_separation or (target.ra is not None and any(c.separation_arcsec is None for c in candidates))
            results.append(candidates)
        if need_separation:
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
        for start in range(0, len(ids), 900):
            for tid, ra, dec in session.execute(
                select(TargetRow.id, TargetRow.ra, TargetRow.dec).where(TargetRow.id.in_(ids[start:start + 900]))
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
