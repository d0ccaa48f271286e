"""Visibility of many targets through one night at one site, as array operations.

A night is sampled on a regular grid (:class:`NightGrid`, target-independent: times, Earth
rotation, the Moon). For a block of targets the altitude, hour angle and Moon separation at
every grid time are computed at once, shape (targets, times), and every constraint becomes a
margin that is >= 0 where it holds. Between two grid points each margin is interpolated
linearly, which gives, per target and per grid interval, the sub-interval where all
constraints hold; from those come the observable hours, the first and last observable
moments and the best time. Rise, set and transit are interpolated crossings. No Python loop
runs over targets.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from tomcore.domain.planning import Constraints
from tomcore.services.almanac import (
    Moments,
    NightSpan,
    SiteGeometry,
    local_angle,
    moon_cirs,
    moon_illumination,
    sin_altitude,
    unit,
)

#: Targets evaluated together (bounds memory: about 20 arrays of BLOCK x grid floats).
BLOCK = 2048

#: Reason codes of unobservable targets.
NO_NIGHT = "no_night"
NO_POSITION = "no_position"
TOO_LOW = "too_low"
OUTSIDE_HA = "outside_ha"
NEAR_MOON = "near_moon"
MOON_BRIGHT = "moon_bright"


@attrs.define
class NightGrid:
    """A night at a site sampled every ``step`` days from dusk to dawn."""

    span: NightSpan
    geo: SiteGeometry
    moments: Moments
    theta: Any  # local Earth rotation angle at each grid time
    moon_unit: Any  # (m, 3) topocentric CIRS unit vectors of the Moon
    moon_sin_alt: Any
    illumination: float
    step: float

    @property
    def mjd(self) -> Any:
        return self.moments.mjd

    @classmethod
    def build(cls, span: NightSpan, geo: SiteGeometry, step_minutes: float) -> NightGrid:
        """From dusk to dawn, every ``step_minutes`` or a little less."""
        assert span.start is not None and span.end is not None
        return cls.over(span, geo, span.start, span.end, step_minutes)

    @classmethod
    def over(cls, span: NightSpan, geo: SiteGeometry, start: float, end: float, step_minutes: float) -> NightGrid:
        """From ``start`` to ``end`` (UTC MJD) every ``step_minutes`` or a little less."""
        import numpy as np

        count = max(2, math.ceil((end - start) * 1440.0 / step_minutes - 1e-9) + 1)
        mjd = np.linspace(start, end, count)
        moments = Moments.at(mjd)
        theta = local_angle(moments, geo)
        mra, mdec, _ = moon_cirs(moments, geo)
        middle = Moments.at([0.5 * (start + end)])
        return cls(span, geo, moments, theta, unit(mra, mdec), sin_altitude(mra, mdec, theta, geo),
                   float(moon_illumination(middle)[0]), float(mjd[1] - mjd[0]))

    def middle(self) -> Moments:
        return Moments.at([0.5 * (self.mjd[0] + self.mjd[-1])])

    def crossings(self, values: Any, level: float = 0.0) -> tuple[float | None, float | None]:
        """First upward and first downward crossing of ``level`` by a (m,) series."""
        import numpy as np

        up, down = _crossings(np.asarray(values)[None, :] - level)
        return _to_mjd(self.mjd, up)[0], _to_mjd(self.mjd, down)[0]


def _crossings(margin: Any) -> tuple[Any, Any]:
    """Fractional grid indices of the first upward and downward zero crossing per row
    (NaN when none)."""
    import numpy as np

    m0, m1 = margin[:, :-1], margin[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(m0 / (m0 - m1), 0.0, 1.0)
    result = []
    for crossing in ((m0 < 0) & (m1 >= 0), (m0 >= 0) & (m1 < 0)):
        index = np.argmax(crossing, axis=1)
        rows = np.arange(len(margin))
        found = crossing[rows, index]
        result.append(np.where(found, index + frac[rows, index], np.nan))
    return result[0], result[1]


def _to_mjd(mjd: Any, index: Any) -> list[float | None]:
    import numpy as np

    step = mjd[1] - mjd[0]
    values = mjd[0] + np.asarray(index, dtype=float) * step
    return [None if math.isnan(v) else float(v) for v in values]


def _span(margin: Any) -> tuple[Any, Any]:
    """Per grid interval, the sub-interval [lo, hi] (fractions of the step) where a margin
    interpolated linearly is >= 0; empty (lo > hi) where it is negative throughout."""
    import numpy as np

    m0, m1 = margin[:, :-1], margin[:, 1:]
    ok0, ok1 = m0 >= 0, m1 >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(m0 / (m0 - m1), 0.0, 1.0)
    lo = np.where(ok0, 0.0, np.where(ok1, frac, 1.0))
    hi = np.where(ok1, 1.0, np.where(ok0, frac, 0.0))
    return lo, hi


@attrs.define
class Outcome:
    """Per-target results of one block as arrays (MJD; NaN when there is none)."""

    rise: Any
    set: Any
    transit: Any
    start: Any
    end: Any
    hours: Any
    best: Any
    best_sin_alt: Any
    moon_sep: Any  # degrees, at the best time
    reason: Any  # object array of reason codes (None when observable)


@attrs.define
class Fields:
    """Per target and grid time: sin(altitude), hour angle (radians, [-pi, pi)), cosine of
    the Moon's distance, and the constraint margins (>= 0 where a constraint holds)."""

    sin_alt: Any
    hour_angle: Any
    cos_sep: Any
    margins: list[Any]
    codes: list[str]  # the reason code of each margin, in order

    def point_ok(self) -> Any:
        import numpy as np

        return np.logical_and.reduce([margin >= 0 for margin in self.margins])


