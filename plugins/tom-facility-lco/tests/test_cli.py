"""`tom observe lco ...` and `tom observations ...` against the fake portal and archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tomcore.domain.targets import Target
from tomcore.testing.pytest_plugin import make_runner

END = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def tom(lco_tom):
    lco_tom.targets.save([Target(name="SN2099zz", ra=210.774, dec=54.274),
                          Target(name="Polaris", ra=37.95, dec=89.26)])
    return make_runner(lco_tom)


def observe(tom, *args, target="SN2099zz", expect=0):
    return tom("observe", "lco", target, "--instrument", "1M0-SCICAM-SINISTRO", "--filter", "rp",
               "--exposure-time", "120", "--exposure-count", "2", "--end", END, *args, expect=expect)


def test_portal_errors_are_shown_per_option_before_anything_is_submitted(tom, lco):
    result = observe(tom, "--max-airmass", "1.01", "--validate-only", target="Polaris", expect=1)
    assert "lco would refuse this request" in result.stderr
    assert "request: According to the constraints of the request, the target will not be visible" in result.stderr
    result = observe(tom, "--filter", "zz", expect=1)
    assert "--filter: 'zz' is not a filter of this instrument" in result.stderr
    result = observe(tom, "--max-airmass", "40", expect=1)  # checked locally from the declaration
    assert "--max-airmass: 40.0 is above the maximum 25.0" in result.stderr
    assert lco.groups == {}


def test_observe_update_and_download(tom, lco):
    valid = observe(tom, "--validate-only", "--json").json()
    assert valid["valid"] and valid["duration"] == 90 + 16 + 2 * 160
    [record] = observe(tom, "--json").json()
    request_id = record["request"]
    assert lco.state(request_id) == "PENDING" and record["url"].endswith(f"/requests/{request_id}")
    lco.complete(request_id, frames=3)
    update = tom("observations", "update", "--json").json()
    assert update["changes"][0]["new"] == "COMPLETED"
    downloaded = tom("observations", "download", "--json").json()
    assert downloaded["stored"] == 3 and {p["type"] for p in downloaded["products"]} == {"image"}
    assert tom("observations", "download", "--json").json()["stored"] == 0  # already there
    lco.reopen(request_id)  # bad data: COMPLETED back to PENDING, and watched again
    update = tom("observations", "update", "--json").json()
    assert (update["changes"][0]["old"], update["changes"][0]["new"]) == ("COMPLETED", "PENDING")
    history = tom("observations", "show", f"lco:{request_id}", "--json").json()["history"]
    assert [h["status"] for h in history] == ["SUBMITTING", "PENDING", "COMPLETED", "PENDING"]
    assert history[-1]["detail"]["reopened"] is True


def test_cancel_through_the_portal(tom, lco):
    [record] = observe(tom, "--json").json()
    result = tom("observations", "cancel", str(record["id"]), "--yes", "--json")
    [cancelled] = result.json()
    assert cancelled["status"] == "CANCELED" and cancelled["cancelled"] and lco.state(record["request"]) == "CANCELED"
    assert result.stderr == ""


def test_cancel_of_a_request_that_had_ended_at_lco_says_so(tom, lco):
    expired, failed = observe(tom, "--json").json()[0], observe(tom, "--json").json()[0]
    lco.expire(expired["request"])  # the records still say PENDING: LCO answers 400 for the first
    lco.fail(failed["request"])
    result = tom("observations", "cancel", str(expired["id"]), str(failed["id"]), "--yes", "--json")
    assert [(r["status"], r["cancelled"]) for r in result.json()] == [("WINDOW_EXPIRED", False),
                                                                      ("FAILURE_LIMIT_REACHED", False)]
    assert result.stderr.splitlines() == [f"Not cancelled: record {expired['id']} is WINDOW_EXPIRED.",
                                          f"Not cancelled: record {failed['id']} is FAILURE_LIMIT_REACHED."]
    assert lco.state(expired["request"]) == "WINDOW_EXPIRED"


def test_a_500_during_update_is_reported_and_the_next_update_works(tom, lco):
    [record] = observe(tom, "--json").json()
    lco.complete(record["request"], frames=1)
    lco.portal.fail(500, times=3, path="/api/requests/")
    result = tom("observations", "update", expect=1)
    assert "LCO portal: GET" in result.stderr and "answered 500 after 2 retries" in result.stderr
    assert tom("observations", "update", "--json").json()["changed"] == 1


def test_bad_token_is_one_line(tom_factory, lco):
    lco_tom = tom_factory("bad", config=lco.config_toml(token="nope"))
    lco_tom.targets.save([Target(name="SN2099zz", ra=210.774, dec=54.274)])
    result = observe(make_runner(lco_tom), expect=1)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: LCO portal: the portal refused the API token (403); set TOM_LCO_API_KEY")
