"""End to end through the `tom` command: import a target, start a cadence at LCO (the
packaged fake portal and archive), run rounds of `tom run --once` while the portal expires,
completes and reopens requests, and check the records, their history, the notifications
received (a real SMTP server and a webhook receiver) and the files downloaded. Then two
runner processes at once on the same database, each epoch submitted once."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("tom_facility_lco")

from tom_facility_lco.fake import FakeLCO
from tomcore.testing.pytest_plugin import make_runner
from tomcore.testing.receivers import SmtpSink, WebhookSink

NOW = datetime.now(UTC)

NOTIFY = """
[notify]
digest_after = 20

[notify.channels.team]
notifier = "email"
to = ["alice@example.org"]

[notify.channels.slack]
notifier = "webhook"
url = "{webhook}/services/T0/B0/SECRET"
format = "json"

[[notify.rules]]
events = ["observation.failed", "observation.completed", "observation.reopened", "cadence.*", "data.new"]
channels = ["team", "slack"]
"""


@pytest.fixture
def lco(fake_service: Any) -> FakeLCO:
    fake = FakeLCO(semesters=[(NOW - timedelta(days=300), NOW + timedelta(days=300))])
    portal, archive = fake_service(fake.portal), fake_service(fake.archive)
    fake.set_base_urls(portal.url, archive.url)
    return fake


@pytest.fixture
def smtp() -> Any:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def webhook(fake_service: Any) -> WebhookSink:
    sink = WebhookSink()
    sink.url = fake_service(sink).url  # type: ignore[attr-defined]
    return sink


@pytest.fixture
def e2e(tom_factory: Any, lco: FakeLCO, smtp: SmtpSink, webhook: WebhookSink, tmp_path: Path) -> Any:
    config = lco.config_toml() + NOTIFY.format(webhook=webhook.url)
    tom = tom_factory("e2e", config=config, env=smtp.env())
    csv = tmp_path / "targets.csv"
    csv.write_text("name,ra,dec,pm_ra,pm_dec\nSN2099zz,210.774,54.274,1.5,-2.0\nAT2099ab,150.1,2.3,,\n")
    return tom, make_runner(tom), csv


def events(webhook: WebhookSink) -> list[str]:
    return [p["json"]["event"] for p in webhook.posts]


def test_cadence_at_lco_end_to_end(e2e: Any, lco: FakeLCO, smtp: SmtpSink, webhook: WebhookSink) -> None:
    tom, run, csv = e2e
    imported = run("targets", "import", str(csv), "--json").json()
    assert imported["counts"]["created"] == 2

    started = run("cadence", "start", "SN2099zz", "lco", "--strategy", "resume-after-failure", "--every-hours", "24",
                  "--window-hours", "12", "--count", "3", "--max-failures", "2", "--type", "IMAGING",
                  "--instrument", "1M0-SCICAM-SINISTRO", "--filter", "gp", "--filter", "rp", "--exposure-time", "120",
                  "--exposure-count", "2", "--max-airmass", "1.8", "--cadence-name", "SN2099zz daily", "--json").json()
    cadence = started["cadence"]
    assert cadence["state"] == "active" and started["advance"]["submitted"] == 1
    [first] = lco.request_ids()
    payload = lco.portal.requests_to("/api/requestgroups/")[-1]["json"]
    target = payload["requests"][0]["configurations"][0]["target"]
    assert (target["type"], target["proper_motion_ra"], target["proper_motion_dec"]) == ("ICRS", 1.5, -2.0)
    assert payload["requests"][0]["configurations"][0]["constraints"]["max_airmass"] == 1.8

    # Round 1: the portal fails with 500s: the status step fails, the other steps go on.
    lco.portal.fail(500, times=6, path="/api/requests/")
    lco.expire(first)
    failed_round = run("run", "--once", expect=1)
    assert "status: FAILED" in failed_round.stderr and "LCO portal" in failed_round.stderr
    assert "data: ok" in failed_round.stdout and "notify: ok" in failed_round.stdout

    # Round 2: the expiry is seen; the epoch is resubmitted at once.
    rows = run("run", "--once", "--json").json()
    assert all(r["ok"] for r in rows), rows
    steps = {r["step"]: r["summary"] for r in rows}
    assert steps["status"]["changed"] == 1 and steps["cadences"]["submitted"] == 1
    second = lco.request_ids()[-1]

    # Round 3: completed with frames: downloaded, and the next epoch goes out.
    lco.complete(second, frames=3)
    steps = {r["step"]: r["summary"] for r in run("run", "--once", "--json").json()}
    assert steps["data"]["stored"] == 3 and steps["cadences"]["submitted"] == 1
    third = lco.request_ids()[-1]

    # Round 4: the second request's data are marked bad (reopened); the third completes.
    lco.reopen(second)
    lco.complete(third, frames=2)
    steps = {r["step"]: r["summary"] for r in run("run", "--once", "--json").json()}
    assert steps["status"]["changed"] == 2 and steps["data"]["stored"] == 2 and steps["cadences"]["submitted"] == 1
    fourth = lco.request_ids()[-1]

    # Round 5: the reopened request completes again (new frames), the last epoch completes.
    lco.complete(second, frames=1)
    lco.complete(fourth, frames=1)
    steps = {r["step"]: r["summary"] for r in run("run", "--once", "--json").json()}
    assert steps["cadences"]["ended"] == 1 and steps["data"]["stored"] == 2  # a new frame of each; raw ones are not

    # Records and history.
    records = {r["request"]: r for r in run("observations", "list", "--cadence", str(cadence["id"]), "--json").json()}
    assert {k: v["status"] for k, v in records.items()} == {
        str(first): "WINDOW_EXPIRED", str(second): "COMPLETED", str(third): "COMPLETED", str(fourth): "COMPLETED"}
    shown = run("observations", "show", f"lco:{second}", "--json").json()
    assert [h["status"] for h in shown["history"]] == ["SUBMITTING", "PENDING", "COMPLETED", "PENDING", "COMPLETED"]
    assert shown["history"][3]["detail"]["reopened"] is True and shown["data_products"] == 4
    assert shown["payload"]["requests"][0]["windows"]  # the exact payload sent
    done = run("cadence", "show", "SN2099zz daily", "--json").json()
    assert done["state"] == "completed" and done["reason"] == "all 3 epochs are done"
    assert [(e["epoch"], e["attempt"], e["status"]) for e in done["epochs"]] == [
        (1, 1, "WINDOW_EXPIRED"), (1, 2, "COMPLETED"), (2, 1, "COMPLETED"), (3, 1, "COMPLETED")]

    # Files: in the TOM's storage, as data products of the target and the observation, checksummed.
    products = run("data", "list", "--target", "SN2099zz", "--json").json()
    assert len(products) == 3 + 2 + 1 + 1
    for product in products:
        frame = next(f for f in lco.frames.values() if f["filename"] == product["original_name"])
        assert frame["reduction_level"] == 91 and product["provenance"] == "facility" and product["source"] == "lco"
        assert product["md5"] == hashlib.md5(lco.files[frame["id"]]).hexdigest()
        with tom.data.open(product["id"]) as stored:
            assert stored.read() == lco.files[frame["id"]]
    assert {p["observation_id"] for p in products} == {records[str(k)]["id"] for k in (second, third, fourth)}

    # Notifications: by email through SMTP and on the webhook.
    seen = events(webhook)
    assert seen.count("observation.failed") == 1 and seen.count("observation.reopened") == 1
    assert seen.count("observation.completed") == 4 and "cadence.ended" in seen and "data.new" in seen
    assert "SECRET" not in "".join(str(r["error"]) for r in tom.notify.history())
    mails = smtp.wait_for(len(webhook.posts))
    subjects = [m["Subject"] for m in mails]
    assert any("cadence 'SN2099zz daily' completed" in s for s in subjects)
    assert any(f"lco request {first} WINDOW_EXPIRED" in s for s in subjects)
    status = {r["step"]: r for r in run("run", "--status", "--json").json()}
    assert status["status"]["failures"] == 1 and status["status"]["last_error"] is None


def test_two_runner_processes_submit_each_epoch_once(e2e: Any, lco: FakeLCO) -> None:
    tom, run, csv = e2e
    run("targets", "import", str(csv))
    for name in ("SN2099zz", "AT2099ab") * 4:
        tom.cadences.start(name, "lco", "resume-after-failure", strategy_params={"every_hours": 24, "window_hours": 12},
                           observation_params={"filter": ["rp"], "exposure_time": [60]}, observation_type="IMAGING",
                           advance=False)
    assert lco.groups == {}
    env = {**os.environ, "TOM_HOME": str(tom.home)}
    env.pop("TOM_TEST_DATABASE_URL", None)
    command = [sys.executable, "-m", "tomcore", "run", "--once", "--step", "cadences", "--json"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    names = [g["name"] for g in lco.groups.values()]
    assert len(names) == 8 and len(set(names)) == 8  # every cadence's first epoch, once
    epochs = [(c.id, e.number, e.attempt) for c in tom.cadences.list() for e in c.epochs]
    assert len(epochs) == 8 and len(set(epochs)) == 8
    records = tom.observations.list(facility="lco")
    assert len(records) == 8 and {r.status for r in records} == {"PENDING"}
    time.sleep(0)  # nothing left running: both processes exited
