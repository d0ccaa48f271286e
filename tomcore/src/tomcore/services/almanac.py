"""The sky over a site: time scales, Earth rotation, the Sun, the Moon and the night.

Everything here is vectorised over times with numpy and ERFA (the library under astropy's
coordinate transforms) and works offline: astropy's bundled IERS tables give UT1 (through
:func:`tomcore.astro.configure_offline`), ERFA's built-in ephemerides give the Earth, the Sun
and the Moon. Directions are apparent, in the Celestial Intermediate Reference System
(CIRS) of the moment: from CIRS the local hour angle is the Earth rotation angle plus the
site's longitude minus the CIRS right ascension, so an altitude is one cosine.

Neglected against astropy's full ``AltAz`` transform (checked in the tests): polar motion
and diurnal aberration (together < 1 arcsec) and the Sun's parallax (9 arcsec). There is no
refraction: altitudes are geometric and airmass is sec(z), as in astroplan's default.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from tomcore.domain.observations import Site

#: Sun altitude (degrees) at which each twilight ends.
TWILIGHTS: dict[str, float] = {"astronomical": -18.0, "nautical": -12.0, "civil": -6.0}

MJD_UNIX_EPOCH = 40587.0
MJD_JD = 2400000.5
AU_M = 149597870700.0
#: Sidereal rate of the Earth rotation angle, radians per UT1 day.
ERA_RATE = 2 * math.pi * 1.00273781191135448


def mjd_from_datetime(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return MJD_UNIX_EPOCH + moment.timestamp() / 86400.0


def datetime_from_mjd(mjd: float) -> datetime:
    """A UTC datetime, rounded to the second."""
    seconds = round((mjd - MJD_UNIX_EPOCH) * 86400.0)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


@attrs.frozen
class SiteGeometry:
    """A site's latitude and its position relative to the geocentre (metres)."""

    site: Site
    lat: float  # geodetic, radians
    lon: float  # east, radians
    sin_lat: float
    cos_lat: float
    r_xy: float  # distance from the Earth's axis
    r_z: float  # height above the equatorial plane

    @classmethod
    def of(cls, site: Site) -> SiteGeometry:
        import erfa
        import numpy as np

        lat, lon = math.radians(site.latitude), math.radians(site.longitude)
        xyz = np.asarray(erfa.gd2gc(1, lon, lat, float(site.elevation)))
        return cls(site, lat, lon, math.sin(lat), math.cos(lat), float(math.hypot(xyz[0], xyz[1])), float(xyz[2]))


@attrs.frozen
class Moments:
    """Instants (UTC MJD) with what the sky computations need at each."""

    mjd: Any  # ndarray (n,), UTC
    tt: tuple[Any, Any]  # two-part Julian date, TT (used for TDB too: < 2 ms apart)
    era: Any  # Earth rotation angle (radians)
    astrom: Any  # ERFA star-independent astrometry parameters (ICRS -> CIRS)

    def __len__(self) -> int:
        return len(self.mjd)

    @classmethod
    def at(cls, mjd: Any) -> Moments:
        import erfa
        import numpy as np

        mjd = np.atleast_1d(np.asarray(mjd, dtype=float))
        # ERFA's own leap-second table (no astropy.time import: a third of a second)
        with _quiet_iers():
            tai = erfa.utctai(np.full_like(mjd, MJD_JD), mjd)
        tt = erfa.taitt(*tai)
        era = erfa.era00(tai[0], tai[1] + ut1_minus_tai(mjd) / 86400.0)
        astrom, _eo = erfa.apci13(*tt)
        return cls(mjd, tt, era, astrom)

    def tt_mjd(self) -> Any:
        return (self.tt[0] - MJD_JD) + self.tt[1]


_UT1_TABLE: tuple[Any, Any] | None = None


def ut1_minus_tai(mjd: Any) -> Any:
    """UT1 - TAI in seconds at UTC MJDs, interpolated linearly in astropy's bundled IERS
    table (as astropy does); clamped to the table's last prediction beyond it."""
    import numpy as np

    global _UT1_TABLE
    if _UT1_TABLE is None:
        _UT1_TABLE = _load_ut1_table()
    return np.interp(mjd, *_UT1_TABLE)


