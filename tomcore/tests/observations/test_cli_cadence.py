"""`tom cadence start|list|show|stop|advance|strategies`."""

from __future__ import annotations

import pytest

from tomcore.testing.pytest_plugin import make_runner

pytestmark = pytest.mark.usefixtures("no_planner")


@pytest.fixture
def tom(sim_tom):
    return make_runner(sim_tom)


def test_cadence_commands(tom, sim):
    strategies = {s["name"] for s in tom("cadence", "strategies", "--json").json()}
    assert {"repeat", "resume-after-failure", "retry-failed"} <= strategies
    dry = tom("cadence", "start", "SN2024abc", "sim", "--strategy", "repeat", "--every-hours", "12", "--count", "2",
              "--filter", "r", "--exposure-time", "30", "--dry-run", "--json").json()
    assert dry["dry_run"] and [s["action"] for s in dry["plan"]] == ["submit", "submit", "complete"]
    assert sim.submissions == [] and tom("cadence", "list", "--json").json() == []
    text = tom("cadence", "start", "SN2024abc", "sim", "--strategy", "repeat", "--every-hours", "12",
               "--filter", "r", "--exposure-time", "30", "--dry-run").stdout
    assert "Dry run: nothing was created or submitted." in text
    started = tom("cadence", "start", "SN2024abc", "sim", "--strategy", "retry-failed", "--every-hours", "24",
                  "--max-retries", "1", "--filter", "r", "--exposure-time", "30", "--cadence-name", "follow-up",
                  "--json").json()
    assert started["cadence"]["name"] == "follow-up" and started["advance"]["submitted"] == 1
    assert started["cadence"]["epochs"][0]["status"] == "PENDING"
    [row] = tom("cadence", "list", "--state", "active", "--json").json()
    assert row["strategy"] == "retry-failed" and row["epochs"] == 1
    shown = tom("cadence", "show", "follow-up", "--plan", "3", "--json").json()
    assert shown["strategy_params"]["max_retries"] == 1 and shown["plan"][-1]["action"] == "complete"
    sim.fail("1001")
    assert tom("cadence", "advance", "--json").json()["submitted"] == 1
    tom("cadence", "stop", "follow-up", "--yes")
    assert tom("cadence", "list", "--json").json()[0]["state"] == "stopped"
    assert "already stopped" in tom("cadence", "stop", "follow-up", "--yes", expect=1).stderr


def test_cadence_option_errors(tom, sim):
    result = tom("cadence", "start", "SN2024abc", "sim", "--strategy", "repeat", "--every-hours", "0",
                 "--filter", "r", expect=1)
    assert "--every-hours: 0.0 is below the minimum 0.02" in result.stderr and "--exposure-time: is required" in result.stderr
    result = tom("cadence", "start", "SN2024abc", "sim", "--strategy", "repeat", "--every-hours", "1",
                 "--max-retries", "3", "--filter", "r", "--exposure-time", "1", expect=1)
    assert "--max-retries: not an option of repeat" in result.stderr
    assert "no cadence strategy named 'often'" in tom(
        "cadence", "start", "SN2024abc", "sim", "--strategy", "often", "--filter", "r", expect=1).stderr
    assert sim.submissions == []
