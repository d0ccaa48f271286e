"""The alerts service: ingestion through the matcher, idempotence, one transaction per page,
saved queries and their runs. Uses the in-memory broker of the test kit (no HTTP)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from tomcore import hookimpl
from tomcore.domain.targets import Target
from tomcore.domain.times import datetime_to_mjd
from tomcore.errors import NotFoundError, ValidationError
from tomcore.services.alerts import IngestInterrupted
from tomcore.testing.brokers import MemoryBroker, MemoryPlugin, memory_tom


def photometry_rows(tom):
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow

    with tom.db.session(readonly=True) as s:
        return s.execute(select(PhotometryRow.target_id, PhotometryRow.source, PhotometryRow.band,
                                PhotometryRow.time, PhotometryRow.mag, PhotometryRow.mag_limit,
                                PhotometryRow.source_id, PhotometryRow.query_name)).all()


@pytest.fixture
def mem(tom_factory):
    return memory_tom(tom_factory)


def test_ingest_creates_targets_with_light_curves_and_second_run_adds_nothing(mem):
    tom, broker = mem
    for i in range(5):
        broker.add(f"ZTF24aaa{i}", 10.0 + i, -5.0 + i, points=6)
    first = tom.alerts.ingest("memory", {})
    assert (first.pages, first.alerts, first.created, first.updated, first.unchanged) == (3, 5, 5, 0, 0)
    assert first.points_added == 30
    rows = photometry_rows(tom)
    assert len(rows) == 30
    assert {r.source for r in rows} == {"memory"}
    assert {r.source_id for r in rows} == {f"ZTF24aaa{i}" for i in range(5)}
    limits = [r for r in rows if r.mag is None]
    assert limits and all(r.mag_limit == 20.5 for r in limits)
    target = tom.targets.get("ZTF24aaa3")
    assert (target.ra, target.dec) == (13.0, -2.0)
    assert target.extras["memory_score"] == 0.5

    second = tom.alerts.ingest("memory", {})
    assert (second.created, second.updated, second.unchanged, second.points_added) == (0, 0, 5, 0)
    assert len(photometry_rows(tom)) == 30
    assert tom.targets.count() == 5


def test_existing_target_by_alias_or_position_gets_the_broker_id_and_points_not_new_fields(mem):
    tom, broker = mem
    tom.targets.create(Target(name="SN 2024abc", ra=150.0, dec=2.0, aliases=["ZTF24named"],
                              extras={"memory_score": 0.9, "own": "kept"}))
    tom.targets.create(Target(name="Near", ra=200.0, dec=-30.0))
    broker.add("ZTF24named", 150.0005, 2.0003, points=4)  # by alias (and position)
    broker.add("ZTF24close", 200.0 + 0.5 / 3600, -30.0, points=4)  # 0.5" away: by position only
    summary = tom.alerts.ingest("memory", {})
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 0)
    named = tom.targets.get("SN 2024abc")
    assert (named.ra, named.dec) == (150.0, 2.0)  # the TOM's own position is kept
    assert named.extras["memory_score"] == 0.5  # the broker's extras are its latest values
    assert named.extras["own"] == "kept"  # and extras the broker does not give stay
    near = tom.targets.get("ZTF24close")
    assert near.name == "Near" and "ZTF24close" in near.aliases
    by_target = {}
    for row in photometry_rows(tom):
        by_target.setdefault(row.target_id, []).append(row)
    assert {len(v) for v in by_target.values()} == {4}
    assert set(by_target) == {named.id, near.id}


def test_bad_records_are_reported_with_their_id_and_skipped(mem):
    tom, broker = mem
    broker.add("ZTF24good", 10.0, 10.0)
    broker.add("ZTF24nan", math.nan, 10.0)
    broker.add("ZTF24far", 10.0, 95.0)
    broker.add("ZTF24miss", 12.0, 10.0)
    broker.objects["ZTF24miss"]["ra"] = None
    broker.add("ZTF24nolc", 20.0, 20.0)
    broker.curves["ZTF24nolc"] = None  # the broker cannot read its light curve
    summary = tom.alerts.ingest("memory", {"page_size": 10})
    assert summary.created == 2 and summary.skipped == 3
    text = "\n".join(summary.problems)
    assert "ZTF24nan: skipped: ra is not a finite number" in text
    assert "ZTF24far: skipped: dec 95 is outside [-90, 90]" in text
    assert "ZTF24miss: missing field ra" in text
    assert "ZTF24nolc: no light curve" in text
    assert tom.targets.get("ZTF24nolc").id is not None  # the target without its light curve


def test_a_broker_failure_keeps_committed_pages_and_a_rerun_completes(mem):
    tom, broker = mem
    for i in range(6):
        broker.add(f"ZTF24b{i}", 30.0 + i, 1.0, points=3)
    broker.fail_on_page = 2
    with pytest.raises(IngestInterrupted) as caught:
        tom.alerts.ingest("memory", {})
    message = str(caught.value)
    assert "Memory: GET http://memory/objects?page=2 answered 503" in message
    assert "kept what was ingested before: 2 alerts: 2 created" in message
    assert tom.targets.count() == 2 and len(photometry_rows(tom)) == 6
    broker.fail_on_page = None
    summary = tom.alerts.ingest("memory", {})
    assert (summary.created, summary.unchanged, summary.points_added) == (4, 2, 12)
    assert len(photometry_rows(tom)) == 18


def test_a_failing_light_curve_service_stops_before_the_page_is_written(mem):
    from tomcore.errors import ServiceError

    tom, broker = mem
    broker.add("ZTF24c1", 40.0, 1.0)
    broker.fail_curve = ServiceError("Memory", "GET http://memory/lc timed out after 5 s (2 retries)")
    with pytest.raises(IngestInterrupted, match=r"timed out after 5 s.*nothing was ingested"):
        tom.alerts.ingest("memory", {})
    assert tom.targets.count() == 0


def test_duplicates_within_a_page_fold_into_one_target(mem):
    tom, broker = mem
    broker.add("ZTF24d1", 50.0, 5.0, points=4)
    broker.add("ZTF24d2", 50.0 + 0.3 / 3600, 5.0, points=4)  # the same object under two ids
    summary = tom.alerts.ingest("memory", {"page_size": 5})
    assert summary.created == 1
    target = tom.targets.get("ZTF24d1")
    assert "ZTF24d2" in target.aliases
    assert {r.target_id for r in photometry_rows(tom)} == {target.id}


def test_query_validates_parameters_first(mem):
    tom, _ = mem
    with pytest.raises(ValidationError) as caught:
        list(tom.alerts.query("memory", {"page_size": "x", "kind": "c", "nope": 1}))
    errors = caught.value.errors
    assert set(errors) == {"page_size", "kind", "nope"}
    assert "not one of: a, b" in errors["kind"][0]


def test_limit_caps_the_alerts(mem):
    tom, broker = mem
    for i in range(5):
        broker.add(f"ZTF24e{i}", 60.0 + i, 0.5)
    assert tom.alerts.ingest("memory", {}, limit=3).alerts == 3


def test_saved_queries_run_and_record_what_they_ingested(mem):
    tom, broker = mem
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    tom.clock = lambda: t0
    mjd0 = datetime_to_mjd(t0)
    broker.add("ZTF24f0", 69.0, 1.0, points=3, lastmjd=mjd0 - 5)  # too old for the second run
    broker.add("ZTF24f1", 70.0, 1.0, points=3, lastmjd=mjd0)
    saved = tom.alerts.save_query("nightly", "memory", {"prefix": "ZTF24f", "page_size": "5"})
    assert saved.parameters == {"prefix": "ZTF24f", "page_size": 5}
    with pytest.raises(ValidationError, match="exists"):
        tom.alerts.save_query("nightly", "memory", {})
    [run] = tom.alerts.run_saved(["nightly"])
    assert (run.status, run.created, run.points_added, run.since) == ("ok", 2, 6, None)
    assert broker.calls[-1]["since"] is None

    tom.clock = lambda: t0 + timedelta(days=1)
    broker.add("ZTF24f2", 71.0, 1.0, points=2, lastmjd=mjd0 + 0.5)
    [run2] = tom.alerts.run_saved(["nightly"])
    # asks for what changed since the last successful run, less the overlap (24 h)
    assert broker.calls[-1]["since"] == t0 - timedelta(hours=24)
    assert run2.since == t0 - timedelta(hours=24)
    assert (run2.created, run2.unchanged, run2.points_added) == (1, 1, 2)

    [listed] = tom.alerts.saved()
    assert listed.last_status == "ok" and listed.last_run == t0 + timedelta(days=1)
    assert listed.last_success == t0 + timedelta(days=1)
    assert "1 created, 0 updated, 1 unchanged; 2 new points" in listed.last_summary
    history = tom.alerts.history("nightly")
    assert [h.run_id for h in history] == [run2.run_id, run.run_id]
    items = tom.alerts.saved_queries.ingested(run2.run_id)
    assert sorted((i["object_id"], i["action"], i["points_added"]) for i in items) == [
        ("ZTF24f1", "unchanged", 0), ("ZTF24f2", "created", 2)]
    points = photometry_rows(tom)
    assert {p.query_name for p in points} == {"nightly"}


def test_one_failing_saved_query_does_not_stop_the_others(mem):
    tom, broker = mem
    broker.add("ZTF24g1", 80.0, 1.0)
    tom.alerts.save_query("a-bad", "memory", {"prefix": "ZTF24g"})
    tom.alerts.save_query("b-good", "memory", {"prefix": "ZTF24g"})
    broker.fail_on_page = 1
    calls = []
    original = broker.query

    def query(params, **kw):
        calls.append(1)
        if len(calls) == 2:
            broker.fail_on_page = None
        return original(params, **kw)

    broker.query = query
    runs = tom.alerts.run_saved(all=True)
    assert [(r.name, r.status) for r in runs] == [("a-bad", "failed"), ("b-good", "ok")]
    assert "answered 503" in runs[0].error
    assert runs[1].created == 1
    bad = tom.alerts.get_saved("a-bad")
    assert bad.last_status == "failed" and bad.last_success is None


def test_saved_query_whose_parameters_no_longer_validate_fails_alone(mem):
    tom, _ = mem
    tom.alerts.save_query("q", "memory", {"kind": "a"})
    from sqlalchemy import update

    from tomcore.store.models import AlertQueryRow

    with tom.db.session() as s:
        s.execute(update(AlertQueryRow).values(parameters={"kind": "zzz"}))
    [run] = tom.alerts.run_saved(["q"])
    assert run.status == "failed" and "kind" in run.error


def test_run_saved_refuses_unknown_names_before_running(mem):
    tom, broker = mem
    tom.alerts.save_query("known", "memory", {})
    with pytest.raises(NotFoundError, match="no saved query named 'nope' \\(saved: known\\)"):
        tom.alerts.run_saved(["known", "nope"])
    assert broker.calls == []
    with pytest.raises(ValidationError):
        tom.alerts.run_saved([])


def test_delete_saved_query(mem):
    tom, _ = mem
    tom.alerts.save_query("gone", "memory", {})
    tom.alerts.run_saved(["gone"])
    tom.alerts.delete_saved("gone")
    assert tom.alerts.saved() == []
    with pytest.raises(NotFoundError):
        tom.alerts.delete_saved("gone")


def test_hook_register_brokers(tom_factory):
    broker = MemoryBroker()
    tom = tom_factory(load_plugins=[], plugins={"memory": MemoryPlugin(broker)})
    assert tom.alerts.broker("memory") is broker
    assert [b.name for b in tom.alerts.brokers()] == ["memory"]
    assert broker.plugin_name == "memory"
    assert broker.config["workers"] == 4  # every broker has the common settings
    described = broker.describe()
    assert [p["name"] for p in described["params"]] == ["prefix", "page_size", "kind"]
    from tomcore.errors import UnknownComponentError

    with pytest.raises(UnknownComponentError, match="available: memory"):
        tom.alerts.broker("nope")


def test_reserved_parameter_names_are_refused():
    from tomcore.contracts.base import Param
    from tomcore.contracts.brokers import Broker

    with pytest.raises(TypeError, match="reserved"):
        type("Bad", (Broker,), {"name": "bad", "params": (Param("limit", "int"),)})


def test_hook_on_alerts_ingested(tom_factory):
    broker = MemoryBroker()
    seen = {"alerts": [], "reduced": [], "created": []}

    class Listener:
        @hookimpl
        def on_alerts_ingested(self, tom, report):
            seen["alerts"].append(report)

        @hookimpl
        def on_reduced_data_saved(self, tom, batch):
            seen["reduced"].append(batch)

        @hookimpl
        def on_targets_created(self, tom, targets):
            seen["created"].append([t.name for t in targets])

    tom = tom_factory(load_plugins=[], plugins={"memory": MemoryPlugin(broker), "listener": Listener()})
    for i in range(3):
        broker.add(f"ZTF24h{i}", 90.0 + i, 3.0, points=2, lastmjd=datetime_to_mjd(datetime.now(UTC)))
    tom.alerts.save_query("q", "memory", {})
    tom.alerts.run_saved(["q"])
    assert len(seen["alerts"]) == 2  # once per page (pages of 2)
    first = seen["alerts"][0]
    assert first.broker == "memory" and first.query_name == "q"
    assert [a.object_id for a in first.alerts] == ["ZTF24h0", "ZTF24h1"]
    assert [t.name for t in first.created] == ["ZTF24h0", "ZTF24h1"] and first.points_added == 4
    assert seen["created"] == [["ZTF24h0", "ZTF24h1"], ["ZTF24h2"]]
    batch = seen["reduced"][0]
    assert batch.kind == "photometry" and batch.source == "memory" and batch.query_name == "q"
    assert batch.total == 4 and set(batch.target_names.values()) == {"ZTF24h0", "ZTF24h1"}
    # a second run: pages still reported, nothing new written
    tom.alerts.run_saved(["q"])
    assert len(seen["alerts"]) == 4 and len(seen["reduced"]) == 2
    assert [len(r.unchanged) for r in seen["alerts"][2:]] == [2, 1]


def test_ingested_targets_join_a_target_list(mem):
    tom, broker = mem
    tom.targets.create(Target(name="Known", ra=110.0, dec=1.0))
    broker.add("ZTF24l1", 110.0, 1.0)  # the same object as Known
    broker.add("ZTF24l2", 111.0, 1.0)
    tom.alerts.save_query("listed", "memory", {}, target_list="nightly-candidates")
    assert tom.alerts.get_saved("listed").target_list == "nightly-candidates"
    [run] = tom.alerts.run_saved(["listed"])
    assert (run.created, run.updated) == (1, 1)
    assert tom.targets.get("Known").lists == ["nightly-candidates"]
    assert tom.targets.get("ZTF24l2").lists == ["nightly-candidates"]
    summary = tom.alerts.ingest("memory", {}, target_list="other")
    assert summary.updated == 2 and tom.targets.get("ZTF24l2").lists == ["nightly-candidates", "other"]


def test_refresh_adds_new_points_of_stored_objects_only(mem):
    from tomcore.testing.brokers import make_points

    tom, broker = mem
    for i in range(3):
        broker.add(f"ZTF24ref{i}", 30.0 + i, 5.0, points=4)
    tom.alerts.ingest("memory", {})
    broker.add("ZTF24never", 40.0, 5.0, points=4)  # at the broker, never ingested: not refreshed
    broker.curves["ZTF24ref0"] = make_points("ZTF24ref0", 7)  # 3 new points since the ingest
    broker.curves["ZTF24ref1"] = NotFoundError("Memory has no object 'ZTF24ref1'")  # gone from the broker
    saved = []
    assert tom.plugins.register(_Spy(saved), "spy")

    (summary,) = tom.alerts.refresh(["memory"])
    assert (summary.objects, summary.targets_updated, summary.points_added) == (3, 1, 3)
    assert summary.problems == ["ZTF24ref1: light curve not found (Memory has no object 'ZTF24ref1')"]
    target = tom.targets.get("ZTF24ref0")
    rows = [r for r in photometry_rows(tom) if r.target_id == target.id]
    assert len(rows) == 7 and {r.source_id for r in rows} == {"ZTF24ref0"}
    assert tom.targets.count() == 3  # nothing created
    (batch,) = saved
    assert batch.source == "memory" and batch.counts == {target.id: 3}

    again = tom.alerts.refresh()
    assert [(s.broker, s.points_added) for s in again] == [("memory", 0)]  # idempotent
    (only,) = tom.alerts.refresh(targets=["ZTF24ref2"])
    assert only.objects == 1


class _Spy:
    def __init__(self, saved):
        self.saved = saved

    @hookimpl
    def on_reduced_data_saved(self, tom, batch):
        self.saved.append(batch)
