"""The sky index: HEALPix pixel ranges for a cone, then an exact cut, in plain SQL.

Each sidereal target stores ``hpx``, its HEALPix NESTED index at order 29 (about 0.4 mas
cells, an ordinary BIGINT with a B-tree index), and ``cx, cy, cz``, its unit vector. A cone
search

1. covers the cone with HEALPix cells (cdshealpix, conservative: every cell touching the
   cone), turned into a few ``[lo, hi]`` ranges of order-29 indices,
2. asks the database for rows with ``hpx BETWEEN lo AND hi`` (index range scans), and
3. keeps those whose chord distance to the centre is within the radius:
   ``(cx-x0)^2 + (cy-y0)^2 + (cz-z0)^2 <= (2 sin(r/2))^2``, exact for any radius, pole or
   RA wrap, and numerically stable for arcsecond radii.

The same SQL runs on SQLite and PostgreSQL, so both give the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy import ColumnElement, Select

#: The order of the stored index.
INDEX_ORDER = 29
#: Maximum number of ranges a cone query sends (coarser cells beyond that).
MAX_RANGES = 24


def unit_vectors(ra: Any, dec: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors of positions in degrees (arrays or scalars)."""
    ra_r = np.radians(np.asarray(ra, dtype=float))
    dec_r = np.radians(np.asarray(dec, dtype=float))
    cos_dec = np.cos(dec_r)
    return cos_dec * np.cos(ra_r), cos_dec * np.sin(ra_r), np.sin(dec_r)


def hpx_index(ra: Any, dec: Any, order: int = INDEX_ORDER) -> np.ndarray:
    """HEALPix NESTED indices at ``order`` of positions in degrees (vectorised)."""
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix.nested import lonlat_to_healpix

    ra_a = np.atleast_1d(np.asarray(ra, dtype=float))
    dec_a = np.atleast_1d(np.asarray(dec, dtype=float))
    if ra_a.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(
        lonlat_to_healpix(Longitude(ra_a, unit=u.deg), Latitude(dec_a, unit=u.deg), order), dtype=np.int64
    )


def sky_columns(ra: Sequence[float], dec: Sequence[float]) -> dict[str, np.ndarray]:
    """The stored sky columns (``hpx``, ``cx``, ``cy``, ``cz``) for positions in degrees."""
    cx, cy, cz = unit_vectors(ra, dec)
    return {"hpx": hpx_index(ra, dec), "cx": np.atleast_1d(cx), "cy": np.atleast_1d(cy), "cz": np.atleast_1d(cz)}


def galactic(ra: Sequence[float], dec: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
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


def _cell_ranges(ipix: np.ndarray, depth: np.ndarray) -> list[tuple[int, int]]:
    shift = 2 * (INDEX_ORDER - depth.astype(np.int64))
    lo = ipix.astype(np.int64) << shift
    hi = ((ipix.astype(np.int64) + 1) << shift) - 1
    order = np.argsort(lo)
    merged: list[list[int]] = []
    for a, b in zip(lo[order].tolist(), hi[order].tolist(), strict=True):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _cone_depth(radius_deg: float) -> int:
    # Cells about a quarter of the radius across keep the covered area close to the cone.
    # Mean cell size at depth d: sqrt(4 pi / (12 * 4**d)) rad, about 58.6 / 2**d degrees.
    if radius_deg <= 0:
        return INDEX_ORDER
    depth = math.floor(math.log2(58.6 / max(radius_deg / 4.0, 1e-9)))
    return max(0, min(INDEX_ORDER, depth))


def cone_ranges(ra: float, dec: float, radius_deg: float, max_ranges: int = MAX_RANGES) -> list[tuple[int, int]]:
    """Order-29 index ranges covering a cone (a superset of it, never missing any point)."""
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix.nested import cone_search

    if radius_deg >= 90.0:
        return [(0, 12 * 4**INDEX_ORDER - 1)]
    radius = max(radius_deg, 1e-7)
    depth = _cone_depth(radius)
    lon, lat = Longitude(ra, unit=u.deg), Latitude(dec, unit=u.deg)
    while True:
        ipix, depths, _full = cone_search(lon, lat, radius * u.deg, depth=depth, depth_delta=2)
        ranges = _cell_ranges(np.asarray(ipix), np.asarray(depths))
        if len(ranges) <= max_ranges or depth == 0:
            return ranges
        depth -= 1


def neighbourhood_ranges(ra: np.ndarray, dec: np.ndarray, radius_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For many small cones of one radius: ``(query index, lo, hi)`` arrays of order-29
    ranges, each query covered by its cell and the 8 around it at a depth whose cells are
    wider than the radius. Vectorised; used by the positional matcher."""
    from cdshealpix.nested import neighbours

    ra = np.atleast_1d(np.asarray(ra, dtype=float))
    dec = np.atleast_1d(np.asarray(dec, dtype=float))
    # HEALPix cells are not squares; a quarter of the mean size (58.6 / 2**d degrees) is a
    # safe lower bound on a cell's width everywhere on the sphere.
    depth = math.floor(math.log2(0.25 * 58.6 / max(radius_deg, 1e-9)))
    depth = max(0, min(INDEX_ORDER, depth))
    cells = hpx_index(ra, dec, order=depth)
    around = np.asarray(neighbours(cells, depth), dtype=np.int64)  # (n, 9), -1 where none
    query = np.repeat(np.arange(ra.size), around.shape[1])
    flat = around.reshape(-1)
    keep = flat >= 0
    query, flat = query[keep], flat[keep]
    shift = 2 * (INDEX_ORDER - depth)
    return query, flat << shift, ((flat + 1) << shift) - 1


def cone_filter(table: Any, ra: float, dec: float, radius_deg: float) -> ColumnElement[bool]:
    """A WHERE clause selecting rows of ``table`` (with hpx, cx, cy, cz) inside a cone."""
    from sqlalchemy import and_, or_

    ranges = cone_ranges(ra, dec, radius_deg)
    x0, y0, z0 = (float(v) for v in unit_vectors(ra, dec))
    in_ranges = or_(*(table.hpx.between(lo, hi) for lo, hi in ranges))
    exact = (
        (table.cx - x0) * (table.cx - x0) + (table.cy - y0) * (table.cy - y0) + (table.cz - z0) * (table.cz - z0)
        <= chord2(radius_deg)
    )
    return and_(in_ranges, exact)


def apply_cone(query: Select[Any], table: Any, ra: float, dec: float, radius_deg: float) -> Select[Any]:
    """``query`` restricted to a cone around (ra, dec)."""
    return query.where(cone_filter(table, ra, dec, radius_deg))