def _load_ut1_table() -> tuple[Any, Any]:
    """(MJD, UT1 - TAI) from the IERS table. Parsing it takes astropy half a second, so
    the series is kept in the user's cache directory, keyed by the IERS data version."""
    import os
    from pathlib import Path

    import numpy as np

    try:
        from astropy_iers_data import __version__ as iers_version
    except ImportError:  # pragma: no cover
        iers_version = "unknown"
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = cache_home / "tomcore" / f"ut1-tai-{iers_version}.npz"
    try:
        with np.load(path) as data:
            return data["mjd"], data["ut1_tai"]
    except (OSError, KeyError, ValueError):
        pass
    from astropy.time import Time
    from astropy.utils import iers

    from tomcore.astro import configure_offline

    configure_offline()
    with _quiet_iers():
        table = iers.earth_orientation_table.get()
    mjd = np.asarray(table["MJD"].value, dtype=float)
    ut1_utc = np.ma.filled(np.ma.asarray(table["UT1_UTC"].to_value("s")), np.nan)
    keep = np.isfinite(ut1_utc)
    mjd, ut1_utc = mjd[keep], ut1_utc[keep]
    utc = Time(mjd, format="mjd", scale="utc")
    tai = utc.tai
    tai_utc = ((tai.jd1 - utc.jd1) + (tai.jd2 - utc.jd2)) * 86400.0
    ut1_tai = ut1_utc - np.round(tai_utc)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(temporary, mjd=mjd, ut1_tai=ut1_tai)
        os.replace(temporary, path)
    except OSError:  # a read-only home: parse again next time
        pass
    return mjd, ut1_tai


class _quiet_iers:
    """Dates past the bundled IERS predictions: astropy warns and extrapolates UT1-UTC
    (< 1 s of error, nothing for planning). Keep the warning out of users' faces."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.filterwarnings("ignore", message=r".*(IERS|polar motion|UT1-UTC|leap|dubious year).*")

    def __exit__(self, *exc: Any) -> None:
        self._catch.__exit__(*exc)


def unit(ra: Any, dec: Any) -> Any:
    """Unit vectors (..., 3) from spherical angles (radians)."""
    import numpy as np

    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def spherical(vec: Any) -> tuple[Any, Any, Any]:
    """(ra, dec, norm) of vectors (..., 3); ra in [0, 2 pi)."""
    import numpy as np

    x, y, z = vec[..., 0], vec[..., 1], vec[..., 2]
    norm = np.sqrt(x * x + y * y + z * z)
    return np.mod(np.arctan2(y, x), 2 * np.pi), np.arcsin(np.clip(z / norm, -1.0, 1.0)), norm


def local_angle(moments: Moments, geo: SiteGeometry) -> Any:
    """The local Earth rotation angle (radians): hour angle = this - CIRS right ascension."""
    return moments.era + geo.lon


def observer_cirs(moments: Moments, geo: SiteGeometry) -> Any:
    """The site's geocentric position in CIRS (AU), shape (n, 3)."""
    import numpy as np

    theta = local_angle(moments, geo)
    return np.stack([geo.r_xy * np.cos(theta), geo.r_xy * np.sin(theta), np.full_like(theta, geo.r_z)], -1) / AU_M


def sin_altitude(ra: Any, dec: Any, theta: Any, geo: SiteGeometry) -> Any:
    """sin(altitude) from CIRS coordinates and the local rotation angle (broadcasting)."""
    import numpy as np

    return geo.sin_lat * np.sin(dec) + geo.cos_lat * np.cos(dec) * np.cos(theta - ra)


def sun_cirs(moments: Moments) -> tuple[Any, Any]:
    """The Sun's apparent geocentric CIRS (ra, dec), radians."""
    import erfa

    pvh, _pvb = erfa.epv00(*moments.tt)
    ra, dec, _ = spherical(-pvh["p"])
    return erfa.atciqz(ra, dec, moments.astrom)


def moon_cirs(moments: Moments, geo: SiteGeometry | None = None) -> tuple[Any, Any, Any]:
    """The Moon's apparent CIRS (ra, dec, distance in AU), topocentric when ``geo`` is given
    (its parallax reaches 1 degree)."""
    import erfa

    pv = erfa.moon98(*moments.tt)
    ra, dec, dist = spherical(pv["p"])
    ra, dec = erfa.atciqz(ra, dec, moments.astrom)
    if geo is None:
        return ra, dec, dist
    vec = unit(ra, dec) * dist[..., None] - observer_cirs(moments, geo)
    return spherical(vec)


