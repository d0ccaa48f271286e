"""Property tests of the sky index against astropy: zero misses, zero extras.

Skies are dense at both poles, along RA 0/360 and at HEALPix base-cell corners; cones are
anywhere, including on the poles and straddling RA 0/360, from 0.1" to 40 degrees.

Points within 1e-9 degree of a cone's edge are left out of the comparison: there the
answer depends on the last bit of a double (astropy's Vincenty formula and our chord
distance round differently), and neither answer is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tomcore.services import sky

EDGE = 1e-9  # degrees


def astropy_separation(ra0, dec0, ra, dec):
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    centre = SkyCoord(ra0 * u.deg, dec0 * u.deg)
    return centre.separation(SkyCoord(np.asarray(ra) * u.deg, np.asarray(dec) * u.deg)).deg


def hard_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform on the sphere plus crowds at the poles, on RA 0/360, and at the
    corners of HEALPix base cells."""
    k = n // 5
    u = rng.random(k)
    ra = [rng.random(k) * 360, rng.random(k) * 360, np.concatenate([rng.random(k // 2) * 0.02, 360 - rng.random(k - k // 2) * 0.02])]
    dec = [np.degrees(np.arcsin(2 * u - 1)), np.concatenate([90 - rng.random(k // 2) ** 2 * 2, -90 + rng.random(k - k // 2) ** 2 * 2]),
           rng.uniform(-90, 90, k)]
    corners_ra = rng.choice([0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0], size=2 * k) + rng.normal(0, 0.5, 2 * k)
    corners_dec = rng.choice([-41.8103149, 0.0, 41.8103149], size=2 * k) + rng.normal(0, 0.5, 2 * k)
    ra.append(np.mod(corners_ra, 360))
    dec.append(np.clip(corners_dec, -90, 90))
    return np.concatenate(ra), np.concatenate(dec)


ra_strategy = st.one_of(
    st.floats(0, 360, exclude_max=True),
    st.floats(0, 0.05),
    st.floats(359.95, 360, exclude_max=True),
    st.sampled_from([0.0, 45.0, 90.0, 180.0, 270.0, 359.999999]),
)
dec_strategy = st.one_of(
    st.floats(-90, 90),
    st.floats(88, 90),
    st.floats(-90, -88),
    st.sampled_from([-90.0, 90.0, 0.0, 41.8103149, -41.8103149]),
)
radius_strategy = st.one_of(
    st.floats(1e-4, 1.0),
    st.floats(1.0, 40.0),
    st.floats(0.1 / 3600, 10 / 3600),
)


@settings(max_examples=400, deadline=None)
@given(ra0=ra_strategy, dec0=dec_strategy, radius=radius_strategy, seed=st.integers(0, 2**31))
@example(ra0=45.0, dec0=-89.0, radius=1.09375, seed=0)  # cdshealpix alone missed a cell here
def test_cone_ranges_cover_every_point_inside(ra0, dec0, radius, seed):
    """Every point inside a cone has its order-29 index inside the cone's ranges."""
    rng = np.random.default_rng(seed)
    # points scattered inside and around the cone (offsets in a local tangent frame)
    n = 300
    bearing = rng.random(n) * 2 * np.pi
    dist = radius * np.sqrt(rng.random(n)) * 1.3
    ra, dec = offset(ra0, dec0, bearing, dist)
    ranges = sky.cone_ranges(ra0, dec0, radius)
    hpx = sky.hpx_index(ra, dec)
    lo = np.array([a for a, _ in ranges])
    hi = np.array([b for _, b in ranges])
    pos = np.searchsorted(lo, hpx, side="right") - 1
    covered = (pos >= 0) & (hpx <= hi[np.clip(pos, 0, None)])
    sep = astropy_separation(ra0, dec0, ra, dec)
    inside = sep < radius - EDGE
    assert not np.any(inside & ~covered), "cone ranges miss points inside the cone"


def offset(ra0, dec0, bearing, dist_deg):
    """Positions at ``dist_deg`` from (ra0, dec0) along ``bearing`` (great circles)."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    centre = SkyCoord(ra0 * u.deg, dec0 * u.deg)
    moved = centre.directional_offset_by(bearing * u.rad, dist_deg * u.deg)
    return moved.ra.deg, moved.dec.deg


@settings(max_examples=300, deadline=None)
@given(ra0=ra_strategy, dec0=dec_strategy, radius=st.one_of(st.floats(1e-6, 0.01), st.floats(0.01, 45.0)),
       seed=st.integers(0, 2**31))
def test_neighbourhood_holds_every_cone(ra0, dec0, radius, seed):
    """A cone of radius r lies in its centre's cell and the neighbours at the
    neighbourhood depth of r: checked with points right at the edge of the cone."""
    depth = sky.neighbourhood_depth(radius)
    if depth < 0:
        return
    rng = np.random.default_rng(seed)
    bearing = rng.random(500) * 2 * np.pi
    ra, dec = offset(ra0, dec0, bearing, np.full(500, radius * (1 - 1e-9)))
    _, _, around = sky.neighbourhoods([ra0], [dec0], radius)
    cells = sky.hpx_index(ra, dec, order=depth)
    assert np.isin(cells, around[0]).all(), f"depth {depth} too fine for radius {radius}"


@pytest.fixture
def sky_tom(tom):
    """A TOM holding a hard sky of 6,000 targets (positions only)."""
    from tomcore.domain.targets import Target

    rng = np.random.default_rng(20241124)
    ra, dec = hard_sky(rng, 6000)
    tom.targets.save([Target(name=f"P{i}", ra=float(r), dec=float(d)) for i, (r, d) in enumerate(zip(ra, dec, strict=True))],
                     on_duplicate="skip", radius_arcsec=0.0)
    with tom.db.session(readonly=True) as s:
        from sqlalchemy import select

        from tomcore.store.models import TargetRow

        rows = s.execute(select(TargetRow.id, TargetRow.ra, TargetRow.dec)).all()
    tom._sky = (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), np.array([r[2] for r in rows]))
    return tom


def test_cone_search_in_sql_is_exact(sky_tom):
    """The SQL cone search (ranges then chord cut) equals astropy's separation on both
    backends, for random cones and cones on the poles and across RA 0/360."""
    from sqlalchemy import select

    from tomcore.store.models import TargetRow

    ids, ra, dec = sky_tom._sky

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(ra0=ra_strategy, dec0=dec_strategy, radius=radius_strategy)
    def check(ra0, dec0, radius):
        with sky_tom.db.session(readonly=True) as s:
            found = set(s.execute(sky.apply_cone(select(TargetRow.id), TargetRow, ra0, dec0, radius)).scalars())
        sep = astropy_separation(ra0, dec0, ra, dec)
        clear = np.abs(sep - radius) > EDGE
        expected = set(ids[(sep <= radius) & clear].tolist())
        found_clear = found & set(ids[clear].tolist())
        assert found_clear - expected == set(), "extras"
        assert expected - found_clear == set(), "misses"

    check()


def test_positional_matcher_equals_brute_force(sky_tom):
    """by_positions finds exactly the targets within the radius (any radius, including
    ones big enough to need coarse neighbourhoods), with astropy's separations."""
    ids, ra, dec = sky_tom._sky

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(centres=st.lists(st.tuples(ra_strategy, dec_strategy), min_size=1, max_size=20),
           radius_arcsec=st.one_of(st.floats(0.5, 60.0), st.floats(60.0, 20000.0)))
    def check(centres, radius_arcsec):
        q_ra = [c[0] for c in centres]
        q_dec = [c[1] for c in centres]
        with sky_tom.db.session(readonly=True) as s:
            got = sky_tom.matcher.by_positions(s, q_ra, q_dec, radius_arcsec)
        for (ra0, dec0), hits in zip(centres, got, strict=True):
            sep = astropy_separation(ra0, dec0, ra, dec) * 3600
            clear = np.abs(sep - radius_arcsec) > EDGE * 3600
            expected = set(ids[(sep <= radius_arcsec) & clear].tolist())
            found = {tid for tid, _name, _sep in hits}
            assert (found & set(ids[clear].tolist())) == expected
            for tid, _name, s_arcsec in hits:
                assert s_arcsec == pytest.approx(sep[ids == tid][0], abs=1e-6)
            assert [h[2] for h in hits] == sorted(h[2] for h in hits)

    check()


def test_positional_matcher_near_poles_and_ra_wrap(tom):
    """Pairs straddling RA 0/360 and the poles are found (the old grid missed them)."""
    from tomcore.domain.targets import Target

    tom.targets.save([Target(name="wrap", ra=359.9999, dec=10.0), Target(name="pole", ra=10.0, dec=89.99995),
                      Target(name="south", ra=200.0, dec=-89.99999)])
    probes = [Target(name="a", ra=0.0001, dec=10.0), Target(name="b", ra=190.0, dec=89.99995),
              Target(name="c", ra=20.0, dec=-89.99999)]
    found = tom.matcher.match_many(probes)
    assert [[c.name for c in cands] for cands in found] == [["wrap"], ["pole"], ["south"]]
    assert all(0 < cands[0].separation_arcsec < 2 for cands in found)


def test_cone_ranges_cover_the_point_cdshealpix_missed():
    """Regression: (45, -89), r = 1.09375 deg; the point 9" inside the cone near the south
    pole and RA 0 was outside cdshealpix's coverage of the plain cone."""
    ra, dec = 359.9851290208907, -88.46194919244377
    assert astropy_separation(45.0, -89.0, [ra], [dec])[0] < 1.09375
    hpx = int(sky.hpx_index([ra], [dec])[0])
    assert any(lo <= hpx <= hi for lo, hi in sky.cone_ranges(45.0, -89.0, 1.09375))


def test_hard_sky_has_the_crowds_it_claims():
    ra, dec = hard_sky(np.random.default_rng(1), 5000)
    assert (dec > 89).sum() > 300 and (dec < -89).sum() > 300
    assert ((ra < 0.05) | (ra > 359.95)).sum() > 800
    assert ra.min() >= 0 and ra.max() < 360 and np.abs(dec).max() <= 90
