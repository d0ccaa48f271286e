"""Nights, the Sun, the Moon and UT1, checked against astroplan and astropy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tomcore.domain.observations import Site
from tomcore.services import almanac
from tomcore.services.almanac import (
    Moments,
    SiteGeometry,
    current_night_date,
    datetime_from_mjd,
    find_night,
    mjd_from_datetime,
    moon_cirs,
    moon_illumination,
    ut1_minus_tai,
)

from .conftest import LCO_SITES

astroplan = pytest.importorskip("astroplan")
u = pytest.importorskip("astropy.units")
from astropy.coordinates import EarthLocation  # noqa: E402
from astropy.time import Time  # noqa: E402


def observer(site: Site) -> object:
    return astroplan.Observer(location=EarthLocation.from_geodetic(site.longitude * u.deg, site.latitude * u.deg,
                                                                   site.elevation * u.m))


@pytest.mark.parametrize(("day", "twilight"), [(date(2026, 3, 1), "astronomical"), (date(2026, 6, 21), "nautical"),
                                               (date(2025, 12, 21), "civil")])
def test_nights_agree_with_astroplan(day: date, twilight: str) -> None:
    for site in LCO_SITES:
        span = find_night(SiteGeometry.of(site), day, twilight)
        obs = observer(site)
        evening = getattr(obs, f"twilight_evening_{twilight}")(Time(span.window[0], format="mjd"), which="next",
                                                               n_grid_points=600)
        morning = getattr(obs, f"twilight_morning_{twilight}")(evening, which="next", n_grid_points=600)
        assert span.start is not None and span.end is not None
        assert abs(span.start - evening.mjd) * 86400 < 5, (site.code, twilight)
        assert abs(span.end - morning.mjd) * 86400 < 5, (site.code, twilight)
        # the night is the local one: it starts on the evening of `day`, local time
        local_evening = datetime_from_mjd(span.start) + timedelta(hours=site.longitude / 15)
        assert local_evening.date() == day or local_evening.hour < 4


def test_no_astronomical_night_in_high_summer_and_whole_window_in_polar_night() -> None:
    north = SiteGeometry.of(Site("n", "north", 65.0, 20.0, 0.0))
    summer = find_night(north, date(2026, 6, 21), "astronomical")
    assert summer.start is None and summer.end is None
    assert find_night(north, date(2026, 6, 21), "civil").start is None  # white nights
    svalbard = SiteGeometry.of(Site("s", "svalbard", 78.2, 15.6, 0.0))
    winter = find_night(svalbard, date(2025, 12, 21), "civil")
    assert (winter.start, winter.end) == winter.window  # dark from noon to noon


def test_moon_illumination_agrees_with_astroplan() -> None:
    times = Time("2026-01-01") + np.arange(0, 30, 0.7) * u.day
    ours = moon_illumination(Moments.at(times.mjd))
    theirs = astroplan.moon_illumination(times)
    assert np.max(np.abs(ours - theirs)) < 1e-3
    assert ours.min() < 0.02 and ours.max() > 0.98  # a whole lunation


def test_topocentric_moon_agrees_with_astropy() -> None:
    from astropy.coordinates import AltAz, get_body

    site = LCO_SITES[3]
    geo = SiteGeometry.of(site)
    times = Time("2026-03-02T00:00") + np.arange(0, 10, 0.5) * u.hour
    moments = Moments.at(times.mjd)
    ra, dec, _ = moon_cirs(moments, geo)
    ours = np.degrees(np.arcsin(almanac.sin_altitude(ra, dec, almanac.local_angle(moments, geo), geo)))
    location = EarthLocation.from_geodetic(site.longitude * u.deg, site.latitude * u.deg, site.elevation * u.m)
    theirs = get_body("moon", times, location).transform_to(AltAz(obstime=times, location=location)).alt.deg
    assert np.max(np.abs(ours - theirs)) * 3600 < 30  # parallax (up to a degree) is included


def test_ut1_agrees_with_astropy_across_a_leap_second(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(almanac, "_UT1_TABLE", None)
    mjd = np.array([57753.2, 57753.99, 57754.0, 57754.3, 60000.5, 61100.25])  # 2017-01-01 leap second
    times = Time(mjd, format="mjd", scale="utc")
    expected = ((times.ut1.jd1 - times.tai.jd1) + (times.ut1.jd2 - times.tai.jd2)) * 86400
    assert np.max(np.abs(ut1_minus_tai(mjd) - expected)) < 1e-6
    cached = list((tmp_path / "tomcore").glob("ut1-tai-*.npz"))
    assert len(cached) == 1
    monkeypatch.setattr(almanac, "_UT1_TABLE", None)  # the next process reads the cache
    assert np.max(np.abs(ut1_minus_tai(mjd) - expected)) < 1e-6


def test_ut1_table_still_works_when_the_cache_cannot_be_written(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(almanac, "_UT1_TABLE", None)
    assert abs(float(ut1_minus_tai(np.array([61000.0]))[0]) + 37.0) < 1.0  # UT1-TAI is about -37 s


def test_current_night_date_follows_the_local_clock() -> None:
    lsc = SiteGeometry.of(LCO_SITES[3])  # UTC-4.7 h
    night = find_night(lsc, date(2026, 3, 1))
    assert night.start is not None and night.end is not None
    during = datetime_from_mjd(night.end - 0.05)  # 2026-03-02 about 08:00 UTC
    assert current_night_date(lsc, during) == date(2026, 3, 1)
    after = datetime_from_mjd(night.end + 0.01)
    assert current_night_date(lsc, after) == date(2026, 3, 2)
    afternoon = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 14:17 local
    assert current_night_date(lsc, afternoon) == date(2026, 3, 2)


def test_mjd_round_trip() -> None:
    moment = datetime(2026, 3, 1, 12, 34, 56, tzinfo=UTC)
    assert datetime_from_mjd(mjd_from_datetime(moment)) == moment
    assert mjd_from_datetime(datetime(1858, 11, 17)) == pytest.approx(0.0)
