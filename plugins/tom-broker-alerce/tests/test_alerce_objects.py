"""ALeRCE object detail, light curves, ingestion and failures against the fake server."""

from __future__ import annotations

import math

import pytest

from tomcore.errors import NotFoundError, ServiceError
from tomcore.services.alerts import IngestInterrupted


def test_show_gives_the_light_curve_with_detections_and_limits(atom, fake):
    oid = fake.make("ZTF24showme", n_det=5, n_nondet=3, seed=9)
    fake.lightcurves[oid]["detections"][0]["sigmapsf"] = None  # the server omits null keys
    fake.lightcurves[oid]["detections"][1]["fid"] = 3
    alert = atom.alerts.show("alerce", oid)
    detections = [p for p in alert.light_curve if p.mag is not None]
    limits = [p for p in alert.light_curve if p.is_limit]
    assert len(detections) == 5 and len(limits) == 3
    first = fake.lightcurves[oid]["detections"][0]
    point = next(p for p in detections if p.time == first["mjd"])
    assert (point.band, point.mag, point.mag_err, point.telescope) == ("g", first["magpsf"], None, "ZTF")
    assert point.source == "alerce" and point.source_id == oid
    assert {p.band for p in detections} == {"g", "r", "i"}
    nd = fake.lightcurves[oid]["non_detections"][1]
    lim = next(p for p in limits if p.time == nd["mjd"])
    assert (lim.band, lim.limit, lim.mag) == ({1: "g", 2: "r"}[nd["fid"]], nd["diffmaglim"], None)
    top = min((r for r in fake.probabilities[oid] if r["classifier_name"] == "lc_classifier"),
              key=lambda r: r["ranking"])
    assert alert.classification == top["class_name"] and alert.score == top["probability"]
    assert alert.mag == max(detections, key=lambda p: p.time).mag
    assert alert.raw["probabilities"] == fake.probabilities[oid]
    lc_request = next(r for r in fake.requests if r["path"].endswith("/lightcurve"))
    assert lc_request["path"] == f"/ztf/v1/objects/{oid}/lightcurve"


def test_an_unknown_object_is_no_such_object(atom):
    with pytest.raises(NotFoundError, match="ALeRCE has no such object: 'ZTF24nothere'"):
        atom.alerts.show("alerce", "ZTF24nothere")


def test_ingest_creates_targets_with_photometry_and_is_idempotent(atom, fake):
    oids = fake.populate(7)
    summary = atom.alerts.ingest("alerce", {"page_size": 3})
    assert (summary.pages, summary.alerts, summary.created, summary.points_added) == (3, 7, 7, 7 * 20)
    target = atom.targets.get(oids[0])
    assert target.ra == fake.objects[oids[0]]["meanra"] and target.extras["alerce_ndet"] == 14
    again = atom.alerts.ingest("alerce", {"page_size": 3})
    assert (again.created, again.updated, again.unchanged, again.points_added) == (0, 0, 7, 0)
    lc_calls = [r for r in fake.requests if r["path"].endswith("/lightcurve")]
    assert len(lc_calls) == 14


def test_retry_after_429_then_success(atom, fake):
    fake.populate(3)
    fake.fail(429, times=1, headers={"Retry-After": "0"}, path="/ztf/v1/objects/", body={"message": "slow down"})
    fake.fail(503, times=1, path="/ztf/v1/objects/")
    summary = atom.alerts.ingest("alerce", {})
    assert summary.created == 3
    assert len([r for r in fake.requests if r["path"] == "/ztf/v1/objects/"]) == 4  # 2 refused, page 1, empty page 2


def test_retry_after_is_honoured(atom, fake):
    import time

    fake.populate(1)
    fake.fail(429, times=1, headers={"Retry-After": "1"}, path="/ztf/v1/objects/")
    started = time.monotonic()
    assert sum(len(p.alerts) for p in atom.alerts.query("alerce", {})) == 1
    assert time.monotonic() - started >= 0.9  # waited as asked (capped by http.max_retry_after)


def test_the_broker_giving_up_names_the_broker_url_and_cause_and_keeps_pages(atom, fake):
    fake.populate(6)
    original = fake.search
    calls = []

    def failing_second_page(request):
        calls.append(request.args.get("page"))
        if request.args.get("page") == "2":
            return {"message": "Internal Server Error"}, 500
        return original(request)

    fake.handlers[next(k for k in fake.handlers if k.startswith("search:"))] = failing_second_page
    with pytest.raises(IngestInterrupted) as caught:
        atom.alerts.ingest("alerce", {"page_size": 3})
    message = str(caught.value)
    assert message.startswith("ALeRCE: GET http://127.0.0.1:")
    assert "/ztf/v1/objects/?" in message and "answered 500 after 2 retries" in message
    assert "kept what was ingested before: 3 alerts: 3 created" in message
    assert atom.targets.count() == 3
    assert calls.count("2") == 3  # the first try and two retries


