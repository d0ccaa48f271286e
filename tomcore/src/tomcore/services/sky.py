"""The sky index: HEALPix pixel ranges for a cone, then an exact cut, in plain SQL.

Each sidereal target stores ``hpx``, its HEALPix NESTED index at order 29 (about 0.4 mas
cells, an ordinary BIGINT with a B-tree index), and ``cx, cy, cz``, its unit vector. A cone
search

1. covers the cone with HEALPix cells (cdshealpix's cone coverage, a superset: every cell
   touching the cone, possibly a few more), turned into a few ``[lo, hi]`` ranges of
   order-29 indices,
2. asks the database for rows with ``hpx BETWEEN lo AND hi`` (index range scans), and
3. keeps those whose chord distance to the centre is within the radius:
   ``(cx-x0)^2 + (cy-y0)^2 + (cz-z0)^2 <= (2 sin(r/2))^2``, exact for any radius, pole or
   RA wrap, and numerically stable for arcsecond radii.

The same SQL runs on SQLite and PostgreSQL, so both give the same answer. The property tests
(``tomcore/tests/test_sky_properties.py``) compare it with astropy on random skies dense at
both poles and across RA 0/360.

Many small cones of one radius (the positional matcher) use *neighbourhoods* instead: at a
depth whose cells are wider than the radius everywhere on the sphere, a cone centred in a
cell lies inside that cell and its (up to 8) neighbours. The widths are the smallest
edge-to-opposite-edge distances of HEALPix cells per depth (the table
``SMALLER_EDGE2OPEDGE_DIST`` of the cdshealpix Rust crate, which uses it for the same
purpose); :func:`neighbourhood_depth` keeps a 10% margin.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy import ColumnElement, Select

#: The order of the stored index.
INDEX_ORDER = 29
#: Number of order-29 cells on the sphere.
NPIX = 12 * 4**INDEX_ORDER
#: Maximum number of ranges a cone query sends (coarser cells beyond that).
MAX_RANGES = 24

#: Smallest distance (radians) between an edge of a HEALPix cell and the opposite edge, per
#: depth 0..21 (cdshealpix's ``SMALLER_EDGE2OPEDGE_DIST``); deeper, it halves per depth.
_MIN_WIDTH = (
    8.410686705679302e-1, 3.7723631722170065e-1, 1.8203364957037313e-1, 8.91145416330163e-2,
    4.3989734509169175e-2, 2.1817362566054977e-2, 1.0854009694242892e-2, 5.409888140793663e-3,
    2.6995833266547898e-3, 1.3481074874673246e-3, 6.735240905806414e-4, 3.365953703015157e-4,
    1.682452196838741e-4, 8.410609042173736e-5, 4.204784317861652e-5, 2.1022283297961136e-5,
    1.0510625670060442e-5, 5.255150320257332e-6, 2.6275239729465538e-6, 1.3137458638808036e-6,
    6.568678535571394e-7, 3.284323270983175e-7,
)
#: Fraction of the smallest width a neighbourhood radius may use (a safety margin).
_WIDTH_MARGIN = 0.9


def min_cell_width_deg(depth: int) -> float:
    """A lower bound on the width of every HEALPix cell at ``depth``, in degrees."""
    if depth < len(_MIN_WIDTH):
        return math.degrees(_MIN_WIDTH[depth])
    last = len(_MIN_WIDTH) - 1
    return math.degrees(_MIN_WIDTH[last]) / 2.0 ** (depth - last) * 0.999


def unit_vectors(ra: Any, dec: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors of positions in degrees (arrays or scalars)."""
    ra_r = np.radians(np.asarray(ra, dtype=float))
    dec_r = np.radians(np.asarray(dec, dtype=float))
    cos_dec = np.cos(dec_r)
    return cos_dec * np.cos(ra_r), cos_dec * np.sin(ra_r), np.sin(dec_r)


