"""Positions of non-sidereal targets from their orbital elements, vectorised.

Each target's heliocentric osculating elements (schemes ``MPC_MINOR_PLANET``,
``MPC_COMET`` and ``JPL_MAJOR_PLANET``, referred to the J2000 ecliptic and equinox) are
propagated as a two-body Keplerian orbit to every requested time at once: elliptic,
parabolic and hyperbolic orbits, with Kepler's equation solved by Newton's method over the
whole (targets x times) array. The Earth's heliocentric position comes from ERFA's
built-in ephemeris (the one astropy uses offline); light-time is iterated twice.

Accuracy: exact for a two-body orbit, so the error is what two-body propagation ignores:
planetary perturbations and, for comets, non-gravitational forces. Near the elements'
epoch that is arcseconds; for a main-belt asteroid it grows to about an arcminute a few
months away from the epoch, and faster for near-Earth objects after close approaches.
That is ample for planning (an arcminute moves a rise time by a few seconds) but not for
pointing a telescope at a fast mover: use fresh elements or the facility's own ephemeris.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from tomcore.domain.targets import JPL_MAJOR_PLANET, MPC_COMET, MPC_MINOR_PLANET, REQUIRED_PER_SCHEME, Target

#: Gaussian gravitational constant (radians per day; AU, solar masses).
GAUSS_K = 0.01720209895
#: Speed of light, AU per day.
C_AU_PER_DAY = 173.14463267424034
#: Obliquity of the ecliptic at J2000 (IAU 1976), radians.
OBLIQUITY_J2000 = math.radians(84381.448 / 3600.0)
#: Orbits closer to parabolic than this are propagated as parabolas.
PARABOLIC_TOLERANCE = 1e-7

_REQUIRED_ANGLES = ("eccentricity", "inclination", "lng_asc_node", "arg_of_perihelion")


@attrs.frozen
class Orbits:
    """Orbital elements of n objects as arrays (radians, AU, days, MJD TT).

    Every orbit is kept as: perihelion distance ``q``, eccentricity ``e``, the orientation
    angles, and a mean anomaly ``m0`` at ``t0`` with mean motion ``n`` (for parabolas
    ``t0`` is the perihelion time and ``m0``/``n`` are unused).
    """

    q: Any
    e: Any
    inc: Any
    node: Any
    peri: Any
    t0: Any
    m0: Any
    n: Any

    def __len__(self) -> int:
        return len(self.q)


def orbit_problems(target: Target) -> list[str]:
    """What is missing to compute the target's position (empty when nothing is)."""
    if target.scheme not in REQUIRED_PER_SCHEME:
        return [f"unknown orbital element scheme {target.scheme!r}"]
    missing = [f for f in (*_REQUIRED_ANGLES, *REQUIRED_PER_SCHEME[target.scheme]) if getattr(target, f) is None]
    if target.scheme == MPC_MINOR_PLANET and target.epoch_of_elements is None:
        missing.append("epoch_of_elements")
    if target.scheme == JPL_MAJOR_PLANET and target.epoch_of_elements is None:
        missing.append("epoch_of_elements")
    problems = [f"missing {', '.join(missing)}"] if missing else []
    e = target.eccentricity
    if e is not None and e < 0:
        problems.append("negative eccentricity")
    if target.scheme != MPC_COMET and e is not None and e >= 1 and not target.semimajor_axis:
        problems.append("an open orbit needs its semimajor axis")
    if target.scheme == MPC_COMET and target.perihdist is not None and target.perihdist <= 0:
        problems.append("perihelion distance must be positive")
    if target.scheme != MPC_COMET and target.semimajor_axis is not None and target.semimajor_axis == 0:
        problems.append("semimajor axis is zero")
    return problems


def orbits_of(targets: Sequence[Target]) -> Orbits:
    """The orbits of targets that passed :func:`orbit_problems`, as arrays."""
    import numpy as np

    def column(field: str) -> Any:
        return np.array([getattr(t, field) for t in targets], dtype=float)  # None -> NaN

    comet = np.array([t.scheme == MPC_COMET for t in targets], dtype=bool)
    e = column("eccentricity")
    inc, node, peri = (np.radians(column(f)) for f in ("inclination", "lng_asc_node", "arg_of_perihelion"))
    a = np.abs(column("semimajor_axis"))
    daily = np.radians(column("mean_daily_motion"))
    open_or_closed = np.abs(1 - e) > PARABOLIC_TOLERANCE
    # comets: perihelion distance and time; the others: a, and the mean anomaly at the epoch
    q = np.where(comet, column("perihdist"), a * np.abs(1 - e))
    with np.errstate(divide="ignore", invalid="ignore"):
        a_comet = np.abs(q / np.where(open_or_closed, 1 - e, 1.0))
        n = np.where(comet, np.where(open_or_closed, GAUSS_K / a_comet**1.5, 0.0),
                     np.where(np.isfinite(daily) & (daily != 0), daily, GAUSS_K / a**1.5))
    t0 = np.where(comet, column("epoch_of_perihelion"), column("epoch_of_elements"))
    m0 = np.where(comet, 0.0, np.radians(column("mean_anomaly")))
    return Orbits(q, e, inc, node, peri, t0, np.nan_to_num(m0), n)


