"""The planning service: sites, targets, constraints, and what a plan says."""

from __future__ import annotations

import math
import socket
from datetime import date, timedelta
from typing import Any

import attrs
import numpy as np
import pytest

from tomcore.domain.observations import Site
from tomcore.domain.planning import Constraints
from tomcore.domain.targets import MPC_COMET, NON_SIDEREAL, Target
from tomcore.errors import AmbiguousError, ConfigError, NotFoundError, ValidationError
from tomcore.services import almanac
from tomcore.services.almanac import Moments, moon_cirs
from tomcore.services.planning import best_rows, parse_site, sort_rows

from .conftest import LCO_SITES, NOW, FacilityPlugin, NoSitesFacility, OtherFacility

NIGHT = date(2026, 3, 1)
LSC = next(s for s in LCO_SITES if s.code == "lsc")


def sky(count: int = 50, seed: int = 3) -> list[Target]:
    rng = np.random.default_rng(seed)
    ra, dec = rng.uniform(0, 360, count), np.degrees(np.arcsin(rng.uniform(-1, 1, count)))
    return [Target(name=f"s{i:02d}", ra=float(ra[i]), dec=float(dec[i]), id=i + 1) for i in range(count)]


# -- sites ------------------------------------------------------------------------------------


def test_every_site_of_a_facility_tagged_with_its_name(lco: Any) -> None:
    sites = lco.planning.resolve_sites("testlco")
    assert [s.code for s in sites] == ["coj", "cpt", "tfn", "lsc", "elp", "ogg"]
    assert {s.facility for s in sites} == {"testlco"}
    assert sites[0].ha_limits == (-4.6, 4.6)


def test_site_codes_coordinates_and_their_errors(lco: Any) -> None:
    planning = lco.planning
    assert [s.code for s in planning.resolve_sites("testlco", ["LSC", "ogg"])] == ["lsc", "ogg"]
    with pytest.raises(NotFoundError, match="has no site 'xyz' \\(sites: coj, cpt, tfn, lsc, elp, ogg\\)"):
        planning.resolve_sites("testlco", ["xyz"])
    custom = planning.resolve_sites(None, ["-30.5,289.2,2000", "10,20"])
    assert [(s.code, s.latitude, s.longitude, s.elevation) for s in custom] == [
        ("custom", -30.5, pytest.approx(-70.8), 2000.0), ("custom2", 10.0, 20.0, 0.0)]
    assert planning.resolve_sites(None, ["elp"])[0].facility == "testlco"  # found among all facilities
    with pytest.raises(ValidationError) as caught:
        parse_site("95,10,100")
    assert "latitude" in caught.value.errors
    assert parse_site("lsc") is None


def test_ambiguous_and_unknown_sites(lco: Any) -> None:
    assert lco.plugins.register(FacilityPlugin(OtherFacility(), NoSitesFacility()), "more-sites")
    with pytest.raises(AmbiguousError, match="several facilities have a site 'lsc'"):
        lco.planning.resolve_sites(None, ["lsc"])
    assert lco.planning.resolve_sites("other", ["lsc"])[0].latitude == -30.0
    assert lco.planning.resolve_sites(None, ["kpno"])[0].facility == "other"
    with pytest.raises(NotFoundError, match="no facility has a site 'nowhere'"):
        lco.planning.resolve_sites(None, ["nowhere"])
    with pytest.raises(ConfigError, match="declares no sites"):
        lco.planning.resolve_sites("nosites")


def test_sites_from_settings(tom_factory: Any) -> None:
    tom = tom_factory("configured", config='\n[planning]\nsites = ["-30.17,-70.80,2198"]\nmax_airmass = 1.5\n')
    assert tom.planning.resolve_sites()[0].latitude == -30.17
    assert tom.planning.constraints().max_airmass == 1.5
    bare = tom_factory("bare")
    with pytest.raises(ConfigError, match="say where to plan for"):
        bare.planning.resolve_sites()


def test_sites_from_the_environment_and_constraints_checked(tom_factory: Any) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
    env |= {"TOM_PLANNING_SITES": "10,20,30; -5,6", "TOM_PLANNING_MIN_MOON_SEPARATION": "45"}
    tom = tom_factory("env", env=env)
    assert [(s.latitude, s.longitude) for s in tom.planning.resolve_sites()] == [(10.0, 20.0), (-5.0, 6.0)]
    assert tom.planning.constraints().min_moon_separation == 45.0
    assert tom.planning.constraints(min_moon_separation=0).min_moon_separation == 0
    with pytest.raises(ValidationError) as caught:
        tom.planning.constraints(max_airmass=0.5, ha_limits=(3.0, -3.0), step_minutes=0)
    assert set(caught.value.errors) == {"max_airmass", "ha_limits", "step_minutes"}


