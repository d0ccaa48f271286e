"""Cadences in the TOM: start (checked first, dry run), advance round by round, refusals and
service failures, stop, and two runners never submitting the same epoch."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tomcore import hookimpl
from tomcore.contracts.base import Param
from tomcore.contracts.cadences import CadenceDecision, CadenceStrategy
from tomcore.errors import ValidationError

pytestmark = pytest.mark.usefixtures("no_planner")

T0 = datetime.now(UTC).replace(microsecond=0)
H = timedelta(hours=1)
OBS = {"filter": ["r"], "exposure_time": 30}


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(sim_tom, sim):
    clock = Clock()
    sim_tom.clock = clock
    sim.clock = clock
    return clock


def start(tom, strategy="repeat", **kw):
    params = {"every_hours": 24, **kw.pop("params", {})}
    return tom.cadences.start("SN2024abc", "sim", strategy, strategy_params=params,
                              observation_params={**OBS, **kw.pop("obs", {})}, **kw)


def test_dry_run_shows_the_plan_and_creates_nothing(sim_tom, sim, clock):
    result = start(sim_tom, params={"window_hours": 6, "count": 3}, dry_run=True)
    assert result.cadence is None and sim.submissions == [] and sim_tom.cadences.list() == []
    assert [(s.action, s.number, s.window_start) for s in result.plan] == [
        ("submit", 1, T0), ("submit", 2, T0 + 24 * H), ("submit", 3, T0 + 48 * H), ("complete", None, None)]
    assert result.plan[0].window_end == T0 + 6 * H and result.plan[-1].reason == "all 3 epochs are done"


def test_bad_options_are_reported_before_anything_is_created(sim_tom, sim, clock):
    with pytest.raises(ValidationError) as raised:
        start(sim_tom, params={"every_hours": -1, "count": "many"}, obs={"exposure_time": "long"})
    assert set(raised.value.errors) == {"every_hours", "count", "exposure_time"}
    with pytest.raises(ValidationError, match="is set by the cadence for each epoch"):
        start(sim_tom, obs={"end": (T0 + 5 * H).isoformat()})
    with pytest.raises(ValidationError, match="cadences need a robotic facility"):
        sim_tom.cadences.start("SN2024abc", "manual", "repeat", strategy_params={"every_hours": 1})
    with pytest.raises(ValidationError) as raised:
        start(sim_tom, obs={"filter": []})  # the first epoch must be complete
    assert "filter" in raised.value.errors
    assert sim_tom.cadences.list() == [] and sim.submissions == []


def test_repeat_cadence_round_by_round(sim_tom, sim, clock):
    result = start(sim_tom, params={"window_hours": 6, "count": 3})
    cadence = result.cadence
    assert [r.facility_id for r in result.report.submitted] == ["1001"]
    [record] = sim_tom.observations.list(cadence=cadence.id)
    assert record.group == f"cadence: {cadence.name}" and record.parameters["start"].startswith(T0.date().isoformat())
    assert sim.submissions[0]["params"]["end"] == T0 + 6 * H and sim.submissions[0]["name"].startswith("SN2024abc c")
    assert sim_tom.cadences.advance().submitted == []  # nothing due
    assert sim_tom.cadences.get(cadence.id).next_at == T0 + 24 * H
    clock.now = T0 + 24 * H + 5 * 60 * timedelta(seconds=1)
    assert len(sim_tom.cadences.advance().submitted) == 1
    clock.now = T0 + 100 * H  # the runner was down: epoch 3's window passed, never submitted late
    report = sim_tom.cadences.advance()
    assert report.submitted == [] and report.skipped == 1 and [c.state for c in report.ended] == ["completed"]
    info = sim_tom.cadences.get(cadence.id)
    assert [(e.number, e.state) for e in info.epochs] == [(1, "submitted"), (2, "submitted"), (3, "skipped")]
    assert info.state == "completed" and info.reason == "all 3 epochs are done"
    assert len(sim.submissions) == 2


def test_retry_failed_cadence_refreshes_status_and_ends(sim_tom, sim, clock):
    cadence = start(sim_tom, "retry-failed", params={"max_retries": 1}).cadence
    sim.fail("1001")
    clock.now = T0 + 2 * H
    report = sim_tom.cadences.advance()  # the status is refreshed first, then the retry
    assert [r.facility_id for r in report.submitted] == ["1002"]
    assert sim.submissions[1]["params"]["start"] == T0 + 24 * H  # moved by every_hours
    assert sim_tom.cadences.advance().submitted == []  # the failure is retried once, not every round
    sim.fail("1002")
    report = sim_tom.cadences.advance()
    assert [c.state for c in report.ended] == ["failed"]
    assert "still failing after 1 retries (sim request 1002 FAILED)" in sim_tom.cadences.get(cadence.id).reason
    assert len(sim.submissions) == 2


def test_refusals_end_the_cadence_with_the_reason(sim_tom, sim, clock):
    cadence = start(sim_tom, params={"max_rejections": 2}).cadence
    sim.refuse["SN2024abc"] = "not visible in the window"
    clock.now = T0 + 24 * H
    report = sim_tom.cadences.advance()
    assert report.rejected == [f"{cadence.name} epoch 2: request: not visible in the window"]
    clock.now = T0 + 48 * H
    report = sim_tom.cadences.advance()
    assert [c.state for c in report.ended] == ["failed"]
    info = sim_tom.cadences.get(cadence.id)
    assert info.reason == "the facility refused 2 epochs in a row (refused by sim: request: not visible in the window)"
    assert [e.state for e in info.epochs] == ["submitted", "rejected", "rejected"]


def test_service_failures_are_retried_then_end_the_cadence(tom_factory, sim, clock):
    from tomcore.domain.targets import Target

    tom = tom_factory("errors", plugins={"sim": sim.plugin()}, config="[cadences]\nmax_errors = 2\n")
    tom.clock = clock
    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    sim.failing_submit = 1
    result = start(tom)
    assert result.report.errors == {result.cadence.name: "sim: submission failed (simulated)"}
    assert tom.cadences.get(result.cadence.id).epochs == []  # the claim was released
    assert len(tom.cadences.advance().submitted) == 1  # next round: submitted
    clock.now = T0 + 24 * H
    sim.failing_submit = 2
    tom.cadences.advance()
    report = tom.cadences.advance()
    assert [c.state for c in report.ended] == ["failed"]
    assert "could not submit for 2 rounds in a row" in tom.cadences.get(result.cadence.id).reason


def test_stop_and_notification(sim_tom, sim, clock):
    sent = []
    sim_tom.notify.send_many = lambda notes: sent.extend(notes)  # what would be delivered
    cadence = start(sim_tom).cadence
    info = sim_tom.cadences.stop(cadence.name)
    assert info.state == "stopped" and info.reason == "stopped by the user"
    [note] = sent
    assert note.event == "cadence.ended" and note.target == "SN2024abc" and "stopped" in note.subject
    clock.now = T0 + 48 * H
    assert sim_tom.cadences.advance().submitted == []


def test_hook_register_cadence_strategies(tom_factory, sim, clock):
    """A plugin's strategy is registered beside the built-ins, its options are checked, and
    the TOM runs it."""

    class Twice(CadenceStrategy):
        name = "twice"
        params = (Param("gap_hours", "float", required=True, minimum=1),)

        def next(self, context):
            if len(context.epochs) >= 2:
                return CadenceDecision.complete("done twice")
            start = context.now + context.next_number * 0 * H
            return CadenceDecision.submit(context.next_number, start, start + context.params["gap_hours"] * H)

    class Plugin:
        @hookimpl
        def register_cadence_strategies(self, register):
            register(Twice())

    from tomcore.domain.targets import Target

    tom = tom_factory("strategy", plugins={"sim": sim.plugin(), "twice": Plugin()})
    tom.clock = clock
    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    assert {"repeat", "resume-after-failure", "retry-failed", "twice"} <= set(tom.components.cadence_strategies.names())
    with pytest.raises(ValidationError, match="gap_hours"):
        tom.cadences.start("SN2024abc", "sim", "twice", strategy_params={}, observation_params=OBS)
    result = tom.cadences.start("SN2024abc", "sim", "twice", strategy_params={"gap_hours": 3}, observation_params=OBS)
    assert len(result.report.submitted) == 2 and [c.reason for c in result.report.ended] == ["done twice"]


def test_two_runners_never_submit_the_same_epoch(sim_tom, sim, clock):
    """Two TOM objects on one database (two processes' worth of engines and sessions)
    advance the same cadences at once; each epoch is submitted exactly once."""
    from tomcore.app import Tom
    from tomcore.plugins import build_plugin_host

    for _ in range(4):
        start(sim_tom, params={"window_hours": 6})
    clock.now = T0 + 24 * H
    other = Tom.open(sim_tom.home, env=sim_tom.settings.env,
                     plugins=build_plugin_host(env={"TOM_LOAD_PLUGINS": ""}, extra={"sim": sim.plugin()}))
    other.clock = clock
    original = sim.submit

    def slow_submit(*args, **kwargs):
        time.sleep(0.05)  # widen the window in which the other runner could submit too
        return original(*args, **kwargs)

    sim.submit = slow_submit
    barrier = threading.Barrier(2)
    reports = []

    def runner(tom):
        barrier.wait()
        reports.append(tom.cadences.advance())

    threads = [threading.Thread(target=runner, args=(t,)) for t in (sim_tom, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert sum(len(r.submitted) for r in reports) == 4
    names = [s["name"] for s in sim.submissions]
    assert len(names) == 8 and len(set(names)) == 8
    epochs = [(c.id, e.number) for c in sim_tom.cadences.list() for e in c.epochs]
    assert sorted(epochs) == sorted(set(epochs)) and len(epochs) == 8