def heliocentric(orbits: Orbits, mjd_tt: Any) -> Any:
    """Heliocentric equatorial (ICRS axes) positions in AU, shape (n, m, 3), at times (MJD,
    TT) shaped (m,) for every orbit or (n, m), one row per orbit."""
    import numpy as np

    times = np.asarray(mjd_tt, dtype=float)
    if times.ndim == 1:
        times = times[None, :]
    shape = np.broadcast_shapes(times.shape, (len(orbits), 1))
    t = np.broadcast_to(times, shape)
    extra = (slice(None), None)
    q, e = orbits.q[extra], orbits.e[extra]
    x = np.empty(shape)
    y = np.empty(shape)

    parabolic = np.broadcast_to(np.abs(1 - e) <= PARABOLIC_TOLERANCE, shape)
    elliptic = np.broadcast_to(e < 1 - PARABOLIC_TOLERANCE, shape)
    hyperbolic = ~(parabolic | elliptic)
    dt = t - orbits.t0[extra]
    mean = orbits.m0[extra] + orbits.n[extra] * dt
    qb, eb = np.broadcast_to(q, shape), np.broadcast_to(e, shape)

    if elliptic.any():
        m, ee, qq = mean[elliptic], eb[elliptic], qb[elliptic]
        m = np.remainder(m + np.pi, 2 * np.pi) - np.pi
        big_e = _solve_elliptic(m, ee)
        a = qq / (1 - ee)
        x[elliptic] = a * (np.cos(big_e) - ee)
        y[elliptic] = a * np.sqrt(1 - ee * ee) * np.sin(big_e)
    if hyperbolic.any():
        m, ee, qq = mean[hyperbolic], eb[hyperbolic], qb[hyperbolic]
        big_h = _solve_hyperbolic(m, ee)
        a = qq / (ee - 1)
        x[hyperbolic] = a * (ee - np.cosh(big_h))
        y[hyperbolic] = a * np.sqrt(ee * ee - 1) * np.sinh(big_h)
    if parabolic.any():
        qq = qb[parabolic]
        w = dt[parabolic] * GAUSS_K / np.sqrt(2 * qq**3)  # Barker: s + s^3/3 = w
        big_y = np.cbrt(1.5 * w + np.sqrt(1 + 2.25 * w * w))
        s = big_y - 1 / big_y
        x[parabolic] = qq * (1 - s * s)
        y[parabolic] = 2 * qq * s

    cw, sw = np.cos(orbits.peri), np.sin(orbits.peri)
    cn, sn = np.cos(orbits.node), np.sin(orbits.node)
    ci, si = np.cos(orbits.inc), np.sin(orbits.inc)
    p = np.stack([cw * cn - sw * sn * ci, cw * sn + sw * cn * ci, sw * si], -1)[extra]
    qv = np.stack([-sw * cn - cw * sn * ci, -sw * sn + cw * cn * ci, cw * si], -1)[extra]
    ecl = x[..., None] * p + y[..., None] * qv
    ce, se = math.cos(OBLIQUITY_J2000), math.sin(OBLIQUITY_J2000)
    return np.stack([ecl[..., 0], ce * ecl[..., 1] - se * ecl[..., 2], se * ecl[..., 1] + ce * ecl[..., 2]], -1)


def _solve_elliptic(m: Any, e: Any) -> Any:
    """E - e sin E = M, for M in [-pi, pi) (Danby's starter; Newton)."""
    import numpy as np

    big_e = m + 0.85 * e * np.sign(np.sin(m))
    for _ in range(50):
        step = (big_e - e * np.sin(big_e) - m) / (1 - e * np.cos(big_e))
        big_e = big_e - step
        if np.all(np.abs(step) < 1e-13):
            break
    return big_e


def _solve_hyperbolic(m: Any, e: Any) -> Any:
    """e sinh H - H = M (Newton from asinh(M / e), safe for all M)."""
    import numpy as np

    big_h = np.arcsinh(m / e)
    big_h = np.where(np.abs(m) > 6 * e, np.sign(m) * np.log(2 * np.abs(m) / e + 1.8), big_h)
    for _ in range(100):
        step = (e * np.sinh(big_h) - big_h - m) / (e * np.cosh(big_h) - 1)
        big_h = big_h - step
        if np.all(np.abs(step) < 1e-13 * np.maximum(1.0, np.abs(big_h))):
            break
    return big_h


def earth_heliocentric(tt: tuple[Any, Any]) -> Any:
    """The Earth's heliocentric position (AU, ICRS axes) at two-part TT Julian dates."""
    import erfa

    pvh, _pvb = erfa.epv00(*tt)
    return pvh["p"]


def geocentric(orbits: Orbits, tt: tuple[Any, Any]) -> tuple[Any, Any, Any]:
    """Astrometric geocentric (ra, dec) in radians and distance (AU), each (n, m), for n
    orbits at m times, corrected for light-time."""
    import numpy as np

    from tomcore.services.almanac import MJD_JD, spherical

    mjd_tt = (np.asarray(tt[0]) - MJD_JD) + np.asarray(tt[1])
    earth = earth_heliocentric(tt)[None, :, :]
    delay = np.zeros((len(orbits), len(mjd_tt)))
    for _ in range(3):
        vec = heliocentric(orbits, mjd_tt[None, :] - delay) - earth
        delay = np.linalg.norm(vec, axis=-1) / C_AU_PER_DAY
    return spherical(vec)


def positions_cirs(orbits: Orbits, moments: Any, geo: Any) -> tuple[Any, Any]:
    """Apparent topocentric CIRS (ra, dec), radians, shape (n, m), of n orbits at the m
    ``moments`` (:class:`tomcore.services.almanac.Moments`) from the site ``geo``."""
    import erfa

    from tomcore.services.almanac import observer_cirs, spherical, unit

    ra, dec, dist = geocentric(orbits, moments.tt)
    ra, dec = erfa.atciqz(ra, dec, moments.astrom[None, :])
    vec = unit(ra, dec) * dist[..., None] - observer_cirs(moments, geo)[None, :, :]
    ra, dec, _ = spherical(vec)
    return ra, dec