# -- targets ----------------------------------------------------------------------------------


def test_selecting_targets_by_name_alias_and_list(lco: Any) -> None:
    lco.targets.save([
        Target(name="SN 2026abc", ra=150.0, dec=-30.0, aliases=["ZTF26aaaaaaa"], lists=["tonight"]),
        Target(name="M31", ra=10.68, dec=41.27),
        Target(name="Comet X", type=NON_SIDEREAL, scheme=MPC_COMET, perihdist=1.2, epoch_of_perihelion=61100.0,
               eccentricity=0.99, inclination=20.0, lng_asc_node=30.0, arg_of_perihelion=40.0,
               epoch_of_elements=61000.0, lists=["tonight"]),
    ])
    planning = lco.planning
    assert [t.name for t in planning.select_targets()] == ["Comet X", "M31", "SN 2026abc"]
    assert [t.name for t in planning.select_targets(["ZTF26aaaaaaa"])] == ["SN 2026abc"]
    assert [t.name for t in planning.select_targets(lists=["tonight"])] == ["Comet X", "SN 2026abc"]
    chosen = planning.select_targets(["m31"], ["tonight"])
    assert [t.name for t in chosen] == ["Comet X", "M31", "SN 2026abc"]
    comet = chosen[0]
    assert (comet.scheme, comet.perihdist, comet.id is not None) == (MPC_COMET, 1.2, True)
    with pytest.raises(NotFoundError, match="unknown targets:\n  nope:"):
        planning.select_targets(["nope", "M31"])
    with pytest.raises(NotFoundError, match="no target list named 'later'"):
        planning.select_targets(lists=["later"])


# -- plans ------------------------------------------------------------------------------------


def test_a_plan_has_one_row_per_target_and_site_sorted_by_best_time(lco: Any) -> None:
    targets = sky()
    sites = lco.planning.resolve_sites("testlco")
    plan = lco.planning.plan(targets, sites, night=NIGHT, constraints=Constraints())
    assert len(plan.rows) == len(targets) * len(sites)
    assert [n.site.code for n in plan.nights] == [s.code for s in sites]
    observable = plan.observable
    assert 0 < len(observable) < len(plan.rows)
    assert plan.rows[:len(observable)] == observable  # observable first
    times = [row.best_time for row in observable]
    assert times == sorted(times)
    nights = {n.site.code: n for n in plan.nights}
    for row in observable:
        night = nights[row.site]
        assert night.start <= row.start <= row.best_time <= row.end <= night.end
        assert 0 < row.hours <= (row.end - row.start).total_seconds() / 3600 + 1e-3
        assert 1.0 <= row.min_airmass <= 2.0
        assert row.moon_separation >= 30 - 0.1
        assert row.reason is None
        for event in (row.rise, row.set, row.transit):
            assert event is None or night.start <= event <= night.end
    for row in plan.rows[len(observable):]:
        assert (row.hours, row.start, row.end) == (0.0, None, None)
        assert row.reason


def test_sorting_and_best_site(lco: Any) -> None:
    sites = lco.planning.resolve_sites("testlco")
    plan = lco.planning.plan(sky(20), sites, night=NIGHT, constraints=Constraints(), sort="hours")
    hours = [row.hours for row in plan.observable]
    assert hours == sorted(hours, reverse=True)
    by_airmass = sort_rows(plan.rows, "airmass")
    assert [r.min_airmass for r in by_airmass if r.observable] == sorted(r.min_airmass for r in plan.observable)
    assert [r.target for r in sort_rows(plan.rows, "name") if r.observable] == sorted(
        r.target for r in plan.observable)
    best = best_rows(plan.rows)
    assert len(best) == 20
    for row in best:
        same = [r for r in plan.rows if r.target == row.target]
        assert row.hours == max(r.hours for r in same)
    with pytest.raises(ValidationError):
        lco.planning.plan(sky(2), sites, night=NIGHT, sort="colour")