def hpx_index(ra: Any, dec: Any, order: int = INDEX_ORDER) -> np.ndarray:
    """HEALPix NESTED indices at ``order`` of positions in degrees (vectorised).

    Calls cdshealpix's compiled function on plain arrays in radians: the same results as
    ``cdshealpix.nested.lonlat_to_healpix`` with astropy angles, without building them
    (which cost more than the computation for the few positions of a typical call).
    """
    from cdshealpix import cdshealpix as _low

    lon = np.radians(np.atleast_1d(np.asarray(ra, dtype=float)))
    lat = np.radians(np.atleast_1d(np.asarray(dec, dtype=float)))
    if lon.size == 0:
        return np.zeros(0, dtype=np.int64)
    if lon.shape != lat.shape:
        raise ValueError("ra and dec have different lengths")
    if not (0 <= order <= INDEX_ORDER):
        raise ValueError(f"HEALPix order {order} is outside [0, {INDEX_ORDER}]")
    if not np.all(np.abs(lat) <= np.pi / 2):  # what astropy's Latitude would refuse
        raise ValueError("a latitude is outside [-90, 90] degrees or NaN")
    lon = np.mod(lon, 2.0 * np.pi) if np.any((lon < 0) | (lon >= 2.0 * np.pi)) else lon
    ipix = np.empty(lon.shape, dtype=np.uint64)
    dx, dy = np.empty(lon.shape), np.empty(lon.shape)
    _low.lonlat_to_healpix(np.full(lon.shape, order, dtype=np.uint8), np.ascontiguousarray(lon),
                           np.ascontiguousarray(lat), ipix, dx, dy, np.uint16(_threads(lon.size)))
    return ipix.astype(np.int64)


def _threads(n: int) -> int:
    """Threads for a cdshealpix call: one for small arrays (a thread pool costs more than
    it saves there), else cdshealpix's choice (0)."""
    return 1 if n < 100_000 else 0


def neighbour_cells(cells: np.ndarray, depth: int) -> np.ndarray:
    """The ``(n, 9)`` array of each cell and its neighbours at ``depth`` (-1 where a cell
    has only 7), from cdshealpix's compiled function."""
    from cdshealpix import cdshealpix as _low

    ipix = np.ascontiguousarray(np.atleast_1d(cells), dtype=np.uint64)
    out = np.zeros((*ipix.shape, 9), dtype=np.int64)
    if ipix.size:
        _low.neighbours(np.uint8(depth), ipix, out, np.uint16(_threads(ipix.size)))
    return out


def sky_columns(ra: Sequence[float] | np.ndarray, dec: Sequence[float] | np.ndarray) -> dict[str, np.ndarray]:
    """The stored sky columns (``hpx``, ``cx``, ``cy``, ``cz``) for positions in degrees."""
    cx, cy, cz = unit_vectors(ra, dec)
    return {"hpx": hpx_index(ra, dec), "cx": np.atleast_1d(cx), "cy": np.atleast_1d(cy), "cz": np.atleast_1d(cz)}


def galactic(ra: Sequence[float] | np.ndarray, dec: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Galactic longitude and latitude (degrees) of ICRS positions (vectorised)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    ra_a = np.atleast_1d(np.asarray(ra, dtype=float))
    if ra_a.size == 0:
        return np.zeros(0), np.zeros(0)
    coords = SkyCoord(ra=ra_a * u.deg, dec=np.atleast_1d(np.asarray(dec, dtype=float)) * u.deg, frame="icrs").galactic
    return np.asarray(coords.l.deg), np.asarray(coords.b.deg)


def chord2(radius_deg: float) -> float:
    """The squared chord length of an angle in degrees (the exact-cut threshold)."""
    half = math.radians(min(radius_deg, 180.0)) / 2.0
    return (2.0 * math.sin(half)) ** 2


def separation_deg(ra1: Any, dec1: Any, ra2: Any, dec2: Any) -> np.ndarray:
    """Great-circle separation in degrees (Vincenty formula, as astropy; vectorised)."""
    l1, b1, l2, b2 = (np.radians(np.asarray(v, dtype=float)) for v in (ra1, dec1, ra2, dec2))
    dl = l2 - l1
    sin_dl, cos_dl = np.sin(dl), np.cos(dl)
    sin_b1, cos_b1, sin_b2, cos_b2 = np.sin(b1), np.cos(b1), np.sin(b2), np.cos(b2)
    num1 = cos_b2 * sin_dl
    num2 = cos_b1 * sin_b2 - sin_b1 * cos_b2 * cos_dl
    denominator = sin_b1 * sin_b2 + cos_b1 * cos_b2 * cos_dl
    return np.degrees(np.arctan2(np.hypot(num1, num2), denominator))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy 2's hash-based unique is much slower on
    large integer arrays)."""
    ordered = np.sort(np.asarray(values).reshape(-1), kind="stable")
    if ordered.size == 0:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def merge_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, non-overlapping, non-adjacent ranges covering the given inclusive ranges."""
    if lo.size == 0:
        return lo.astype(np.int64), hi.astype(np.int64)
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order].astype(np.int64), hi[order].astype(np.int64)
    run_hi = np.maximum.accumulate(hi)
    # a new range starts where lo is beyond everything before it (+1: adjacent ranges join)
    starts = np.ones(lo.size, dtype=bool)
    starts[1:] = lo[1:] > run_hi[:-1] + 1
    idx = np.nonzero(starts)[0]
    ends = np.append(idx[1:] - 1, lo.size - 1)
    return lo[idx], run_hi[ends]


