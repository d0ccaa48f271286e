"""`tom run`: steps in order, each at its interval, a failing step reported and retried while
the others go on, leases between runners."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tomcore.errors import ServiceError
from tomcore.services.runner import Runner
from tomcore.testing.brokers import MemoryBroker, MemoryPlugin, make_points
from tomcore.testing.facility import SimulatedFacility
from tomcore.testing.pytest_plugin import make_runner

pytestmark = pytest.mark.usefixtures("no_planner")

T0 = datetime.now(UTC).replace(microsecond=0)
OBS = {"filter": ["r"], "exposure_time": 30}


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def world(tom_factory, webhook):
    """A TOM with a broker, the simulated facility, a webhook channel for every event, a clock."""
    sim, broker, clock = SimulatedFacility(clock=None), MemoryBroker(), Clock()
    sim.clock = clock
    config = f"""
[notify.channels.hook]
notifier = "webhook"
url = "{webhook.url}/hook"

[[notify.rules]]
events = ["*"]
channels = ["hook"]
"""
    tom = tom_factory("runner", load_plugins=[], plugins={"sim": sim.plugin(), "memory": MemoryPlugin(broker)},
                      config=config)
    tom.clock = clock
    from tomcore.domain.targets import Target

    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    return tom, sim, broker, clock


def test_once_runs_every_step_in_order(world, webhook):
    tom, sim, broker, _clock = world
    broker.add("ZTF24aaa", 150.0, 2.0, points=5)
    tom.alerts.save_query("nightly", "memory", {})
    cadence = tom.cadences.start("SN2024abc", "sim", "repeat", strategy_params={"every_hours": 24},
                                 observation_params=OBS).cadence
    sim.complete("1001", files=2)
    results = Runner(tom).round(force=True)
    assert [r.name for r in results] == ["alerts", "lightcurves", "status", "cadences", "data", "notify"]
    assert all(r.ok for r in results), [r.line() for r in results]
    by_name = {r.name: r.summary for r in results}
    assert by_name["alerts"]["created"] == 1 and by_name["status"]["changed"] == 1 and by_name["data"]["stored"] == 2
    assert tom.cadences.get(cadence.id).epochs[0].observation.status == "COMPLETED"
    events = {p["json"]["event"] for p in webhook.posts}
    assert {"alerts.new", "observation.completed", "data.new", "observation.submitted"} <= events
    # Idempotent: a second round adds nothing.
    again = {r.name: r.summary for r in Runner(tom).round(force=True)}
    assert again["alerts"]["created"] == 0 and again["status"]["changed"] == 0 and again["data"]["stored"] == 0
    assert again["cadences"]["submitted"] == 0


def test_a_failing_step_is_reported_once_and_the_others_go_on(world, webhook):
    tom, sim, broker, _clock = world
    [record] = tom.observations.submit("sim", "SN2024abc", {**OBS, "end": T0 + timedelta(days=1)})
    broker.add("ZTF24aaa", 150.0, 2.0)
    tom.alerts.save_query("nightly", "memory", {})
    sim.failing_status = 2
    runner = Runner(tom)
    first = {r.name: r for r in runner.round(force=True)}
    assert not first["status"].ok and "answered 500" in first["status"].error
    assert first["alerts"].ok and first["cadences"].ok and first["data"].ok and first["notify"].ok
    second = {r.name: r for r in runner.round(force=True)}
    assert not second["status"].ok
    alarms = [p for p in webhook.posts if p["json"]["event"] == "runner.step_failed"]
    assert len(alarms) == 1 and alarms[0]["json"]["subject"] == "tom run: the status step failed"  # once
    sim.complete(record.facility_id, files=0)
    third = {r.name: r for r in runner.round(force=True)}
    assert third["status"].ok and third["status"].summary["changed"] == 1  # retried: it works again
    status = {row["step"]: row for row in runner.status()}
    assert status["status"]["failures"] == 2 and status["status"]["last_error"] is None and status["status"]["runs"] == 3


def _points(tom, target):
    from sqlalchemy import func, select

    from tomcore.store.models import PhotometryRow

    target_id = tom.targets.get(target).id
    with tom.db.session(readonly=True) as session:
        rows = session.execute(select(PhotometryRow.source, func.count()).where(PhotometryRow.target_id == target_id)
                               .group_by(PhotometryRow.source)).all()
    return dict(rows)


def test_lightcurves_step_adds_the_new_points_of_stored_objects_once_a_day(world):
    tom, _sim, broker, clock = world
    broker.add("ZTF24aaa", 150.1, 2.3, points=5)  # SN2024abc, matched by position
    broker.add("ZTF24bbb", 10.0, -5.0, points=4)
    tom.alerts.ingest("memory", {})
    broker.curves["ZTF24aaa"] = make_points("ZTF24aaa", 8)  # 3 new points at the broker
    broker.add("ZTF24new", 20.0, 5.0)  # at the broker, never ingested: not fetched
    runner = Runner(tom)
    result = runner.run_step("lightcurves")
    assert result.ok, result.line()
    assert result.summary == {"brokers": 1, "objects": 2, "targets": 1, "points": 3, "not_refreshed": 0}
    assert _points(tom, "SN2024abc") == {"memory": 8} and tom.targets.count() == 2  # nothing created
    assert "lightcurves: ok" in result.line() and "points 3" in result.line()
    # Not due again for a day; forced, it finds nothing new.
    clock.now = T0 + timedelta(hours=23)
    assert runner.run_step("lightcurves").skipped.startswith("next at")
    again = runner.run_step("lightcurves", force=True)
    assert again.ok and again.summary["points"] == 0 and again.summary["objects"] == 2
    assert _points(tom, "SN2024abc") == {"memory": 8}
    clock.now = T0 + timedelta(hours=47, minutes=1)  # a day after the forced run
    broker.curves["ZTF24bbb"] = make_points("ZTF24bbb", 6)
    del broker.curves["ZTF24aaa"]  # the broker cannot read it any more: reported, the other refreshed
    third = runner.run_step("lightcurves")
    assert third.ok and third.summary["points"] == 2 and third.summary["not_refreshed"] == 1


class OtherBroker(MemoryBroker):
    name = "other"
    title = "Other"


def test_a_broker_failing_fails_the_lightcurves_step_only(tom_factory, webhook):
    from tomcore.domain.targets import Target

    memory, other = MemoryBroker(), OtherBroker()
    config = f"""
