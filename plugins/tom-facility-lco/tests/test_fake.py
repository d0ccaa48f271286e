"""The fake portal and archive behave as apis.md §5-6 describe the real ones, where a client
could go wrong: Django's slash redirects, cancelling a group, rapid-response windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tomcore.domain.targets import Target

NOW = datetime.now(UTC)
SN = Target(name="SN2099zz", ra=210.774, dec=54.274, id=1)
AUTH = {"Authorization": "Token test-token"}


def imaging(**overrides):
    params = {"instrument": "1M0-SCICAM-SINISTRO", "filter": ["rp"], "exposure_time": [60.0], "start": NOW,
              "end": NOW + timedelta(days=2)}
    params.update(overrides)
    return params


@pytest.mark.parametrize("service", ["portal", "archive"])
def test_a_path_without_its_slash_is_a_301_as_in_django(lco, service):
    base = lco.portal_url if service == "portal" else lco.archive_url
    path = "/api/instruments" if service == "portal" else "/frames"
    answer = requests.get(base + path, headers=AUTH, allow_redirects=False, timeout=5)
    assert answer.status_code == 301 and answer.headers["Location"].endswith(path + "/")
    # A POST without the slash is redirected too, and the client's follow-up is a GET: it
    # never reaches the create endpoint (clients must POST to the slashed URL).
    answer = requests.post(lco.portal_url + "/api/requestgroups", json={}, headers=AUTH, timeout=5)
    assert answer.history[0].status_code == 301 and answer.request.method == "GET"
    assert lco.groups == {}


def test_cancel_sets_the_group_canceled_and_leaves_finished_requests_alone(facility, lco):
    body = facility.build(SN, "IMAGING", imaging(), "two requests")
    body["operator"] = "MANY"
    body["requests"] = [body["requests"][0], dict(body["requests"][0])]
    created = requests.post(lco.portal_url + "/api/requestgroups/", json=body, headers=AUTH, timeout=5)
    assert created.status_code == 201, created.text
    group = created.json()
    done, open_ = (r["id"] for r in group["requests"])
    lco.complete(done)
    near = lco.schedule(open_, NOW + timedelta(hours=2))
    far = lco.schedule(open_, NOW + timedelta(hours=100))
    running = lco.schedule(open_, NOW - timedelta(minutes=5))
    running["state"] = "IN_PROGRESS"
    assert lco.groups[group["id"]]["state"] == "PENDING"  # MANY: PENDING comes first

    answer = requests.post(f"{lco.portal_url}/api/requestgroups/{group['id']}/cancel/", headers=AUTH, timeout=5)
    assert answer.status_code == 200
    states = {r["id"]: r["state"] for r in answer.json()["requests"]}
    assert answer.json()["state"] == "CANCELED" and states == {done: "COMPLETED", open_: "CANCELED"}
    blocks = {b["id"]: b["state"] for b in lco.blocks[open_]}
    assert blocks == {near["id"]: "CANCELED", running["id"]: "ABORTED"} and far["id"] not in blocks  # deleted
    # Again: a no-op; a group that ended otherwise cannot be cancelled.
    again = requests.post(f"{lco.portal_url}/api/requestgroups/{group['id']}/cancel/", headers=AUTH, timeout=5)
    assert again.status_code == 200 and again.json()["state"] == "CANCELED"
    assert facility.cancel([str(open_)]) == {str(open_): "CANCELED"}
    assert facility.cancel([str(done)]) == {str(done): "COMPLETED"}


def test_rapid_response_windows_start_now_and_end_within_a_day(facility, lco):
    rapid = {"observation_mode": "RAPID_RESPONSE"}
    assert facility.validate(SN, "IMAGING", imaging(end=NOW + timedelta(hours=20), **rapid)).ok
    result = facility.validate(SN, "IMAGING", imaging(end=NOW + timedelta(days=3), **rapid))
    assert any("within 24 hours" in reason for reason in result.errors["end"])
    result = facility.validate(SN, "IMAGING", imaging(start=NOW + timedelta(hours=3), end=NOW + timedelta(hours=20),
                                                      **rapid))
    assert any("cannot be in the future" in reason for reason in result.errors["start"])
    # NORMAL requests may span days.
    assert facility.validate(SN, "IMAGING", imaging(end=NOW + timedelta(days=3))).ok


def test_repeat_configurations_need_a_repeat_duration(facility, lco):
    from tom_facility_lco.fake import Validator

    body = facility.build(SN, "IMAGING", imaging(), "sequence")
    config = body["requests"][0]["configurations"][0]
    assert Validator(lco).check(body)[0] == {}
    config["repeat_duration"] = 600.0  # only REPEAT_* types take one
    assert "repeat_duration" in Validator(lco).check(body)[0]["requests"][0]["configurations"][0]
    config["type"] = "REPEAT_EXPOSE"
    config["repeat_duration"] = 30.0  # shorter than one pass (60 s exposure + readout)
    assert "less than the minimum" in Validator(lco).check(body)[0]["requests"][0]["configurations"][0][
        "repeat_duration"][0]
    del config["repeat_duration"]
    assert "Must specify a repeat_duration" in Validator(lco).check(body)[0]["requests"][0]["configurations"][0][
        "repeat_duration"][0]
    config["repeat_duration"] = 3600.0
    errors, durations = Validator(lco).check(body)
    assert errors == {} and durations["requests"][0]["configurations"][0]["duration"] > 3600
    created = requests.post(lco.portal_url + "/api/requestgroups/", json=body, headers=AUTH, timeout=5).json()
    assert created["requests"][0]["configurations"][0]["repeat_duration"] == 3600.0


def test_group_filters_and_estimated_archive_counts(facility, lco):
    [first] = facility.submit(SN, "IMAGING", imaging(), name="one").facility_ids
    facility.submit(SN, "IMAGING", imaging(observation_mode="RAPID_RESPONSE", end=NOW + timedelta(hours=20)),
                    name="two")
    lco.complete(first, frames=3)

    def names(**params):
        answer = requests.get(lco.portal_url + "/api/requestgroups/", params=params, headers=AUTH, timeout=5)
        return [g["name"] for g in answer.json()["results"]]

    assert names(observation_type="RAPID_RESPONSE") == ["two"] and names(user="alice") == ["two", "one"]
    assert names(exclude_state=["COMPLETED", "CANCELED"]) == ["two"] and names(user="bob") == []
    assert names(modified_before=(NOW - timedelta(days=1)).isoformat()) == []
    frames = requests.get(lco.archive_url + "/frames/", params={"limit": 2}, headers=AUTH, timeout=5).json()
    assert frames["count_estimated"] and frames["count"] != 6  # an estimate: follow `next`
    exact = requests.get(lco.archive_url + "/frames/", params={"request_id": first}, headers=AUTH, timeout=5).json()
    assert (exact["count"], exact["count_estimated"], len(exact["results"])) == (6, False, 6)
    assert len(facility.data_products(first)) == 3  # the reduced ones; raw frames are left out