def moon_illumination(moments: Moments) -> Any:
    """The illuminated fraction of the Moon (0 new, 1 full), as astroplan computes it."""
    import erfa
    import numpy as np

    earth, _ = erfa.epv00(*moments.tt)
    sun = -earth["p"]
    moon = erfa.moon98(*moments.tt)["p"]
    sun_d, moon_d = np.linalg.norm(sun, axis=-1), np.linalg.norm(moon, axis=-1)
    elongation = np.arccos(np.clip(np.sum(sun * moon, -1) / (sun_d * moon_d), -1, 1))
    phase = np.arctan2(sun_d * np.sin(elongation), moon_d - sun_d * np.cos(elongation))
    return (1 + np.cos(phase)) / 2


# -- nights -----------------------------------------------------------------------------------


@attrs.frozen
class NightSpan:
    """The dark part of one local night (UTC MJD), or why there is none."""

    site: Site
    date: date
    twilight: str
    start: float | None
    end: float | None
    window: tuple[float, float]  # local noon to local noon


def local_noon(day: date, geo: SiteGeometry) -> float:
    """The site's mean local noon of ``day`` (UTC MJD)."""
    return mjd_from_datetime(datetime(day.year, day.month, day.day, 12, tzinfo=UTC)) - math.degrees(geo.lon) / 360.0


def sun_sin_altitude(mjd: Any, geo: SiteGeometry) -> Any:
    moments = Moments.at(mjd)
    ra, dec = sun_cirs(moments)
    return sin_altitude(ra, dec, local_angle(moments, geo), geo)


def find_night(geo: SiteGeometry, day: date, twilight: str = "astronomical") -> NightSpan:
    """The night that starts on the local evening of ``day``: from the Sun's setting below
    the twilight altitude to its rising above it (to the second)."""
    import numpy as np

    if twilight not in TWILIGHTS:
        raise ValueError(f"twilight must be one of {', '.join(TWILIGHTS)}")
    start = local_noon(day, geo)
    window = (start, start + 1.0)
    grid = start + np.linspace(0.0, 1.0, 145)  # every 10 minutes
    level = math.sin(math.radians(TWILIGHTS[twilight]))
    margin = sun_sin_altitude(grid, geo) - level  # > 0: too bright
    dark = margin < 0
    if not dark.any():
        return NightSpan(geo.site, day, twilight, None, None, window)
    first = int(np.argmax(dark))
    # the first dark stretch of the window (a polar night is dark from the start)
    after = dark[first:]
    last = first + (int(np.argmax(~after)) - 1 if (~after).any() else len(after) - 1)
    dusk = float(grid[0]) if first == 0 else _refine(geo, level, grid[first - 1], grid[first], margin[first - 1], margin[first])
    if last == len(grid) - 1:
        dawn = float(grid[-1])
    else:
        dawn = _refine(geo, level, grid[last], grid[last + 1], margin[last], margin[last + 1])
    return NightSpan(geo.site, day, twilight, dusk, dawn, window)


def _refine(geo: SiteGeometry, level: float, t0: float, t1: float, f0: float, f1: float) -> float:
    """The time in [t0, t1] where the Sun crosses ``level`` (regula falsi, Illinois)."""
    side = 0
    t = t0
    for _ in range(12):
        t = (t0 * f1 - t1 * f0) / (f1 - f0)
        f = float(sun_sin_altitude(t, geo)[0]) - level
        if abs(t1 - t0) < 1e-6 or f == 0:  # 0.1 s
            break
        if (f > 0) == (f1 > 0):
            t1, f1 = t, f
            if side == -1:
                f0 /= 2
            side = -1
        else:
            t0, f0 = t, f
            if side == 1:
                f1 /= 2
            side = 1
    return float(t)


def current_night_date(geo: SiteGeometry, now: datetime, twilight: str = "astronomical") -> date:
    """The local date of the night going on at ``now``, else of the next one."""
    now_mjd = mjd_from_datetime(now)
    local = (now + timedelta(days=math.degrees(geo.lon) / 360.0)).date()
    yesterday = local - timedelta(days=1)
    previous = find_night(geo, yesterday, twilight)
    if previous.end is not None and now_mjd < previous.end:
        return yesterday
    return local
