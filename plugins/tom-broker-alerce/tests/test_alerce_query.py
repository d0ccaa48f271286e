"""ALeRCE queries against the fake server: parameters, paging, redirects, validation."""

from __future__ import annotations

import pytest

from tom_broker_alerce.client import AlerceClient
from tomcore.errors import ValidationError
from tomcore.http import HttpClient


def pages_requested(fake):
    return [r["args"] for r in fake.requests if r["path"].endswith("/objects/")]


def test_an_object_becomes_an_alert(atom, fake):
    oid = fake.make("ZTF24abcdxyz", ra=150.123456, dec=2.345678, first=60311.2471, seed=3)
    [page] = list(atom.alerts.query("alerce", {"oid": [oid]}))
    [alert] = page.alerts
    obj = fake.objects[oid]
    [row] = fake._probability_rows(oid, None, None, None, None, None)
    assert (alert.broker, alert.object_id, alert.name) == ("alerce", oid, oid)
    assert (alert.ra, alert.dec) == (150.123456, 2.345678)
    assert alert.classification == row["class_name"] and alert.score == row["probability"]
    assert alert.url == f"https://alerce.online/object/{oid}"
    assert abs(alert.discovery_time.timestamp() - (obj["firstmjd"] - 40587) * 86400) < 1e-3
    assert alert.latest_time > alert.discovery_time
    assert alert.extras == {"alerce_class": row["class_name"], "alerce_classifier": "lc_classifier",
                            "alerce_probability": row["probability"], "alerce_ndet": 14}
    assert alert.light_curve is None and alert.raw["oid"] == oid


def test_pages_until_an_empty_page_with_no_total(atom, fake):
    fake.populate(20)
    pages = list(atom.alerts.query("alerce", {"page_size": 10}))
    assert [len(p.alerts) for p in pages] == [10, 10]
    sent = pages_requested(fake)
    assert [a["page"] for a in sent] == [["1"], ["2"], ["3"]]  # the third answered empty
    assert all(a["count"] == ["false"] and a["page_size"] == ["10"] for a in sent)
    fake.requests.clear()
    fake.populate(5, seed=2)
    pages = list(atom.alerts.query("alerce", {"page_size": 10}))
    assert [len(p.alerts) for p in pages] == [10, 10, 5]
    assert len(pages_requested(fake)) == 4  # a short page is not taken for the last one


def test_limit_stops_early(atom, fake):
    fake.populate(30)
    pages = list(atom.alerts.query("alerce", {"page_size": 10}, limit=12))
    assert sum(len(p.alerts) for p in pages) == 12


def test_ranges_repeat_parameters_as_the_server_reads_them(atom, fake):
    fake.make("ZTF24aaaaaaa", first=60310.0, n_det=5, seed=1)
    fake.make("ZTF24bbbbbbb", first=60350.0, n_det=20, seed=2)
    found = list(atom.alerts.query("alerce", {"ndet_max": 10, "firstmjd_min": 60300, "firstmjd_max": 60320,
                                              "lastmjd_max": 60400}))
    assert [a.object_id for p in found for a in p.alerts] == ["ZTF24aaaaaaa"]
    args = pages_requested(fake)[0]
    assert args["ndet"] == ["0", "10"]  # an upper bound alone gets a lower bound
    assert args["firstmjd"] == ["60300.0", "60320.0"]
    assert args["lastmjd"] == ["0", "60400.0"]


def test_oid_wildcard_and_exact_lists(atom, fake):
    for oid in ("ZTF21aaaaaaa", "ZTF21bbbbbbb", "ZTF22ccccccc"):
        fake.make(oid)
    wild = [a.object_id for p in atom.alerts.query("alerce", {"oid": ["ZTF21*"]}) for a in p.alerts]
    assert sorted(wild) == ["ZTF21aaaaaaa", "ZTF21bbbbbbb"]
    exact = [a.object_id for p in atom.alerts.query("alerce", {"oid": ["ZTF22ccccccc", "ZTF21aaaaaaa"]})
             for a in p.alerts]
    assert exact == ["ZTF22ccccccc", "ZTF21aaaaaaa"]  # in the order asked, as the server orders them


def test_cone_in_arcsec_also_at_dec_zero(atom, fake):
    fake.make("ZTF24neareq", ra=10.0, dec=0.002)
    fake.make("ZTF24fareq", ra=10.5, dec=0.0)
    hits = [a.object_id for p in atom.alerts.query("alerce", {"ra": 10.0, "dec": 0.0, "radius": 10}) for a in p.alerts]
    assert hits == ["ZTF24neareq"]  # the server would drop the cone for dec=0 exactly
    args = pages_requested(fake)[0]
    assert float(args["dec"][0]) != 0 and args["radius"] == ["10.0"]


