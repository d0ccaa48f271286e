"""The one matcher: normalised names and aliases, positions within the radius."""

from __future__ import annotations

import pytest

from tomcore.domain.targets import Target, normalise_name


@pytest.mark.parametrize(("a", "b"), [
    ("SN 2024abc", "AT2024ABC"), ("sn2011fe", "2011fe"), ("NGC 224", "ngc-224"), ("M(31)", "m_31"),
    ("ZTF21 aaa bbb", "ztf21aaabbb"), ("AT\u00a02020xyz", "at 2020xyz"),
])
def test_normalised_names_are_equal(a, b):
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize(("a", "b"), [("SNake", "ake"), ("ATLAS20a", "LAS20a"), ("M31", "M32"), ("SN2024a", "SN2024b")])
def test_different_names_stay_different(a, b):
    assert normalise_name(a) != normalise_name(b)


def test_name_and_alias_matches(tom):
    tom.targets.save([Target(name="SN 2011fe", ra=210.774, dec=54.2737, aliases=["PTF11kly"]),
                      Target(name="M31", ra=10.6847, dec=41.2690)])
    found = tom.matcher.match_many([Target(name="AT2011FE"), Target(name="ptf 11kly"), Target(name="M 31"),
                                    Target(name="nothing")])
    assert [[c.name for c in cands] for cands in found] == [["SN 2011fe"], ["SN 2011fe"], ["M31"], []]
    assert found[1][0].matched_name == "PTF11kly"
    assert found[0][0].by == ("name",)


def test_positional_match_reports_separation_and_respects_radius(tom):
    tom.targets.save([Target(name="star", ra=150.0, dec=2.0)])
    near = Target(name="near", ra=150.0 + 1.0 / 3600, dec=2.0)
    far = Target(name="far", ra=150.0 + 3.0 / 3600, dec=2.0)
    (hit,), miss = tom.matcher.match_many([near, far])
    assert hit.name == "star" and hit.by == ("position",)
    assert hit.separation_arcsec == pytest.approx(0.99939, abs=1e-4)  # 1" of RA at dec 2
    assert miss == []
    assert [c.name for c in tom.matcher.match(far, radius_arcsec=5.0)] == ["star"]


def test_match_radius_is_configurable(tom_factory):
    tom = tom_factory(env={"TOM_MATCHER_RADIUS_ARCSEC": "10"})
    assert tom.matcher.radius_arcsec == 10.0
    tom.targets.save([Target(name="star", ra=150.0, dec=2.0)])
    assert [c.name for c in tom.matcher.match(Target(name="x", ra=150.0 + 8 / 3600, dec=2.0))] == ["star"]


def test_name_and_position_together_and_name_first(tom):
    tom.targets.save([Target(name="A", ra=100.0, dec=-30.0), Target(name="B", ra=100.0 + 0.5 / 3600, dec=-30.0)],
                     radius_arcsec=0.1)
    cands = tom.matcher.match(Target(name="b", ra=100.0, dec=-30.0))
    assert [c.name for c in cands] == ["B", "A"]
    assert cands[0].by == ("name", "position")
    assert cands[1].separation_arcsec == pytest.approx(0.0, abs=1e-9)


def test_name_match_far_away_still_gets_its_separation(tom):
    tom.targets.save([Target(name="SN 2023ixf", ra=210.9107, dec=54.3117)])
    (cand,) = tom.matcher.match(Target(name="2023ixf", ra=10.0, dec=-20.0))
    assert cand.by == ("name",)
    assert cand.separation_arcsec > 3600 * 50


def test_exclude_ids(tom):
    report = tom.targets.save([Target(name="A", ra=1.0, dec=1.0)])
    tid = report.created[0].id
    assert tom.matcher.match(Target(name="A", ra=1.0, dec=1.0), exclude_ids=[tid]) == []


def test_batch_of_many_lookups_against_many_targets(tom):
    import random

    rng = random.Random(5)
    stored = [Target(name=f"T{i}", ra=rng.uniform(0, 360), dec=rng.uniform(-89, 89), aliases=[f"alias-{i}"])
              for i in range(3000)]
    tom.targets.save(stored)
    probes = [Target(name=f"ALIAS {i}") for i in range(0, 3000, 7)]
    probes += [Target(name=f"p{i}", ra=t.ra, dec=t.dec + 0.3 / 3600) for i, t in enumerate(stored[::5])]
    results = tom.matcher.match_many(probes)
    by_name = results[: len(range(0, 3000, 7))]
    assert [c[0].name for c in by_name] == [f"T{i}" for i in range(0, 3000, 7)]
    by_pos = results[len(by_name):]
    assert [c[0].name for c in by_pos] == [t.name for t in stored[::5]]
    assert all(c[0].separation_arcsec == pytest.approx(0.3, abs=1e-3) for c in by_pos)