def test_a_timeout_is_one_message(atom, fake):
    fake.populate(2)
    fake.fail(200, times=3, delay=1.5, path="/ztf/v1/objects/")
    with pytest.raises(ServiceError, match=r"ALeRCE: GET .*/ztf/v1/objects/.* timed out after 1 s \(2 retries\)"):
        list(atom.alerts.query("alerce", {}))


def test_bad_records_are_reported_with_the_object_id_and_skipped(atom, fake):
    good = fake.make("ZTF24goodone", seed=1)
    nan = fake.make("ZTF24nanpos", seed=2)
    fake.objects[nan]["meanra"] = math.nan
    missing = fake.make("ZTF24nodec", seed=3)
    del fake.objects[missing]["meandec"]
    broken = fake.make("ZTF24brokenlc", seed=4)
    fake.raw[f"/ztf/v1/objects/{broken}/lightcurve"] = b'{"detections": [{"mjd": 6031'
    summary = atom.alerts.ingest("alerce", {})
    assert summary.created == 2 and summary.skipped == 2
    problems = "\n".join(summary.problems)
    assert "ZTF24nanpos: meanra is not a finite number (nan)" in problems
    assert "ZTF24nodec: missing field meandec" in problems
    assert "ZTF24brokenlc: the light curve from ALeRCE is not valid JSON" in problems
    assert atom.targets.get(good).id and atom.targets.get(broken).id
    from tomcore.services.photometry import points_of

    with atom.db.session(readonly=True) as s:
        assert points_of(s, atom.targets.get(broken).id) == []
        assert len(points_of(s, atom.targets.get(good).id)) == 20
    # once the broker serves it, a rerun completes the light curve
    del fake.raw[f"/ztf/v1/objects/{broken}/lightcurve"]
    again = atom.alerts.ingest("alerce", {})
    assert again.points_added == 20 and again.updated == 1


def test_nan_values_in_the_light_curve_are_left_out(atom, fake):
    oid = fake.make("ZTF24nanlc", n_det=4, n_nondet=2)
    fake.raw[f"/ztf/v1/objects/{oid}/lightcurve"] = (
        b'{"detections": [{"mjd": 60300.5, "fid": 1, "magpsf": NaN, "sigmapsf": 0.1},'
        b' {"mjd": 60301.5, "fid": 2, "magpsf": 19.5, "sigmapsf": NaN}],'
        b' "non_detections": [{"mjd": 60299.5, "fid": 1, "diffmaglim": 20.1}, {"mjd": 60298.5, "fid": 1}]}')
    points = atom.alerts.broker("alerce").light_curve(oid)
    assert [(p.time, p.band, p.mag, p.mag_err, p.limit) for p in points] == [
        (60301.5, "r", 19.5, None, None), (60299.5, "g", None, None, 20.1)]


def test_settings_choose_the_server(tom_factory, monkeypatch):
    import os

    tom = tom_factory("env-tom", load_plugins=["alerce"], env={**os.environ, "TOM_ALERCE_BASE_URL": "http://x/ztf/v1"})
    broker = tom.alerts.broker("alerce")
    assert broker.config["base_url"] == "http://x/ztf/v1"
    plain = tom_factory("plain-tom", load_plugins=["alerce"])
    assert plain.alerts.broker("alerce").config["base_url"] == "https://api.alerce.online/ztf/v1"


def test_credentials_in_the_base_url_are_never_in_a_message(tom_factory, fake, alerce_url):
    # a base URL behind a proxy with basic auth: the password is masked in every error
    url = alerce_url.replace("http://", "http://bob:s3cret@")
    tom = tom_factory("auth-tom", load_plugins=["alerce"], config=f'\n[plugins.alerce]\nbase_url = "{url}"\n')
    broker = tom.alerts.broker("alerce")
    fake.raw["/ztf/v1/objects/"] = b"<html>proxy error</html>"
    with pytest.raises(ServiceError) as info:
        list(broker.query({}))
    assert "not JSON" in str(info.value) and "bob:***@" in str(info.value)
    fake.raw.clear()
    fake.fail(500, times=5)
    with pytest.raises(ServiceError) as info:
        list(broker.query({}))
    assert "answered 500" in str(info.value)
    for text in (str(info.value), repr(info.value.url)):
        assert "s3cret" not in text


def test_update_fetches_the_light_curves_of_stored_objects_again(atom, fake):
    oids = fake.populate(4)
    atom.alerts.ingest("alerce", {})
    latest = dict(fake.lightcurves[oids[1]]["detections"][-1])
    latest.update(mjd=latest["mjd"] + 3.0, candid=str(int(latest["candid"]) + 1), magpsf=18.2)
    fake.lightcurves[oids[1]]["detections"].append(latest)
    del fake.objects[oids[2]]  # gone from ALeRCE: reported, the others refreshed
    fake.requests.clear()
    (summary,) = atom.alerts.refresh(["alerce"])
    assert (summary.objects, summary.targets_updated, summary.points_added) == (4, 1, 1)
    assert summary.problems and oids[2] in summary.problems[0]
    assert sorted(r["path"] for r in fake.requests) == sorted(f"/ztf/v1/objects/{o}/lightcurve" for o in oids)
    assert atom.alerts.refresh(["alerce"])[0].points_added == 0