def test_reasons_a_target_is_not_observable(lco: Any) -> None:
    moments = Moments.at([61100.25])  # 2026-03-02 06:00, the middle of the night at lsc
    from tomcore.services.almanac import SiteGeometry

    ra, dec, _ = moon_cirs(moments, SiteGeometry.of(LSC))
    near_moon = Target(name="by the moon", ra=math.degrees(ra[0]), dec=math.degrees(dec[0]), id=1)
    targets = [
        near_moon,
        Target(name="north pole", ra=0.0, dec=89.0, id=2),
        Target(name="no orbit", type=NON_SIDEREAL, scheme=MPC_COMET, eccentricity=0.5, inclination=1.0,
               lng_asc_node=1.0, arg_of_perihelion=1.0, id=3),
        Target(name="no position", ra=None, dec=None, id=4),
    ]
    site = attrs.evolve(LSC, ha_limits=None)
    rows = {r.target: r for r in lco.planning.plan(targets, [site], night=NIGHT, constraints=Constraints()).rows}
    assert rows["by the moon"].reason == "within 30 degrees of the Moon whenever high enough"
    assert rows["by the moon"].moon_separation < 20  # the Moon moves half a degree an hour
    assert rows["north pole"].reason == "never at airmass 2 or less at night"
    assert rows["north pole"].min_airmass is None and rows["north pole"].altitude < 0
    assert rows["no orbit"].reason == "no position: missing perihdist, epoch_of_perihelion"
    assert rows["no position"].reason == "no position: no ra/dec"
    free = lco.planning.plan([near_moon], [site], night=NIGHT, constraints=Constraints(min_moon_separation=0))
    assert free.rows[0].observable


def test_hour_angle_limits_of_the_site_and_their_override(lco: Any) -> None:
    # a target transiting near the middle of the night, up for about 8 hours under airmass 2
    night = lco.planning.night_of(LSC, NIGHT)
    middle = Moments.at([almanac.mjd_from_datetime(night.start + (night.end - night.start) / 2)])
    lst = math.degrees(float(middle.era[0])) + LSC.longitude
    target = Target(name="overhead", ra=lst % 360, dec=-30.0, id=1)
    hours = {}
    for limits in (None, (-1.0, 1.0), (-0.5, 2.0)):
        site = attrs.evolve(LSC, ha_limits=limits)
        hours[limits] = lco.planning.plan([target], [site], night=NIGHT,
                                          constraints=Constraints(min_moon_separation=0)).rows[0].hours
    assert hours[None] > 6
    assert hours[(-1.0, 1.0)] == pytest.approx(2.0 * 0.99727, abs=0.02)  # sidereal hours
    assert hours[(-0.5, 2.0)] == pytest.approx(2.5 * 0.99727, abs=0.02)
    overridden = lco.planning.plan([target], [attrs.evolve(LSC, ha_limits=(-1.0, 1.0))], night=NIGHT,
                                   constraints=Constraints(min_moon_separation=0, ha_limits=(-3.0, 3.0)))
    assert overridden.rows[0].hours == pytest.approx(6.0 * 0.99727, abs=0.02)
    low = attrs.evolve(LSC, ha_limits=None, min_altitude=70.0)
    row = lco.planning.plan([target], [low], night=NIGHT, constraints=Constraints(min_moon_separation=0)).rows[0]
    phi, delta = math.radians(LSC.latitude), math.radians(-30.0)
    cos_h = (math.sin(math.radians(70)) - math.sin(phi) * math.sin(delta)) / (math.cos(phi) * math.cos(delta))
    assert row.hours == pytest.approx(2 * math.degrees(math.acos(cos_h)) / 15 * 0.99727, abs=0.02)
    assert row.min_airmass < 1.001
    unreachable = attrs.evolve(LSC, ha_limits=None, min_altitude=89.95)
    row = lco.planning.plan([target], [unreachable], night=NIGHT, constraints=Constraints(min_moon_separation=0)).rows[0]
    assert row.reason == "never above 89.95 degrees (the telescope's lowest) at night"


def test_a_site_without_darkness(lco: Any) -> None:
    north = Site("nor", "Nordic", 65.0, 20.0, 100.0)
    plan = lco.planning.plan(sky(3), [north, LSC], night=date(2026, 6, 21), constraints=Constraints())
    assert plan.nights[0].start is None and plan.nights[0].hours == 0
    rows = [r for r in plan.rows if r.site == "nor"]
    assert len(rows) == 3 and all(r.reason == "no astronomical darkness that night" for r in rows)
    assert plan.nights[1].hours > 9  # a southern winter night
    civil = lco.planning.plan(sky(3), [north], night=date(2026, 6, 21), constraints=Constraints(twilight="civil"))
    assert civil.nights[0].start is None  # white nights