def fields(grid: NightGrid, ra: Any, dec: Any, constraints: Constraints,
           ha_limits: tuple[float, float] | None, min_altitude: float | None) -> Fields:
    """:class:`Fields` of n targets whose apparent CIRS (ra, dec) in radians are arrays of
    shape (n, 1) (fixed during the night) or (n, m) (one per grid time)."""
    import numpy as np

    # single precision: 0.1 arcsec at worst here, and half the memory traffic
    f32 = np.float32
    theta = grid.theta[None, :]
    n = max(np.shape(ra)[0], np.shape(dec)[0])
    m = len(grid.mjd)
    sin_dec, cos_dec = np.sin(dec).astype(f32), np.cos(dec).astype(f32)
    hour_angle = (np.remainder(theta - ra + np.pi, 2 * np.pi) - np.pi).astype(f32)
    sin_lat, cos_lat = f32(grid.geo.sin_lat), f32(grid.geo.cos_lat)
    sin_alt = np.broadcast_to(sin_lat * sin_dec + cos_lat * cos_dec * np.cos(hour_angle), (n, m))
    hour_angle = np.broadcast_to(hour_angle, (n, m))
    moon = grid.moon_unit.astype(f32)
    x, y = (cos_dec * np.cos(ra).astype(f32)), (cos_dec * np.sin(ra).astype(f32))
    cos_sep = np.broadcast_to(x * moon[None, :, 0] + y * moon[None, :, 1] + sin_dec * moon[None, :, 2], (n, m))
    lowest = math.degrees(math.asin(1.0 / constraints.max_airmass))
    if min_altitude is not None:
        lowest = max(lowest, min_altitude)
    margins = [sin_alt - f32(math.sin(math.radians(lowest)))]
    codes = [TOO_LOW]
    if ha_limits is not None:
        east, west = (f32(math.radians(15.0 * h)) for h in ha_limits)
        # one margin for both limits: continuous except at 12 h, where it is negative
        margins.append(np.minimum(hour_angle - east, west - hour_angle))
        codes.append(OUTSIDE_HA)
    if constraints.min_moon_separation > 0:
        margins.append(f32(math.cos(math.radians(constraints.min_moon_separation))) - cos_sep)
        codes.append(NEAR_MOON)
    brightest = constraints.max_moon_illumination
    if brightest is not None and brightest < 1.0 and grid.illumination > brightest:
        # too bright a Moon: observable only while it is down (its illumination changes by
        # a few percent a night: the value at the middle of the night decides)
        margins.append(np.broadcast_to(-grid.moon_sin_alt.astype(f32)[None, :], (n, m)))
        codes.append(MOON_BRIGHT)
    return Fields(sin_alt, hour_angle, cos_sep, margins, codes)