def test_classifier_filters_and_ranking(atom, fake):
    oid = fake.make("ZTF24classes", seed=5)
    [top] = fake._probability_rows(oid, "stamp_classifier", None, None, None, 1)
    hits = list(atom.alerts.query("alerce", {"classifier": "stamp_classifier", "class_name": top["class_name"]}))
    [alert] = [a for p in hits for a in p.alerts]
    assert alert.classification == top["class_name"] and alert.extras["alerce_classifier"] == "stamp_classifier"
    args = pages_requested(fake)[-1]
    assert args["class"] == [top["class_name"]] and args["classifier"] == ["stamp_classifier"]
    # a probability alone joins every probability row at or above it (no default ranking):
    # the server answers the object once per row, and the query gives each
    rows = [r for r in fake.probabilities[oid] if r["probability"] >= 0.05]
    assert len(rows) > 1
    found = [a for p in atom.alerts.query("alerce", {"oid": [oid], "probability": 0.05}) for a in p.alerts]
    assert sorted((a.extras["alerce_classifier"], a.classification) for a in found) == sorted(
        (r["classifier_name"], r["class_name"]) for r in rows)
    # ingesting them makes one target
    summary = atom.alerts.ingest("alerce", {"oid": [oid], "probability": 0.05})
    assert summary.created == 1 and atom.targets.count() == 1


def test_classifier_and_class_are_checked_against_the_live_list(atom, fake):
    with pytest.raises(ValidationError) as caught:
        list(atom.alerts.query("alerce", {"classifier": "lc_clasifier"}))
    assert "'lc_clasifier' is not one of: lc_classifier, lc_classifier_top, stamp_classifier" in str(caught.value)
    with pytest.raises(ValidationError, match="'SNZ' is not a class of lc_classifier"):
        list(atom.alerts.query("alerce", {"classifier": "lc_classifier", "class_name": "SNZ"}))
    assert pages_requested(fake) == []
    choices = atom.alerts.choices("alerce", "classifier")
    assert [c.value for c in choices] == ["lc_classifier", "lc_classifier_top", "stamp_classifier"]
    assert "SNIa" in choices[0].description
    assert "SNIa" in [c.value for c in atom.alerts.choices("alerce", "class_name")]


def test_parameters_are_checked_before_sending(atom, fake):
    with pytest.raises(ValidationError) as caught:
        list(atom.alerts.query("alerce", {"order_by": "deltamjd", "probability": 2, "ra": 10.0,
                                          "ndet_min": 5, "ndet_max": 2}))
    errors = caught.value.errors
    assert "'deltamjd' is not one of: oid, ndet" in errors["order_by"][0]
    assert "above the maximum" in errors["probability"][0]
    assert fake.requests == []
    with pytest.raises(ValidationError) as caught:
        list(atom.alerts.query("alerce", {"ra": 10.0, "ndet_min": 5, "ndet_max": 2}))
    assert caught.value.errors == {"dec": ["a cone needs both ra and dec"], "ndet_min": ["is above ndet_max"]}


def test_a_400_names_the_parameter(alerce_url):
    client = AlerceClient(HttpClient("ALeRCE", alerce_url, retries=0))
    with pytest.raises(ValidationError) as caught:
        client.search([("order_by", "deltamjd"), ("count", "maybe")])
    assert "ALeRCE rejected the query: Input payload validation failed" in str(caught.value)
    assert set(caught.value.errors) == {"order_by", "count"}
    assert "'deltamjd' is not a valid choice for 'order_by'" in caught.value.errors["order_by"][0]


def test_slashless_list_paths_redirect_with_308(alerce_url, fake):
    fake.make("ZTF24redirect")
    http = HttpClient("ALeRCE", alerce_url, retries=0)
    response = http.get("objects", params=[("oid", "ZTF24redirect")])
    assert [r["path"] for r in fake.requests] == ["/ztf/v1/objects", "/ztf/v1/objects/"]
    assert response.history[0].status_code == 308
    assert response.json()["items"][0]["oid"] == "ZTF24redirect"
    assert http.get("classifiers").json()[0]["classifier_name"] == "lc_classifier"


def test_count_true_gives_a_total(alerce_url, fake):
    fake.populate(25)
    client = AlerceClient(HttpClient("ALeRCE", alerce_url, retries=0))
    data = client.search([("count", "true"), ("page_size", 10), ("page", 2)])
    assert (data["total"], data["has_next"], data["next"], data["page"]) == (25, True, 3, None)
    data = client.search([("page_size", 10)])
    assert (data["total"], data["has_next"], data["next"]) == (None, False, None)


def test_since_raises_the_lastmjd_lower_bound(atom, fake):
    from datetime import UTC, datetime

    fake.make("ZTF24old", first=60000.0)
    fake.make("ZTF24new", first=60400.0)
    since = datetime(2024, 2, 1, tzinfo=UTC)  # MJD 60341
    hits = [a.object_id for p in atom.alerts.query("alerce", {"lastmjd_min": 60100}, since=since) for a in p.alerts]
    assert hits == ["ZTF24new"]
    assert pages_requested(fake)[0]["lastmjd"] == ["60341.0"]
