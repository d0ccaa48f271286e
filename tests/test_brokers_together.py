"""ALeRCE and ANTARES into one TOM: the same ZTF object known to both brokers ends as ONE
target with both names and one copy of each broker's points, whatever the order and however
many times the queries run; through the real `tom` command line."""

from __future__ import annotations

import random

import pytest

from tom_broker_alerce.fake import PREFIX as ALERCE_PREFIX
from tom_broker_alerce.fake import AlerceFake, make_object
from tom_broker_antares.fake import PREFIX as ANTARES_PREFIX
from tom_broker_antares.fake import AntaresFake, rows_from_alerce
from tomcore.services.photometry import points_of
from tomcore.testing.pytest_plugin import make_runner

ZTF_ID = "ZTF24abcdxyz"
LOCUS = "ANT2024abcdefg"


@pytest.fixture
def both(tom_factory, fake_service):
    alerce, antares = AlerceFake(), AntaresFake()
    obj, lightcurve, probabilities = make_object(random.Random(7), ZTF_ID, ra=150.123456, dec=2.345678, first=60311.25)
    alerce.add_object(obj, lightcurve, probabilities)
    alerce.make("ZTF24onlyalerce", ra=20.0, dec=-5.0)
    # ANTARES's own position of the locus differs by 0.3" from ALeRCE's mean position
    antares.add_locus(LOCUS, 150.123456 + 0.3 / 3600, 2.345678, ztf_object_id=ZTF_ID, tags=["extragalactic"],
                      rows=rows_from_alerce(ZTF_ID, lightcurve))
    antares.make("ANT2024onlyantares", ra=300.0, dec=40.0, ztf_object_id="ZTF24onlyantar")
    config = (f'\n[plugins.alerce]\nbase_url = "{fake_service(alerce).url + ALERCE_PREFIX}"\n'
              f'\n[plugins.antares]\nbase_url = "{fake_service(antares).url + ANTARES_PREFIX}"\n')
    tom = tom_factory("both", load_plugins=["alerce", "antares"], config=config)
    return tom, make_runner(tom), lightcurve


def check_one_target(tom, lightcurve, first="alerce"):
    target = tom.targets.get(ZTF_ID)
    assert tom.targets.get(LOCUS).id == target.id
    assert target.name == ZTF_ID and LOCUS in target.aliases
    ra = 150.123456 if first == "alerce" else 150.123456 + 0.3 / 3600
    assert (target.ra, target.dec) == (ra, 2.345678)  # the first broker's position is kept
    with tom.db.session(readonly=True) as s:
        points = points_of(s, target.id)
    n = len(lightcurve["detections"]) + len(lightcurve["non_detections"])
    by_source = {src: [p for p in points if p.source == src] for src in ("alerce", "antares")}
    assert len(by_source["alerce"]) == n and len(by_source["antares"]) == n
    keys = [(p.source, p.band, p.time) for p in points]
    assert len(keys) == len(set(keys))  # one copy of each point
    # the two brokers report the same measurements in the same bands and times
    assert {(p.band, p.time, p.mag) for p in by_source["alerce"]} == {(p.band, p.time, p.mag) for p in by_source["antares"]}
    assert {p.source_id for p in by_source["antares"]} == {LOCUS}
    assert target.extras["antares_tags"] == "extragalactic" and "alerce_class" in target.extras
    return target


@pytest.mark.parametrize("order", [("alerce", "antares"), ("antares", "alerce")])
def test_same_object_from_both_brokers_is_one_target(both, order):
    tom, run, lightcurve = both
    for broker in order * 2:  # each broker twice: the second time adds nothing
        run("alerts", "query", broker, "--ingest")
    target = check_one_target(tom, lightcurve, first=order[0])
    assert tom.targets.count() == 3
    assert tom.targets.get("ZTF24onlyalerce").id not in (None, target.id)
    assert tom.targets.get("ANT2024onlyantares").name == "ZTF24onlyantar"


def test_saved_queries_of_both_brokers_run_together(both):
    tom, run, lightcurve = both
    run("alerts", "save", "z-alerce", "alerce", "--oid", ZTF_ID)
    run("alerts", "save", "z-antares", "antares", "--ztf-id", ZTF_ID)
    first = run("alerts", "run", "--all", "--json").json()
    assert [(r["name"], r["status"]) for r in first] == [("z-alerce", "ok"), ("z-antares", "ok")]
    assert (first[0]["created"], first[1]["created"], first[1]["updated"]) == (1, 0, 1)
    again = run("alerts", "run", "--all", "--json").json()
    # the second runs ask only for objects with data since the first run (less the overlap):
    # these were last seen in 2024, so nothing comes back and nothing is added
    assert all(r["since"] and r["status"] == "ok" for r in again)
    assert [(r["alerts"], r["created"], r["updated"], r["points_added"]) for r in again] == [(0, 0, 0, 0)] * 2
    target = check_one_target(tom, lightcurve)
    with tom.db.session(readonly=True) as s:
        names = {p.source: p for p in points_of(s, target.id)}
    assert set(names) == {"alerce", "antares"}