def cells_to_ranges(cells: np.ndarray, depth: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merged order-29 ``(lo, hi)`` ranges covering HEALPix cells at ``depth`` (scalar or per cell)."""
    cells = np.asarray(cells, dtype=np.int64)
    shift = 2 * (INDEX_ORDER - np.asarray(depth, dtype=np.int64))
    return merge_ranges(cells << shift, ((cells + 1) << shift) - 1)


def _cone_depth(radius_deg: float) -> int:
    # Cells about a quarter of the radius across keep the covered area close to the cone.
    # Mean cell size at depth d: sqrt(4 pi / (12 * 4**d)) rad, about 58.6 / 2**d degrees.
    if radius_deg <= 0:
        return INDEX_ORDER
    depth = math.floor(math.log2(58.6 / max(radius_deg / 4.0, 1e-9)))
    return max(0, min(INDEX_ORDER, depth))


#: Cells deeper than the coverage depth that cdshealpix refines the cone with.
_DEPTH_DELTA = 2


def cone_ranges(ra: float, dec: float, radius_deg: float, max_ranges: int = MAX_RANGES) -> list[tuple[int, int]]:
    """Order-29 index ranges covering a cone (a superset of it, never missing any point).

    cdshealpix's cone coverage is approximate in both directions: the property tests found
    it leaving out a cell that the cone overlaps by 9" near the south pole. So the coverage
    is asked for a cone wider by two mean cell sizes of its finest depth: every cell
    touching the real cone then lies wholly inside the wider one. The exact cut removes the
    few extra rows this reads.
    """
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix.nested import cone_search

    radius = max(radius_deg, 1e-7)
    depth = _cone_depth(radius)
    lon, lat = Longitude(ra, unit=u.deg), Latitude(dec, unit=u.deg)
    while True:
        margin = 2.0 * 58.6 / 2 ** (depth + _DEPTH_DELTA)
        if radius + margin >= 90.0:
            return [(0, NPIX - 1)]
        ipix, depths, _full = cone_search(lon, lat, (radius + margin) * u.deg, depth=depth, depth_delta=_DEPTH_DELTA)
        lo, hi = cells_to_ranges(np.asarray(ipix, dtype=np.int64), np.asarray(depths, dtype=np.int64))
        if lo.size <= max_ranges or depth == 0:
            return list(zip(lo.tolist(), hi.tolist(), strict=True))
        depth -= 1


def neighbourhood_depth(radius_deg: float) -> int:
    """The deepest HEALPix depth at which any cone of ``radius_deg`` lies inside the cell of
    its centre and that cell's neighbours; -1 when no depth does (radius over ~43 degrees)."""
    for depth in range(INDEX_ORDER, -1, -1):
        if radius_deg <= _WIDTH_MARGIN * min_cell_width_deg(depth):
            return depth
    return -1


def neighbourhoods(ra: Any, dec: Any, radius_deg: float) -> tuple[int, np.ndarray, np.ndarray]:
    """``(depth, cells, around)``: each position's cell at the neighbourhood depth of
    ``radius_deg`` and the ``(n, 9)`` array of that cell and its neighbours (-1 where a
    cell has only 7). Depth -1 (huge radius): every cell is 0 and ``around`` is all 0."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    depth = neighbourhood_depth(radius_deg)
    if depth < 0 or ra.size == 0:
        return depth, np.zeros(ra.size, dtype=np.int64), np.zeros((ra.size, 1), dtype=np.int64)
    cells = hpx_index(ra, dec, order=depth)
    around = neighbour_cells(cells, depth)
    return depth, cells, around


def neighbourhood_ranges(ra: np.ndarray, dec: np.ndarray, radius_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For many small cones of one radius: ``(query index, lo, hi)`` arrays of order-29
    ranges, each query covered by its cell and the cells around it at
    :func:`neighbourhood_depth`. Vectorised."""
    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    depth, _cells, around = neighbourhoods(ra, dec, radius_deg)
    if depth < 0:
        n = ra.size
        return np.arange(n), np.zeros(n, dtype=np.int64), np.full(n, NPIX - 1, dtype=np.int64)
    query = np.repeat(np.arange(ra.size), around.shape[1])
    flat = around.reshape(-1)
    keep = flat >= 0
    query, flat = query[keep], flat[keep]
    shift = 2 * (INDEX_ORDER - depth)
    return query, flat << shift, ((flat + 1) << shift) - 1


def _expand(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for each pair (vectorised)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + (np.arange(total) - offsets)


def cross_match(
    q_ra: Any, q_dec: Any, cx: np.ndarray, cy: np.ndarray, cz: np.ndarray, cell: np.ndarray | None,
    radius_deg: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(query index, row index)`` within ``radius_deg``, in memory.

    The rows are given by their unit vectors and, optionally, their HEALPix cells at the
    neighbourhood depth (computed from the vectors' positions when None would be needed,
    pass ``cell`` from the stored ``hpx`` to save the work). Exact chord cut; vectorised.
    """
    q_ra = np.atleast_1d(np.asarray(q_ra, dtype=float))
    q_dec = np.atleast_1d(np.asarray(q_dec, dtype=float))
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if q_ra.size == 0 or cx.size == 0:
        return empty
    depth, _cells, around = neighbourhoods(q_ra, q_dec, radius_deg)
    if depth < 0:
        qi = np.repeat(np.arange(q_ra.size), cx.size)
        ri = np.tile(np.arange(cx.size), q_ra.size)
    else:
        if cell is None:
            raise ValueError("cross_match needs the rows' cells at the neighbourhood depth")
        width = around.shape[1]
        q_of = np.repeat(np.arange(q_ra.size), width)
        flat = around.reshape(-1)
        keep = flat >= 0
        q_of, flat = q_of[keep], flat[keep]
        order = np.argsort(flat, kind="stable")
        flat, q_of = flat[order], q_of[order]
        lo = np.searchsorted(flat, cell, side="left")
        hi = np.searchsorted(flat, cell, side="right")
        counts = hi - lo
        ri = np.repeat(np.arange(cell.size), counts)
        qi = q_of[_expand(lo, counts)]
    if qi.size == 0:
        return empty
    qx, qy, qz = unit_vectors(q_ra, q_dec)
    d2 = (cx[ri] - qx[qi]) ** 2 + (cy[ri] - qy[qi]) ** 2 + (cz[ri] - qz[qi]) ** 2
    inside = d2 <= chord2(radius_deg)
    qi, ri = qi[inside], ri[inside]
    # a row can be reached twice through cells seen from both sides near a pole: dedupe
    if qi.size:
        key = sorted_unique(qi.astype(np.int64) * (cx.size + 1) + ri)
        qi, ri = key // (cx.size + 1), key % (cx.size + 1)
    return qi, ri


def cells_at(hpx: np.ndarray, depth: int) -> np.ndarray:
    """The cells at ``depth`` (>= 0) holding order-29 indices ``hpx``."""
    return np.asarray(hpx, dtype=np.int64) >> (2 * (INDEX_ORDER - depth))


_PARAM_IDS = itertools.count()


def cone_filter(table: Any, ra: float, dec: float, radius_deg: float) -> ColumnElement[bool]:
    """A WHERE clause selecting rows of ``table`` (with hpx, cx, cy, cz) inside a cone.

    Plain SQL text with bound parameters: building and compiling two dozen SQLAlchemy
    expressions per search cost more than the indexed search itself.
    """
    from sqlalchemy import text

    name = getattr(table, "__tablename__", None) or table.name
    tag = f"tc{next(_PARAM_IDS) % 1000000}"
    ranges = cone_ranges(ra, dec, radius_deg)
    x0, y0, z0 = (float(v) for v in unit_vectors(ra, dec))
    params: dict[str, Any] = {f"{tag}x": x0, f"{tag}y": y0, f"{tag}z": z0, f"{tag}r": chord2(radius_deg)}
    parts = []
    for k, (lo, hi) in enumerate(ranges):
        parts.append(f"{name}.hpx BETWEEN :{tag}l{k} AND :{tag}h{k}")
        params[f"{tag}l{k}"], params[f"{tag}h{k}"] = int(lo), int(hi)
    exact = (f"(({name}.cx - :{tag}x) * ({name}.cx - :{tag}x) + ({name}.cy - :{tag}y) * ({name}.cy - :{tag}y)"
             f" + ({name}.cz - :{tag}z) * ({name}.cz - :{tag}z)) <= :{tag}r")
    return text(f"({' OR '.join(parts)}) AND {exact}").bindparams(**params)  # type: ignore[return-value]


def apply_cone(query: Select[Any], table: Any, ra: float, dec: float, radius_deg: float) -> Select[Any]:
    """``query`` restricted to a cone around (ra, dec)."""
    return query.where(cone_filter(table, ra, dec, radius_deg))