def evaluate(grid: NightGrid, ra: Any, dec: Any, constraints: Constraints,
             ha_limits: tuple[float, float] | None, min_altitude: float | None) -> Outcome:
    """Visibility of n targets whose apparent CIRS (ra, dec) in radians are arrays of shape
    (n, 1) (fixed during the night) or (n, m) (one per grid time)."""
    import numpy as np

    f = fields(grid, ra, dec, constraints, ha_limits, min_altitude)
    sin_alt, hour_angle, cos_sep, margins = f.sin_alt, f.hour_angle, f.cos_sep, f.margins
    n, m = sin_alt.shape

    # sub-interval of each grid interval where all constraints hold, adding one at a time
    lo, hi = _span(margins[0])
    any_ok = [np.any(hi > lo, axis=1)]
    for margin in margins[1:]:
        lo2, hi2 = _span(margin)
        lo, hi = np.maximum(lo, lo2), np.minimum(hi, hi2)
        any_ok.append(np.any(hi > lo, axis=1))
    length = np.clip(hi - lo, 0.0, None)
    observable = any_ok[-1]
    hours = length.sum(axis=1) * grid.step * 24.0
    rows = np.arange(n)
    open_ = length > 0
    first = np.argmax(open_, axis=1)
    last = open_.shape[1] - 1 - np.argmax(open_[:, ::-1], axis=1)
    start = np.where(observable, first + lo[rows, first], np.nan)
    end = np.where(observable, last + hi[rows, last], np.nan)

    # best time: the highest observable moment among grid points and sub-interval ends
    point_ok = f.point_ok()
    s0, s1 = sin_alt[:, :-1], sin_alt[:, 1:]
    at_lo = np.where(open_, s0 + lo * (s1 - s0), -np.inf)
    at_hi = np.where(open_, s0 + hi * (s1 - s0), -np.inf)
    at_points = np.where(point_ok, sin_alt, -np.inf)
    # never observable: the highest moment of the night
    at_points = np.where(observable[:, None], at_points, sin_alt)
    candidates = np.concatenate([at_points, at_lo, at_hi], axis=1)
    pick = np.argmax(candidates, axis=1)
    best_value = candidates[rows, pick]
    best_index = np.where(pick < m, pick, np.where(pick < 2 * m - 1, pick - m + lo[rows, np.clip(pick - m, 0, m - 2)],
                                                   pick - 2 * m + 1 + hi[rows, np.clip(pick - 2 * m + 1, 0, m - 2)])).astype(float)
    # a grid point between two observable neighbours: refine the peak with a parabola
    j = np.clip(pick, 1, m - 2)
    inner = (pick < m) & (pick > 0) & (pick < m - 1)
    neighbours_ok = (point_ok[rows, j - 1] & point_ok[rows, j + 1]) | ~observable
    refine = inner & neighbours_ok
    f0, f1, f2 = sin_alt[rows, j - 1], sin_alt[rows, j], sin_alt[rows, j + 1]
    curvature = f0 - 2 * f1 + f2
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.clip(0.5 * (f0 - f2) / curvature, -1.0, 1.0)
    refine &= curvature < 0
    best_index = np.where(refine, j + offset, best_index)
    best_value = np.where(refine, f1 - 0.25 * (f0 - f2) * offset, best_value)
    best_value = np.clip(best_value, -1.0, 1.0)
    sep = np.degrees(np.arccos(np.clip(_interpolate(cos_sep, best_index), -1.0, 1.0)))

    rise, set_ = _crossings(sin_alt - math.sin(math.radians(constraints.horizon)))
    # upper transit: the hour angle crossing zero upward (not its wrap at 12 h)
    h0, h1 = hour_angle[:, :-1], hour_angle[:, 1:]
    crossing = (h0 < 0) & (h1 >= 0) & (h1 - h0 < np.pi)
    index = np.argmax(crossing, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = -h0[rows, index] / (h1[rows, index] - h0[rows, index])
    transit = np.where(crossing[rows, index], index + frac, np.nan)

    reason = np.full(n, None, dtype=object)
    for code, ok in reversed(list(zip(f.codes, any_ok, strict=True))):
        reason[~ok] = code
    step = grid.step
    base = grid.mjd[0]
    return Outcome(
        rise=base + rise * step, set=base + set_ * step, transit=base + transit * step,
        start=base + start * step, end=base + end * step, hours=hours,
        best=base + best_index * step, best_sin_alt=best_value, moon_sep=sep, reason=reason,
    )


def _interpolate(values: Any, index: Any) -> Any:
    """values (n, m) at fractional column ``index`` (n,), linearly."""
    import numpy as np

    rows = np.arange(len(values))
    lo = np.clip(np.floor(index).astype(int), 0, values.shape[1] - 1)
    hi = np.clip(lo + 1, 0, values.shape[1] - 1)
    frac = index - lo
    return values[rows, lo] * (1 - frac) + values[rows, hi] * frac


