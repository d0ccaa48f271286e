"""Observation records: submission (checked first, nothing half-done), history, batched
updates with one event per batch, reopened requests, cancel, manual records, recovery of an
interrupted submission."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tomcore import hookimpl
from tomcore.errors import NotFoundError, TomError, ValidationError
from tomcore.testing.facility import SimulatedFacility

NOW = datetime.now(UTC)
PARAMS = {"filter": ["r"], "exposure_time": 30, "end": (NOW + timedelta(days=1)).isoformat()}


def submit(tom, target="SN2024abc", **kw):
    return tom.observations.submit("sim", target, {**PARAMS, **kw.pop("params", {})}, **kw)


def test_hook_register_facilities(tom_factory):
    """A plugin's facility is registered next to the built-in manual one and its declared
    parameters drive validation."""
    sim = SimulatedFacility("observatory9")
    tom = tom_factory(plugins={"obs9": sim.plugin()})
    assert {"manual", "observatory9"} <= set(tom.components.facilities.names())
    assert tom.components.facilities.owners["observatory9"] == "obs9"
    with pytest.raises(ValidationError) as raised:
        tom.observations.check("observatory9", {"exposure_time": -1, "colour": "red"})
    assert set(raised.value.errors) == {"exposure_time", "colour", "filter", "end"}


def test_submit_records_payload_parameters_and_history(sim_tom, sim, events):
    [info] = submit(sim_tom, params={"filter": ["g", "r"]})
    assert info.facility == "sim" and info.facility_id == "1001" and info.status == "PENDING"
    assert info.url == "https://sim.invalid/requests/1001" and info.target_name == "SN2024abc"
    assert sim.submissions[0]["name"] == info.name and info.name.startswith("SN2024abc imaging ")
    assert info.payload["filter"] == ["g", "r"] and info.payload["target"] == "SN2024abc"
    assert info.parameters["exposure_time"] == 30.0 and info.parameters["max_airmass"] == 2.0  # with the default
    shown = sim_tom.observations.get(info.id)
    assert [(h.status, h.source) for h in shown.history] == [("SUBMITTING", "submit"), ("PENDING", "submit")]
    assert sim_tom.observations.get(f"sim:{info.facility_id}").id == info.id
    [[change]] = events.batches
    assert change.old_status is None and change.new_status == "PENDING" and change.observation.id == info.id


def test_nothing_is_submitted_when_the_dry_run_refuses(sim_tom, sim, events):
    sim.refuse["SN2024abc"] = "the target is not visible"
    with pytest.raises(ValidationError) as raised:
        submit(sim_tom)
    assert raised.value.errors == {"request": ["the target is not visible"]}
    assert "nothing was submitted" in str(raised.value)
    assert sim.submissions == [] and sim_tom.observations.list() == [] and events.batches == []


def test_every_bad_parameter_is_reported_at_once(sim_tom, sim):
    with pytest.raises(ValidationError) as raised:
        sim_tom.observations.submit("sim", "SN2024abc", {"exposure_time": "long", "max_airmass": 9, "end": "soon"})
    assert set(raised.value.errors) == {"exposure_time", "max_airmass", "end", "filter"}
    assert sim.submissions == []
    with pytest.raises(NotFoundError):
        submit(sim_tom, target="no such target")


def test_failed_submission_leaves_no_record(sim_tom, sim):
    sim.failing_submit = 1
    with pytest.raises(TomError, match="submission failed"):
        submit(sim_tom)
    assert sim_tom.observations.list() == []


def test_update_polls_open_records_in_batches_with_one_event(tom_factory, sim, events):
    tom = tom_factory("batches", plugins={"sim": sim.plugin()}, config="[observations]\nbatch_size = 50\n")
    from tomcore.domain.targets import Target

    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    tom.plugins.register(events, "events2")
    infos = [submit(tom)[0] for _ in range(120)]
    events.batches.clear()
    for info in infos[:30]:
        sim.complete(info.facility_id, files=0)
    for info in infos[30:40]:
        sim.fail(info.facility_id)
    report = tom.observations.update()
    assert [len(call) for call in sim.status_calls] == [50, 50, 20]  # batches, not one call per record
    assert report.checked == 120 and len(report.changes) == 40 and report.errors == {}
    [batch] = events.batches  # one event for the whole update
    assert sorted(c.new_status for c in batch) == ["COMPLETED"] * 30 + ["FAILED"] * 10
    assert {len(tom.observations.get(i.id).history) for i in infos[:40]} == {3}
    completed = tom.observations.get(infos[0].id)
    assert completed.terminal and completed.success and not completed.failed and completed.scheduled_start is not None
    assert tom.observations.get(infos[35].id).failed
    # Nothing changed: no history, no event.
    events.batches.clear()
    report = tom.observations.update()
    assert report.changes == [] and events.batches == []
    assert {len(tom.observations.get(i.id).history) for i in infos} == {2, 3}


def test_a_completed_request_can_reopen_and_is_watched(sim_tom, sim, events):
    [info] = submit(sim_tom)
    sim.complete(info.facility_id, files=0)
    sim_tom.observations.update()
    sim.reopen(info.facility_id)  # the facility marked its data bad
    [change] = sim_tom.observations.update().changes
    assert change.reopened and change.old_status == "COMPLETED" and change.new_status == "PENDING"
    record = sim_tom.observations.get(info.id)
    assert not record.terminal and record.terminal_at is None
    assert record.history[-1].detail["reopened"] is True


def test_terminal_records_are_watched_only_for_the_facility_window(sim_tom, sim):
    [old, recent] = [submit(sim_tom)[0] for _ in range(2)]
    for info in (old, recent):
        sim.complete(info.facility_id, files=0)
    sim_tom.observations.update()
    sim_tom.clock = lambda: datetime.now(UTC) + timedelta(hours=10)
    sim.status_calls.clear()
    sim_tom.observations.update()
    assert sorted(sim.status_calls[0]) == sorted([old.facility_id, recent.facility_id])  # within 24 h: watched
    sim_tom.clock = lambda: datetime.now(UTC) + timedelta(hours=30)
    sim.status_calls.clear()
    assert sim_tom.observations.update().checked == 0 and sim.status_calls == []
    assert sim_tom.observations.update([old.id]).checked == 1  # asked for by id: always polled


def test_a_failing_facility_does_not_stop_the_others(tom_factory, events):
    good, bad = SimulatedFacility("good"), SimulatedFacility("bad")
    tom = tom_factory("two", plugins={"good": good.plugin(), "bad": bad.plugin()})
    from tomcore.domain.targets import Target

    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    [g] = tom.observations.submit("good", "SN2024abc", PARAMS)
    [b] = tom.observations.submit("bad", "SN2024abc", PARAMS)
    good.complete(g.facility_id)
    bad.complete(b.facility_id)
    bad.failing_status = 1
    report = tom.observations.update()
    assert report.errors == {"bad": "bad: answered 500 after 2 retries (simulated)"}
    assert [c.observation.facility for c in report.changes] == ["good"]
    assert [c.observation.facility for c in tom.observations.update().changes] == ["bad"]  # next round


def test_records_of_an_uninstalled_facility_are_reported(tom_factory, sim):
    tom = tom_factory("gone", plugins={"sim": sim.plugin()})
    from tomcore.domain.targets import Target

    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3)])
    submit(tom)
    tom.plugins.unregister("sim")
    report = tom.observations.update()
    assert "facility 'sim' is not installed: 1 record(s) not updated" in report.errors["sim"]
    assert tom.observations.list()[0].facility == "sim"  # the record is still readable


def test_two_updaters_record_each_change_once(sim_tom, sim, events):
    infos = [submit(sim_tom)[0] for _ in range(20)]
    for info in infos:
        sim.complete(info.facility_id, files=0)
    events.batches.clear()
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.append(sim_tom.observations.update())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r.changes) for r in reports) == 20
    assert all(len(sim_tom.observations.get(i.id).history) == 3 for i in infos)
    assert sum(len(batch) for batch in events.batches) == 20


def test_an_interrupted_submission_is_recovered(sim_tom, sim, events):
    """The facility accepted a request but the TOM stopped before recording the answer."""
    from tomcore.store.models import ObservationRecordRow

    request = sim_tom.observations.prepare("sim", "SN2024abc", PARAMS)
    name = sim_tom.observations.unique_name(request)
    placeholder = sim_tom.observations._placeholder(request, name, group=None, cadence_id=None, note=None)
    sim.submit(request.target, request.observation_type, request.params, name=name)  # reached the facility
    lost = sim_tom.observations._placeholder(request, "never arrived", group=None, cadence_id=None, note=None)
    assert sim_tom.observations.update().recovered == 0  # too recent: maybe still in progress
    with sim_tom.db.session() as session:
        for record_id in (placeholder, lost):
            session.get(ObservationRecordRow, record_id).created = NOW - timedelta(hours=1)
    report = sim_tom.observations.update()
    assert report.recovered == 2
    assert sim_tom.observations.get(placeholder).status == "PENDING"
    assert sim_tom.observations.get(placeholder).facility_id == "1001"
    gone = sim_tom.observations.get(lost)
    assert gone.status == "NOT_SUBMITTED" and gone.failed and "has no request named" in gone.history[-1].detail["reason"]


def test_cancel(sim_tom, sim, events):
    [first] = submit(sim_tom)
    [second] = submit(sim_tom)
    sim.complete(second.facility_id)
    sim_tom.observations.update()
    events.batches.clear()
    report = sim_tom.observations.cancel([first.id, second.id])
    assert [i.status for i in report.records] == ["CANCELED", "COMPLETED"]
    assert report.cancelled == {first.id} and [i.id for i in report.not_cancelled] == [second.id]
    [[change]] = events.batches
    assert change.observation.id == first.id and change.observation.failed
    assert sim_tom.observations.get(first.id).history[-1].source == "cancel"


def test_manual_records(sim_tom, events):
    info = sim_tom.observations.add("M31", params={"telescope": "NOT", "filter": "r", "exposure_time": "300"},
                                    note="classical night", scheduled_start=NOW - timedelta(hours=3))
    assert info.facility == "manual" and info.status == "COMPLETED" and info.success and info.terminal
    assert info.parameters == {"telescope": "NOT", "filter": ["r"], "exposure_time": 300.0}
    planned = sim_tom.observations.add("M31", status="REQUESTED", group="run 2024B")
    assert planned.group == "run 2024B" and not planned.terminal
    assert sim_tom.observations.set_status(planned.id, "FAILED", note="clouds").failed
    assert [b[0].new_status for b in events.batches] == ["COMPLETED", "REQUESTED", "FAILED"]
    with pytest.raises(ValidationError, match="is not one of"):
        sim_tom.observations.set_status(planned.id, "DONE")
    with pytest.raises(TomError, match="use `tom observations add`"):
        sim_tom.observations.submit("manual", "M31", {})
    [followed] = submit(sim_tom)
    with pytest.raises(TomError, match="its status comes from there"):
        sim_tom.observations.set_status(followed.id, "COMPLETED")


def test_follow_a_request_made_elsewhere(sim_tom, sim):
    request = sim_tom.observations.prepare("sim", "SN2024abc", PARAMS)
    submission = sim.submit(request.target, "IMAGING", request.params, name="outside the TOM")
    info = sim_tom.observations.add("SN2024abc", facility="sim", facility_id=submission.facility_ids[0])
    assert info.status == "PENDING" and info.facility_id == submission.facility_ids[0]
    sim.complete(info.facility_id)
    assert sim_tom.observations.update().changes[0].new_status == "COMPLETED"
    with pytest.raises(ValidationError, match="already recorded"):
        sim_tom.observations.add("SN2024abc", facility="sim", facility_id=info.facility_id)


def test_follow_takes_the_facility_state_and_refuses_an_unknown_request(sim_tom, sim):
    request = sim_tom.observations.prepare("sim", "SN2024abc", PARAMS)
    submission = sim.submit(request.target, "IMAGING", request.params, name="done outside the TOM")
    sim.complete(submission.facility_ids[0])
    info = sim_tom.observations.add("SN2024abc", facility="sim", facility_id=submission.facility_ids[0])
    assert info.status == "COMPLETED" and info.terminal
    with pytest.raises(NotFoundError, match="sim has no request 424242"):
        sim_tom.observations.add("SN2024abc", facility="sim", facility_id="424242")
    assert [i.facility_id for i in sim_tom.observations.list()] == [submission.facility_ids[0]]


def test_list_filters(sim_tom, sim):
    [a] = submit(sim_tom)
    [b] = submit(sim_tom, target="M31", group="g1")
    sim.complete(a.facility_id)
    sim_tom.observations.update()
    manual = sim_tom.observations.add("M31")
    assert [i.id for i in sim_tom.observations.list()] == [manual.id, b.id, a.id]
    assert [i.id for i in sim_tom.observations.list(status="open")] == [b.id]
    assert [i.id for i in sim_tom.observations.list(status=["completed"])] == [manual.id, a.id]
    assert [i.id for i in sim_tom.observations.list(target="m 31")] == [manual.id, b.id]  # matched as names are
    assert [i.id for i in sim_tom.observations.list(target="M31")] == [manual.id, b.id]
    assert [i.id for i in sim_tom.observations.list(facility="sim", status="PENDING")] == [b.id]
    assert [i.id for i in sim_tom.observations.list(group="g1")] == [b.id]
    assert len(sim_tom.observations.list(limit=1)) == 1


def test_hook_on_observation_status_changed(sim_tom, sim):
    """Every plugin gets each batch once, after commit; a failing plugin does not stop the others."""
    seen: list[tuple[str, list[tuple[str | None, str]]]] = []

    class Good:
        @hookimpl
        def on_observation_status_changed(self, tom, changes):
            with tom.db.session(readonly=True) as session:  # committed: visible from a new session
                from tomcore.store.models import ObservationRecordRow

                statuses = [session.get(ObservationRecordRow, c.observation.id).status for c in changes]
            assert statuses == [c.new_status for c in changes]
            seen.append(("good", [(c.old_status, c.new_status) for c in changes]))

    class Broken:
        @hookimpl
        def on_observation_status_changed(self, tom, changes):
            raise RuntimeError("boom")

    sim_tom.plugins.register(Broken(), "broken")
    sim_tom.plugins.register(Good(), "good")
    infos = [submit(sim_tom)[0] for _ in range(3)]
    for info in infos:
        sim.complete(info.facility_id)
    sim_tom.observations.update()
    assert seen[-1] == ("good", [("PENDING", "COMPLETED")] * 3)
    assert len(seen) == 4  # three submissions and one update
    assert any(p.plugin == "broken" and "boom" in p.message for p in sim_tom.plugins.problems)
