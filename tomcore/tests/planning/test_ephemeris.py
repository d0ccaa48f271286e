"""Two-body positions of non-sidereal targets: against astropy's planets, the Earth's own
orbit, and a numerical integration of the two-body problem for open orbits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tomcore.domain.targets import JPL_MAJOR_PLANET, MPC_COMET, MPC_MINOR_PLANET, NON_SIDEREAL, Target
from tomcore.services import ephemeris
from tomcore.services.almanac import Moments, SiteGeometry, local_angle, sin_altitude
from tomcore.services.ephemeris import (
    GAUSS_K,
    OBLIQUITY_J2000,
    earth_heliocentric,
    geocentric,
    heliocentric,
    orbit_problems,
    orbits_of,
    positions_cirs,
)

from .conftest import LCO_SITES

# Standish, "Keplerian elements for approximate positions of the major planets" (JPL),
# 1800-2050: a (AU), e, I, L, long. of perihelion, node (deg) at J2000 and rates per century.
MARS = ((1.52371034, 0.09339410, 1.84969142, -4.55343205, -23.94362959, 49.55953891),
        (0.00001847, 0.00007882, -0.00813131, 19140.30268499, 0.44441088, -0.29257343))
JUPITER = ((5.20288700, 0.04838624, 1.30439695, 34.39644051, 14.72847983, 100.47390909),
           (-0.00011607, -0.00013253, -0.00183714, 3034.74612775, 0.21252668, 0.20469106))
EARTH_MOON = ((1.00000261, 0.01671123, -0.00001531, 100.46457166, 102.93768193, 0.0),
              (0.00000562, -0.00004392, -0.01294668, 35999.37244981, 0.32327364, 0.0))
MJD = 61000.0  # 2025-11-19


def planet(name: str, elements: tuple, mjd: float = MJD, scheme: str = MPC_MINOR_PLANET) -> Target:
    values, rates = elements
    centuries = (mjd - 51544.5) / 36525
    a, e, inc, mean_longitude, perihelion_longitude, node = (v + r * centuries for v, r in zip(values, rates, strict=True))
    return Target(name=name, type=NON_SIDEREAL, scheme=scheme, epoch_of_elements=mjd, semimajor_axis=a,
                  eccentricity=e, inclination=inc, lng_asc_node=node,
                  arg_of_perihelion=perihelion_longitude - node, mean_anomaly=(mean_longitude - perihelion_longitude) % 360,
                  mean_daily_motion=math.degrees(GAUSS_K / a**1.5) if scheme == JPL_MAJOR_PLANET else None)


def separation_arcmin(ra1, dec1, ra2, dec2):
    cos = np.sin(dec1) * np.sin(dec2) + np.cos(dec1) * np.cos(dec2) * np.cos(ra1 - ra2)
    return np.degrees(np.arccos(np.clip(cos, -1, 1))) * 60


@pytest.mark.parametrize(("name", "elements", "scheme", "tolerance"), [
    ("mars", MARS, MPC_MINOR_PLANET, 1.0), ("jupiter", JUPITER, JPL_MAJOR_PLANET, 1.0)])
def test_planets_agree_with_astropy(name: str, elements: tuple, scheme: str, tolerance: float) -> None:
    """Elements at MJD propagated 0 to 90 days agree with astropy's planetary ephemeris within
    an arcminute (the accuracy of the approximate elements themselves)."""
    import erfa
    from astropy.coordinates import CIRS, get_body
    from astropy.time import Time

    target = planet(name, elements, scheme=scheme)
    assert orbit_problems(target) == []
    moments = Moments.at(MJD + np.array([0.0, 30.0, 90.0]))
    ra, dec, distance = geocentric(orbits_of([target]), moments.tt)
    ra, dec = erfa.atciqz(ra, dec, moments.astrom[None, :])
    times = Time(moments.mjd, format="mjd")
    body = get_body(name, times).transform_to(CIRS(obstime=times))
    assert np.max(separation_arcmin(ra[0], dec[0], body.ra.rad, body.dec.rad)) < tolerance
    assert np.max(np.abs(distance[0] - body.distance.to_value("au"))) < 0.005


def test_the_earths_orbit_gives_the_earth() -> None:
    orbits = orbits_of([planet("emb", EARTH_MOON)])
    moments = Moments.at(MJD + np.arange(0.0, 365.0, 30.0))
    sun_to_emb = heliocentric(orbits, moments.tt_mjd()[None, :])[0]
    # the Earth is 4.7e-5 AU from the Earth-Moon barycentre
    assert np.max(np.linalg.norm(sun_to_emb - earth_heliocentric(moments.tt), axis=-1)) < 2e-4


def two_body(q: float, e: float, days: float) -> np.ndarray:
    """Perifocal position after ``days`` from perihelion by RK4 integration."""
    mu = GAUSS_K**2
    state = np.array([q, 0.0, 0.0, math.sqrt(mu * (1 + e) / q)])

    def derivative(s: np.ndarray) -> np.ndarray:
        r3 = (s[0] ** 2 + s[1] ** 2) ** 1.5
        return np.array([s[2], s[3], -mu * s[0] / r3, -mu * s[1] / r3])

    steps = 20000
    h = days / steps
    for _ in range(steps):
        k1 = derivative(state)
        k2 = derivative(state + h / 2 * k1)
        k3 = derivative(state + h / 2 * k2)
        k4 = derivative(state + h * k3)
        state = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return state[:2]


@pytest.mark.parametrize("e", [0.3, 0.97, 1.0, 1.2, 3.0])
@pytest.mark.parametrize("days", [-40.0, 75.0])
def test_comet_orbits_agree_with_numerical_integration(e: float, days: float) -> None:
    q, perihelion = 0.8, 61000.0
    comet = Target(name="c", type=NON_SIDEREAL, scheme=MPC_COMET, epoch_of_elements=perihelion, perihdist=q,
                   epoch_of_perihelion=perihelion, eccentricity=e, inclination=0.0, lng_asc_node=0.0,
                   arg_of_perihelion=0.0)
    assert orbit_problems(comet) == []
    position = heliocentric(orbits_of([comet]), np.array([perihelion + days]))[0, 0]
    # i = node = peri = 0: the orbit lies in the ecliptic with perihelion on the x axis
    c, s = math.cos(OBLIQUITY_J2000), math.sin(OBLIQUITY_J2000)
    ecliptic = np.array([position[0], c * position[1] + s * position[2], -s * position[1] + c * position[2]])
    assert abs(ecliptic[2]) < 1e-12
    assert np.allclose(ecliptic[:2], two_body(q, e, days), atol=1e-7)


def test_near_parabolic_orbits_are_continuous() -> None:
    times = np.array([61000.0 + 30.0])
    positions = []
    for e in (1 - 1e-5, 1 - 1e-8, 1.0, 1 + 1e-8, 1 + 1e-5):
        comet = Target(name="c", type=NON_SIDEREAL, scheme=MPC_COMET, perihdist=1.1, epoch_of_perihelion=61000.0,
                       eccentricity=e, inclination=30.0, lng_asc_node=40.0, arg_of_perihelion=50.0,
                       epoch_of_elements=61000.0)
        positions.append(heliocentric(orbits_of([comet]), times)[0, 0])
    spread = np.ptp(np.array(positions), axis=0)
    assert np.all(spread < 1e-5)


def test_an_elliptic_orbit_closes_after_one_period() -> None:
    asteroid = Target(name="a", type=NON_SIDEREAL, scheme=MPC_MINOR_PLANET, epoch_of_elements=61000.0,
                      semimajor_axis=2.7, eccentricity=0.25, inclination=12.0, lng_asc_node=80.0,
                      arg_of_perihelion=70.0, mean_anomaly=123.0)
    period = 2 * math.pi / (GAUSS_K / 2.7**1.5)
    at = heliocentric(orbits_of([asteroid]), np.array([61000.0, 61000.0 + period, 61000.0 + period / 2]))[0]
    assert np.allclose(at[0], at[1], atol=1e-9)
    assert np.linalg.norm(at[0] - at[2]) > 1.0


def test_several_orbits_at_once_match_one_at_a_time() -> None:
    targets = [planet("mars", MARS), planet("jupiter", JUPITER),
               Target(name="c", type=NON_SIDEREAL, scheme=MPC_COMET, perihdist=1.3, epoch_of_perihelion=61020.0,
                      eccentricity=1.05, inclination=100.0, lng_asc_node=10.0, arg_of_perihelion=20.0,
                      epoch_of_elements=61000.0)]
    times = np.linspace(61000.0, 61010.0, 7)[None, :]
    together = heliocentric(orbits_of(targets), times)
    for i, target in enumerate(targets):
        assert np.allclose(together[i], heliocentric(orbits_of([target]), times)[0], atol=1e-12)


def test_topocentric_parallax_of_a_near_earth_object(monkeypatch: pytest.MonkeyPatch) -> None:
    site = LCO_SITES[3]
    geo = SiteGeometry.of(site)
    moments = Moments.at(np.linspace(61000.0, 61000.3, 5))
    direction = (np.full((1, 5), 1.0), np.full((1, 5), -0.4))
    altitudes = {}
    for distance in (0.01, 1e6):
        monkeypatch.setattr(ephemeris, "geocentric", lambda orbits, tt, d=distance: (*direction, np.full((1, 5), d)))
        ra, dec = positions_cirs(orbits_of([planet("x", MARS)]), moments, geo)
        altitudes[distance] = np.degrees(np.arcsin(sin_altitude(ra, dec, local_angle(moments, geo), geo)))[0]
    earth_radius_au = 6371e3 / 149597870700.0
    expected = np.degrees(earth_radius_au / 0.01 * np.cos(np.radians(altitudes[1e6])))
    assert np.allclose(altitudes[1e6] - altitudes[0.01], expected, rtol=0.02)


@pytest.mark.parametrize(("changes", "problem"), [
    ({"eccentricity": None}, "missing eccentricity"),
    ({"mean_anomaly": None, "semimajor_axis": None}, "missing mean_anomaly, semimajor_axis"),
    ({"eccentricity": -0.1}, "negative eccentricity"),
    ({"scheme": "NOPE"}, "unknown orbital element scheme"),
    ({"semimajor_axis": 0.0}, "semimajor axis is zero"),
])
def test_orbit_problems_name_what_is_missing(changes: dict, problem: str) -> None:
    import attrs

    target = attrs.evolve(planet("mars", MARS), **changes)
    assert any(problem in p for p in orbit_problems(target))


def test_comets_need_their_perihelion() -> None:
    comet = Target(name="c", type=NON_SIDEREAL, scheme=MPC_COMET, eccentricity=0.9, inclination=1.0,
                   lng_asc_node=1.0, arg_of_perihelion=1.0, epoch_of_elements=61000.0)
    assert orbit_problems(comet) == ["missing perihdist, epoch_of_perihelion"]
