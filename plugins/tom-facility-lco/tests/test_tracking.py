"""Status of many requests, the state transitions of the portal, cancel, and archive frames."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from tomcore.domain.targets import Target
from tomcore.errors import AuthenticationError, ServiceError

NOW = datetime.now(UTC)
SN = Target(name="SN2099zz", ra=210.774, dec=54.274, id=1)
PARAMS = {"instrument": "1M0-SCICAM-SINISTRO", "filter": ["rp"], "exposure_time": [60.0], "start": NOW,
          "end": NOW + timedelta(days=2)}


def submit(facility, count=1):
    return [facility.submit(SN, "IMAGING", PARAMS, name=f"req {NOW.timestamp()} {i}").facility_ids[0] for i in range(count)]


def portal_gets(lco, prefix):
    return [r for r in lco.portal.requests if r["method"] == "GET" and r["path"].startswith(prefix)]


def test_status_of_many_requests_in_a_few_calls(facility, lco):
    ids = submit(facility, 25)
    lco.complete(ids[0])
    lco.expire(ids[1])
    lco.schedule(ids[2], NOW + timedelta(hours=3), NOW + timedelta(hours=3, minutes=20), site="ogg")
    lco.portal.requests.clear()
    known = dict.fromkeys(ids, "PENDING")
    statuses = facility.status(ids, since=NOW - timedelta(minutes=5), known=known)
    assert set(statuses) == set(ids)
    assert statuses[ids[0]].status == "COMPLETED" and statuses[ids[1]].status == "WINDOW_EXPIRED"
    assert {s.status for i, s in statuses.items() if i not in ids[:2]} == {"PENDING"}
    # 25 requests: 3 pages of groups (10 a page by default? no: we ask 100) -> 1 listing call,
    # plus the schedule of the 2 that changed; nothing per unchanged request.
    listing = portal_gets(lco, "/api/requestgroups/")
    assert len(listing) == 1 and listing[0]["args"]["limit"] == ["100"]
    assert sorted(r["path"] for r in portal_gets(lco, "/api/requests/")) == sorted(
        f"/api/requests/{i}/observations/" for i in ids[:2])
    completed = statuses[ids[0]]
    assert completed.scheduled_start is not None and completed.scheduled_end > completed.scheduled_start
    assert completed.detail["site"] == "lsc" and completed.detail["state"] == "COMPLETED"


def test_status_follows_next_links(facility, lco):
    ids = submit(facility, 3)
    lco.portal.requests.clear()

    # A portal that pages by 2 even when asked for 100: the client must follow `next`.
    original = lco.portal._page
    lco.portal._page = lambda request, items, default_limit, max_limit=1000: original(request, items, 2, 2)
    statuses = facility.status(ids, since=NOW - timedelta(minutes=5), known=dict.fromkeys(ids, "PENDING"))
    assert set(statuses) == set(ids)
    assert len(portal_gets(lco, "/api/requestgroups/")) == 2


def test_few_requests_are_asked_one_by_one_and_unknown_ones_are_left_out(facility, lco):
    [rid] = submit(facility)
    statuses = facility.status([rid, "999999"], known={rid: "PENDING"})
    assert set(statuses) == {rid} and statuses[rid].status == "PENDING"
    assert statuses[rid].scheduled_start is None  # unchanged: its schedule was not asked


def test_states_and_transitions_of_the_portal(facility, lco):
    [rid] = submit(facility)
    lco.complete(rid)
    assert facility.status([rid])[rid].status == "COMPLETED"
    lco.reopen(rid)  # bad data while the window is open: back to PENDING
    assert facility.status([rid])[rid].status == "PENDING"
    lco.expire(rid)
    assert facility.status([rid])[rid].status == "WINDOW_EXPIRED"
    lco.complete(rid)  # a late completion
    assert facility.status([rid])[rid].status == "COMPLETED"
    with pytest.raises(ValueError, match="COMPLETED -> CANCELED is not an allowed transition"):
        lco.cancel(rid)
    assert facility.is_terminal("COMPLETED") and facility.is_success("COMPLETED") and not facility.is_failed("COMPLETED")
    assert facility.is_failed("WINDOW_EXPIRED") and facility.is_failed("FAILURE_LIMIT_REACHED")
    assert not facility.is_terminal("PENDING")
    assert facility.watch_hours() == 72.0


def test_cancel(facility, lco):
    first, second = submit(facility, 2)
    assert facility.cancel([first]) == {first: "CANCELED"}
    assert lco.state(first) == "CANCELED"
    assert facility.cancel([first]) == {first: "CANCELED"}  # cancelling again is a no-op
    lco.complete(second)
    assert facility.cancel([second]) == {second: "COMPLETED"}  # terminal: keeps its state
    with pytest.raises(ServiceError, match="no request group holds request 12345"):
        facility.cancel(["12345"])


def test_a_500_while_polling_is_a_service_error_after_the_retries(facility, lco):
    [rid] = submit(facility)
    lco.portal.fail(500, times=3, path="/api/requests/")
    with pytest.raises(ServiceError, match="LCO portal: GET .* answered 500 after 2 retries"):
        facility.status([rid])
    lco.portal.fail(500, times=2, path="/api/requests/")
    assert facility.status([rid])[rid].status == "PENDING"  # two failures: the retries cover them


def test_frames_of_a_completed_request_with_paging(facility, lco):
    [rid] = submit(facility)
    lco.complete(rid, frames=1100)  # 1100 reduced and 1100 raw frames: 3 pages of 1000
    products = facility.data_products(rid)
    assert len(products) == 1100  # reduction levels 91 and 90 only
    pages = [r for r in lco.archive.requests if r["path"] == "/frames/"]
    assert len(pages) == 3 and pages[0]["args"]["request_id"] == [rid] and pages[0]["args"]["limit"] == ["1000"]
    product = products[0]
    frame = lco.frames[int(product.key)]
    assert product.name == frame["filename"] and product.name.endswith("-e91.fits.fz")
    assert product.data_type == "image" and product.time is not None
    assert product.checksum == "md5:" + hashlib.md5(lco.files[int(product.key)]).hexdigest()


def test_download_streams_and_refreshes_an_expired_url(facility, lco):
    [rid] = submit(facility)
    lco.complete(rid, frames=1, raw_frames=False)
    [product] = facility.data_products(rid)
    lco.expire_download_urls()  # the URL from the listing no longer works
    with facility.open_product(product) as stream:
        data = b"".join(iter(lambda: stream.read(1000), b""))
    assert data == lco.files[int(product.key)]
    assert any(r["path"] == f"/frames/{product.key}/" for r in lco.archive.requests)  # asked for a fresh URL
    assert not any("Authorization" in r["headers"] for r in lco.archive.requests if r["path"].startswith("/download/"))


def test_all_reduction_levels_when_configured(tom_factory, lco):
    tom = tom_factory("all", config=lco.config_toml() + 'reduction_levels = []\n')
    facility = tom.components.facilities.get("lco")
    [rid] = submit(facility)
    lco.complete(rid, frames=2)
    assert len(facility.data_products(rid)) == 4


def test_archive_refusing_the_token_is_one_clear_message(tom_factory, lco):
    facility = tom_factory("a", config=lco.config_toml()).components.facilities.get("lco")
    [rid] = submit(facility)
    lco.complete(rid, frames=1)
    lco.token = "rotated"  # the portal and the archive no longer accept ours
    with pytest.raises(AuthenticationError) as raised:
        facility.data_products(rid)
    assert str(raised.value).startswith("LCO archive: the archive refused the API token (401)")
    assert raised.value.status == 401


def test_throttled_polling_honours_retry_after(facility, lco):
    [rid] = submit(facility)
    throttled = {"detail": "Request was throttled. Expected available in 1 seconds."}
    lco.portal.fail(429, times=1, body=throttled, headers={"Retry-After": "1"}, path="/api/requests/")
    started = time.monotonic()
    assert facility.status([rid])[rid].status == "PENDING"
    assert time.monotonic() - started >= 0.9  # waited as told
    assert [r["path"] for r in portal_gets(lco, f"/api/requests/{rid}/")].count(f"/api/requests/{rid}/") == 2