def test_the_default_night_is_the_current_or_next_one(lco: Any) -> None:
    night = lco.planning.night_of(LSC)
    assert night.date == date(2026, 3, 1)  # NOW is 12:00 UTC on 2026-03-01, 07:17 at lsc
    lco.clock = lambda: NOW + timedelta(hours=14)  # 02:00 UTC: 21:17 at lsc, dark
    assert lco.planning.night_of(LSC).date == date(2026, 3, 1)
    lco.clock = lambda: NOW + timedelta(hours=22)  # the night has ended at lsc
    assert lco.planning.night_of(LSC).date == date(2026, 3, 2)


def test_non_sidereal_and_sidereal_targets_together(lco: Any) -> None:
    comet = Target(name="comet", type=NON_SIDEREAL, scheme=MPC_COMET, perihdist=1.0, epoch_of_perihelion=61100.0,
                   eccentricity=0.9, inclination=60.0, lng_asc_node=200.0, arg_of_perihelion=100.0,
                   epoch_of_elements=61100.0, id=99)
    plan = lco.planning.plan([*sky(5), comet], [LSC], night=NIGHT, constraints=Constraints(min_moon_separation=0))
    row = next(r for r in plan.rows if r.target == "comet")
    alone = lco.planning.plan([comet], [LSC], night=NIGHT, constraints=Constraints(min_moon_separation=0)).rows[0]
    assert row == alone
    assert row.altitude is not None and row.best_time is not None


def test_planning_works_with_no_network(lco: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No IERS or site download at run time: every connection attempt fails the test."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # parse the bundled IERS table afresh
    monkeypatch.setattr(almanac, "_UT1_TABLE", None)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    far = date(2031, 6, 1)  # past the bundled IERS predictions
    plan = lco.planning.plan(sky(10), lco.planning.resolve_sites("testlco"), night=far, constraints=Constraints())
    assert len(plan.rows) == 60 and plan.observable


def test_curves_agree_with_the_plan(lco: Any) -> None:
    targets = sky(12)
    sites = [LSC, next(s for s in LCO_SITES if s.code == "ogg")]
    constraints = Constraints(step_minutes=2.0)
    plan = lco.planning.plan(targets, sites, night=NIGHT, constraints=constraints)
    charts = lco.planning.curves(targets, sites, night=NIGHT, constraints=constraints)
    assert [c.night for c in charts] == plan.nights
    for chart in charts:
        night = chart.night
        assert chart.times[0] < night.start and chart.times[-1] > night.end  # margins around the night
        assert chart.sun_altitude.max() > -18 > chart.sun_altitude.min()
        step_hours = (chart.mjd[1] - chart.mjd[0]) * 24
        airmass = chart.airmass
        for i, name in enumerate(chart.targets):
            row = next(r for r in plan.rows if r.target == name and r.site == night.site.code)
            assert chart.observable[i].sum() * step_hours == pytest.approx(row.hours, abs=2 * step_hours)
            if row.observable:
                best = np.nanmin(np.where(chart.observable[i], airmass[i], np.nan))
                # never better than the plan; worse by at most a grid step at a window's edge
                assert row.min_airmass - 0.005 <= best <= row.min_airmass + 0.05
            assert np.all(np.isnan(airmass[i][chart.altitude[i] <= 0]))


def test_a_bright_moon_limits_targets_to_when_it_is_down(lco: Any) -> None:
    coj = next(s for s in LCO_SITES if s.code == "coj")
    coj = attrs.evolve(coj, ha_limits=None)
    targets = sky(40)
    bright = Constraints(min_moon_separation=0, max_moon_illumination=0.5)
    plan = lco.planning.plan(targets, [coj, attrs.evolve(LSC, ha_limits=None)], night=NIGHT, constraints=bright)
    coj_night, lsc_night = plan.nights
    assert coj_night.moon_illumination > 0.9 and coj_night.moon_set is not None  # full Moon, sets before dawn
    assert lsc_night.moon_rise is None and lsc_night.moon_set is None  # up all night at lsc
    for row in plan.rows:
        if row.site == "lsc":
            assert not row.observable
            if row.reason.startswith("the Moon"):
                assert row.reason == "the Moon, more than 50% illuminated, is up whenever high enough"
        elif row.observable:
            assert row.start >= coj_night.moon_set - timedelta(seconds=60)
            assert row.hours <= (coj_night.end - coj_night.moon_set).total_seconds() / 3600 + 0.02
    assert any(r.observable for r in plan.rows if r.site == "coj")
    dim = lco.planning.plan(targets, [coj], night=NIGHT,
                            constraints=Constraints(min_moon_separation=0, max_moon_illumination=1.0))
    assert sum(r.hours for r in dim.rows) > 5 * sum(r.hours for r in plan.rows)
    with pytest.raises(ValidationError):
        lco.planning.constraints(max_moon_illumination=1.5)