[notify.channels.hook]
notifier = "webhook"
url = "{webhook.url}/hook"

[[notify.rules]]
events = ["runner.step_failed"]
channels = ["hook"]
"""
    tom = tom_factory("runner-lc", load_plugins=[], config=config,
                      plugins={"memory": MemoryPlugin(memory), "other": MemoryPlugin(other)})
    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    memory.add("ZTF24aaa", 150.1, 2.3, points=4)
    other.add("OTH1", 150.1, 2.3)
    other.curves["OTH1"] = make_points("OTH1", 3, source="other")
    tom.alerts.ingest("memory", {})
    tom.alerts.ingest("other", {})
    assert _points(tom, "SN2024abc") == {"memory": 4, "other": 3}
    memory.curves["ZTF24aaa"] = make_points("ZTF24aaa", 6)
    other.curves["OTH1"] = make_points("OTH1", 5, source="other")
    memory.fail_curve = ServiceError("Memory", "GET http://memory/objects/ZTF24aaa answered 503 after 2 retries")

    results = {r.name: r for r in Runner(tom).round(force=True)}
    failed = results["lightcurves"]
    assert not failed.ok and failed.error.startswith("memory: ") and "answered 503" in failed.error
    assert failed.summary["brokers"] == 1 and failed.summary["points"] == 2  # the other broker was refreshed
    assert all(r.ok for name, r in results.items() if name != "lightcurves"), [r.line() for r in results.values()]
    assert _points(tom, "SN2024abc") == {"memory": 4, "other": 5}
    [alarm] = [p["json"] for p in webhook.posts]
    assert alarm["subject"] == "tom run: the lightcurves step failed" and "answered 503" in alarm["text"]

    memory.fail_curve = None  # the broker is back: tried again at the next turn
    retried = Runner(tom).run_step("lightcurves", force=True)
    assert retried.ok and retried.summary["points"] == 2 and _points(tom, "SN2024abc") == {"memory": 6, "other": 5}


def test_steps_run_at_their_intervals(world):
    tom, _sim, _broker, clock = world
    runner = Runner(tom)
    assert all(not r.skipped for r in runner.round())  # never run: all due
    clock.now = T0 + timedelta(seconds=700)
    skipped = {r.name: r.skipped for r in runner.round()}
    assert skipped["alerts"].startswith("next at") and skipped["data"].startswith("next at")
    assert skipped["status"] is None and skipped["cadences"] is None  # 600 s intervals
    assert all(r.skipped is None for r in runner.round(force=True))


def test_a_step_held_by_another_runner_is_skipped_until_its_lease_ends(world):
    tom, _sim, _broker, clock = world
    mine, theirs = Runner(tom, owner="me"), Runner(tom, owner="them")
    assert theirs._acquire("status", T0, force=True) is None  # they took it and died
    assert mine.run_step("status", force=True).skipped == "running in them"
    clock.now = T0 + timedelta(seconds=1801)
    assert mine.run_step("status", force=True).ok


def test_run_forever_until_stopped(world):
    tom, _sim, _broker, clock = world
    runner, naps, seen = Runner(tom), [], []

    def sleep(seconds):
        naps.append(seconds)
        clock.now += timedelta(seconds=seconds)

    runner.run_forever(should_stop=lambda: len(naps) >= 40, sleep=sleep, on_result=seen.append, only=["status", "data"])
    assert max(naps) <= 1.0 and len(naps) == 40
    assert [r.name for r in seen[:2]] == ["status", "data"]


def test_two_runners_at_once_submit_each_epoch_once(world):
    from tomcore.app import Tom
    from tomcore.plugins import build_plugin_host

    tom, sim, broker, clock = world
    for _ in range(3):
        tom.cadences.start("SN2024abc", "sim", "repeat", strategy_params={"every_hours": 24, "window_hours": 2},
                           observation_params=OBS)
    clock.now = T0 + timedelta(hours=24)
    other = Tom.open(tom.home, env=tom.settings.env,
                     plugins=build_plugin_host(env={"TOM_LOAD_PLUGINS": ""},
                                               extra={"sim": sim.plugin(), "memory": MemoryPlugin(broker)}))
    other.clock = clock
    barrier = threading.Barrier(2)

    def go(t, owner):
        barrier.wait()
        Runner(t, owner=owner).round(force=True, only=["cadences"])

    threads = [threading.Thread(target=go, args=(t, o)) for t, o in ((tom, "a"), (other, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    names = [s["name"] for s in sim.submissions]
    assert len(names) == 6 and len(set(names)) == 6  # 3 first epochs + 3 second epochs, none twice


def test_cli_run_once_and_status(world, caplog):
    tom, sim, _broker, _clock = world
    run = make_runner(tom)
    sim.failing_status = 1
    tom.observations.submit("sim", "SN2024abc", {**OBS, "end": T0 + timedelta(days=1)})
    result = run("run", "--once", expect=1)
    assert "status: FAILED" in result.stderr and "cadences: ok" in result.stdout
    # Said once: a warning logged as well would reach the terminal a second time.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "FAILED" in r.getMessage()]
    rows = run("run", "--once", "--step", "status", "--json").json()
    assert [r["step"] for r in rows] == ["status"] and rows[0]["ok"] and rows[0]["summary"]["checked"] == 1
    status = {r["step"]: r for r in run("run", "--status", "--json").json()}
    assert status["status"]["runs"] == 2 and status["status"]["failures"] == 1
    # --due: only the steps whose interval has passed (none: all ran just now), for cron.
    due = run("run", "--once", "--due", "--json").json()
    assert len(due) == 6 and all(r["ok"] and r["skipped"].startswith("next at") for r in due)
    assert "--due goes with --once" in run("run", "--due", expect=2).stderr
