"""`tom alerts ...` on the in-memory broker."""

from __future__ import annotations

import json

import pytest

from tomcore.testing.brokers import memory_tom
from tomcore.testing.pytest_plugin import make_runner


@pytest.fixture
def cli(tom_factory):
    tom, broker = memory_tom(tom_factory)
    for i in range(3):
        broker.add(f"ZTF24cli{i}", 100.0 + i, 10.0, points=4)
    return make_runner(tom), tom, broker


def test_brokers_lists_parameters(cli):
    run, _, _ = cli
    out = run("alerts", "brokers").stdout
    assert "memory" in out and "--page-size" in out and "a, b" in out
    data = run("alerts", "brokers", "--json").json()
    assert data[0]["name"] == "memory" and [p["name"] for p in data[0]["params"]] == ["prefix", "page_size", "kind"]


def test_query_shows_results_and_json(cli):
    run, tom, _ = cli
    out = run("alerts", "query", "memory", "--prefix", "ZTF24cli", "--limit", "2").stdout
    assert "ZTF24cli0" in out and "ZTF24cli1" in out and "ZTF24cli2" not in out
    data = run("alerts", "query", "memory", "--json").json()
    assert [a["object_id"] for a in data] == ["ZTF24cli0", "ZTF24cli1", "ZTF24cli2"]
    assert tom.targets.count() == 0  # a query alone writes nothing


def test_query_options_are_validated(cli):
    run, _, _ = cli
    bad = run("alerts", "query", "memory", "--kind", "z", expect=2)
    assert "'z' is not one of 'a', 'b'" in bad.stderr
    bad = run("alerts", "query", "memory", "--page-size", "0", expect=1)
    assert "page_size: 0 is below the minimum 1" in bad.stderr
    unknown = run("alerts", "query", "nope", expect=2)
    assert "no broker named 'nope' (available: memory)" in unknown.stderr
    assert "--prefix" in run("alerts", "query", "memory", "--help").stdout


def test_query_ingest_prints_a_summary(cli):
    run, tom, _ = cli
    out = run("alerts", "query", "memory", "--ingest").stdout
    assert "Ingested 3 alerts: 3 created, 0 updated, 0 unchanged; 12 new points" in out
    again = run("alerts", "query", "memory", "--ingest", "--json").json()
    assert (again["created"], again["unchanged"], again["points_added"]) == (0, 3, 0)
    assert tom.targets.count() == 3


def test_ingest_into_a_list(cli):
    run, tom, _ = cli
    assert "--list needs --ingest" in run("alerts", "query", "memory", "--list", "x", expect=2).stderr
    run("alerts", "query", "memory", "--ingest", "--list", "from-memory")
    assert tom.targets.get("ZTF24cli0").lists == ["from-memory"]
    run("alerts", "save", "q", "memory", "--list", "saved-list")
    assert run("alerts", "saved", "--json").json()[0]["target_list"] == "saved-list"


def test_show_with_light_curve(cli):
    run, _, _ = cli
    out = run("alerts", "show", "memory", "ZTF24cli1").stdout
    assert "ZTF24cli1" in out and "3 detections, 1 upper limits" in out
    data = run("alerts", "show", "memory", "ZTF24cli1", "--json").json()
    assert len(data["light_curve"]) == 4 and data["light_curve"][3]["limit"] == 20.5
    missing = run("alerts", "show", "memory", "ZTF24none", expect=1)
    assert missing.stderr.strip() == "Error: Memory has no object 'ZTF24none'"


def test_save_saved_run_history_delete(cli):
    run, _, _ = cli
    assert "Saved query 'night'" in run("alerts", "save", "night", "memory", "--prefix", "ZTF24cli").stdout
    exists = run("alerts", "save", "night", "memory", expect=1)
    assert "exists" in exists.stderr
    run("alerts", "save", "night", "memory", "--prefix", "ZTF24cli", "--page-size", "5", "--replace")
    saved = run("alerts", "saved", "--json").json()
    assert saved[0]["parameters"] == {"prefix": "ZTF24cli", "page_size": 5} and saved[0]["last_run"] is None
    runs = run("alerts", "run", "night", "--json").json()
    assert runs[0]["status"] == "ok" and runs[0]["created"] == 3
    assert "night" in run("alerts", "saved").stdout
    assert run("alerts", "saved", "--json").json()[0]["last_summary"].startswith("ok: 3 alerts: 3 created")
    history = run("alerts", "history", "night", "--json").json()
    assert len(history) == 1
    items = run("alerts", "history", "night", "--run", str(history[0]["run_id"]), "--json").json()
    assert sorted(i["object_id"] for i in items) == ["ZTF24cli0", "ZTF24cli1", "ZTF24cli2"]
    assert run("alerts", "run", expect=2).stderr.count("give saved query NAMES or --all") == 1
    run("alerts", "delete", "night", "--yes")
    assert run("alerts", "saved", "--json").json() == []


def test_run_reports_failures_and_exits_1(cli):
    run, _, broker = cli
    run("alerts", "save", "a", "memory")
    broker.fail_on_page = 1
    result = run("alerts", "run", "--all", expect=1)
    assert "1 of 1 saved queries failed: a: Memory: GET http://memory/objects?page=1 answered 503" in result.stderr
    assert result.stdout.count("\n") >= 4  # the table of runs is printed before the error
    [saved] = json.loads(run("alerts", "saved", "--json").stdout)
    assert saved["last_status"] == "failed"


def test_update_refreshes_stored_light_curves(cli):
    from tomcore.testing.brokers import make_points

    run, _, broker = cli
    run("alerts", "query", "memory", "--prefix", "ZTF24cli", "--ingest")
    broker.curves["ZTF24cli1"] = make_points("ZTF24cli1", 6)
    data = run("alerts", "update", "memory", "--json").json()
    assert data == [{"broker": "memory", "objects": 3, "targets_updated": 1, "points_added": 2, "problems": []}]
    out = run("alerts", "update", "--target", "ZTF24cli1").stdout
    assert "memory" in out and "new points" in out
    unknown = run("alerts", "update", "memory", "--target", "nobody", expect=1)
    assert "nobody" in unknown.stderr
