"""The observation commands: facilities, observe (errors per option before anything is
submitted), observations list/show/update/cancel/add/set-status/download, templates."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from tomcore.testing.pytest_plugin import make_runner

END = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def tom(sim_tom):
    return make_runner(sim_tom)


def test_facilities_list_and_show(tom):
    rows = {r["name"]: r for r in tom("facilities", "list", "--json").json()}
    assert rows["sim"]["robotic"] is True and rows["manual"]["robotic"] is False
    assert rows["sim"]["types"] == ["IMAGING"] and rows["sim"]["sites"] == 1
    shown = tom("facilities", "show", "sim", "--json").json()
    assert shown["terminal"] == ["CANCELED", "COMPLETED", "EXPIRED", "FAILED"]
    options = {o["option"]: o for o in shown["observation_types"]["IMAGING"]}
    assert options["--filter"]["multiple"] and options["--end"]["required"] and options["--max-airmass"]["default"] == 2.0
    text = tom("facilities", "show", "sim", "--offline").stdout
    assert "Options of IMAGING" in text and "--exposure-time" in text
    assert "no facility named 'nope'" in tom("facilities", "show", "nope", expect=1).stderr


def test_observe_reports_every_bad_option_and_submits_nothing(tom, sim):
    result = tom("observe", "sim", "SN2024abc", "--exposure-time", "-5", "--end", "tomorrow", expect=1)
    assert "--exposure-time: -5.0 is below the minimum 0.0" in result.stderr
    assert "--end: 'tomorrow' is not a valid datetime" in result.stderr
    assert "--filter: is required" in result.stderr
    sim.refuse["SN2024abc"] = "not visible in the window"
    result = tom("observe", "sim", "SN2024abc", "--filter", "r", "--exposure-time", "30", "--end", END, expect=1)
    assert "request: not visible in the window" in result.stderr and "nothing was submitted" in result.stderr
    assert sim.submissions == []
    help_text = tom("observe", "sim", "--help").stdout
    assert "--exposure-time" in help_text and "--validate-only" in help_text
    assert "no facility named 'nowhere'" in tom("observe", "nowhere", "X", expect=2).stderr


def test_observe_validate_only_then_submit(tom, sim):
    out = tom("observe", "sim", "SN2024abc", "--filter", "r", "--filter", "g", "--exposure-time", "30",
              "--end", END, "--validate-only").stdout
    assert "Valid: sim IMAGING of SN2024abc (about 2.0 min). Nothing was submitted." in out
    assert sim.submissions == []
    valid = tom("observe", "sim", "SN2024abc", "--filter", "r", "--exposure-time", "30", "--end", END,
                "--validate-only", "--json").json()
    assert valid["valid"] is True and valid["duration"] == 90.0 and valid["payload"]["target"] == "SN2024abc"
    [record] = tom("observe", "sim", "SN2024abc", "--filter", "r", "--exposure-time", "30", "--end", END,
                   "--group", "tonight", "--json").json()
    assert record["request"] == "1001" and record["status"] == "PENDING" and record["group"] == "tonight"
    assert "Submitted to Simulated observatory: record" in tom(
        "observe", "sim", "M31", "--filter", "r", "--exposure-time", "30", "--end", END).stdout


def test_observations_list_show_update_cancel(tom, sim):
    first = tom("observe", "sim", "SN2024abc", "--filter", "r", "--exposure-time", "30", "--end", END, "--json").json()[0]
    second = tom("observe", "sim", "M31", "--filter", "r", "--exposure-time", "30", "--end", END, "--json").json()[0]
    sim.complete(first["request"], files=2)
    update = tom("observations", "update", "--json").json()
    assert update["checked"] == 2 and update["changed"] == 1
    assert update["changes"][0] | {"scheduled_start": None} == {
        "id": first["id"], "target": "SN2024abc", "facility": "sim", "request": "1001", "old": "PENDING",
        "new": "COMPLETED", "scheduled_start": None}
    assert "Checked 2 request(s): 0 changed." in tom("observations", "update").stdout
    listed = tom("observations", "list", "--status", "open", "--json").json()
    assert [r["id"] for r in listed] == [second["id"]]
    shown = tom("observations", "show", str(first["id"]), "--json").json()
    assert [h["status"] for h in shown["history"]] == ["SUBMITTING", "PENDING", "COMPLETED"]
    assert shown["completed"] is True and shown["payload"]["filter"] == ["r"]
    assert "History" in tom("observations", "show", f"sim:{first['request']}").stdout
    downloaded = tom("observations", "download", "--json").json()
    assert downloaded["stored"] == 2 and [p["observation"] for p in downloaded["products"]] == [first["id"]] * 2
    cancelled = tom("observations", "cancel", str(second["id"]), "--yes", "--json")
    assert cancelled.json()[0]["status"] == "CANCELED" and cancelled.stderr == ""
    done = tom("observations", "cancel", str(first["id"]), "--yes")  # it had completed: said so
    assert "COMPLETED" in done.stdout and done.stderr == f"Not cancelled: record {first['id']} is COMPLETED.\n"
    assert tom("observations", "show", "999", expect=1).stderr == "Error: no observation record with id 999\n"


def test_cancel_of_requests_that_had_already_ended_says_so(tom, sim):
    def observe(target):
        return tom("observe", "sim", target, "--filter", "r", "--exposure-time", "30", "--end", END, "--json").json()[0]

    expired, failed, stale, open_ = observe("SN2024abc"), observe("M31"), observe("SN2024abc"), observe("M31")
    sim.set_state(expired["request"], "EXPIRED")
    sim.fail(failed["request"])
    tom("observations", "update", str(expired["id"]), str(failed["id"]))
    sim.set_state(stale["request"], "EXPIRED")  # ended at the facility; the record still says PENDING
    ids = [str(r["id"]) for r in (expired, failed, stale, open_)]
    result = tom("observations", "cancel", *ids, "--yes", "--json")
    rows = {r["id"]: r for r in result.json()}
    assert [(rows[r["id"]]["status"], rows[r["id"]]["cancelled"]) for r in (expired, failed, stale, open_)] == [
        ("EXPIRED", False), ("FAILED", False), ("EXPIRED", False), ("CANCELED", True)]
    assert result.stderr.splitlines() == [f"Not cancelled: record {expired['id']} is EXPIRED.",
                                          f"Not cancelled: record {failed['id']} is FAILED.",
                                          f"Not cancelled: record {stale['id']} is EXPIRED."]
    again = tom("observations", "cancel", str(open_["id"]), "--yes")  # cancelled before: not by this call
    assert again.stderr == f"Not cancelled: record {open_['id']} is CANCELED.\n"
    assert tom("observations", "show", str(stale["id"]), "--json").json()["history"][-1]["status"] == "EXPIRED"


def test_update_exits_1_when_a_facility_fails(tom, sim, caplog):
    tom("observe", "sim", "SN2024abc", "--filter", "r", "--exposure-time", "30", "--end", END)
    sim.failing_status = 1
    result = tom("observations", "update", expect=1)
    assert "Error: sim: answered 500 after 2 retries (simulated)" in result.stderr
    # Said once: a warning logged as well would reach a user's terminal through Python's
    # last-resort handler as a second copy of the same line.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "answered 500" in r.getMessage()]


def test_manual_add_and_set_status(tom):
    added = tom("observations", "add", "M31", "--param", "telescope=NOT", "--param", "filter=r", "--param", "filter=i",
                "--start", "2024-05-01T22:00", "--note", "classical night", "--json").json()
    assert added["facility"] == "manual" and added["status"] == "COMPLETED"
    assert added["parameters"] == {"telescope": "NOT", "filter": ["r", "i"]}
    assert added["scheduled_start"] == "2024-05-01T22:00:00+00:00"
    planned = tom("observations", "add", "M31", "--status", "REQUESTED", "--json").json()
    changed = tom("observations", "set-status", str(planned["id"]), "failed", "--note", "clouds", "--json").json()
    assert changed["status"] == "FAILED"
    assert "--param: 'oops' is not KEY=VALUE" in tom("observations", "add", "M31", "--param", "oops", expect=2).stderr


def test_templates_and_observe_with_a_template(tom, sim):
    saved = tom("templates", "save", "deep r", "sim", "--filter", "r", "--exposure-time", "300", "--json").json()
    assert saved["parameters"] == {"filter": ["r"], "exposure_time": 300.0}
    assert "exists" in tom("templates", "save", "deep r", "sim", "--filter", "g", expect=1).stderr
    assert "Invalid value for '--exposure-time': 'x' is not a valid float" in tom(
        "templates", "save", "bad", "sim", "--exposure-time", "x", expect=2).stderr
    assert "--max-airmass: 9.0 is above the maximum 5.0" in tom(
        "templates", "save", "bad", "sim", "--max-airmass", "9", expect=1).stderr
    [record] = tom("observe", "--template", "deep r", "SN2024abc", "--end", END, "--json").json()
    assert sim.submissions[-1]["params"]["exposure_time"] == 300.0 and record["facility"] == "sim"
    tom("observe", "sim", "M31", "--template", "deep r", "--exposure-time", "10", "--end", END)
    assert sim.submissions[-1]["params"]["exposure_time"] == 10.0
    assert [t["name"] for t in tom("templates", "list", "--json").json()] == ["deep r"]
    assert tom("templates", "show", "deep r", "--json").json()["facility"] == "sim"
    tom("templates", "delete", "deep r", "--yes")
    assert "no observation template named 'deep r'" in tom(
        "observe", "--template", "deep r", "M31", expect=1).stderr
