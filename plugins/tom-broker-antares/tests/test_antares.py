"""ANTARES against the fake server: Elasticsearch queries, links.next paging, loci with CSV
light curves, tags, ingestion and failures."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from tom_broker_antares.fake import detection_row, rows_to_csv, upper_limit_row
from tom_broker_antares.mapping import hmsdms, points_from_csv
from tomcore.errors import NotFoundError, ServiceError, ValidationError
from tomcore.services.alerts import IngestInterrupted


def searches(fake):
    return [r for r in fake.requests if r["path"] == "/v2/loci"]


def sent_query(request):
    return json.loads(request["args"]["elasticsearch_query"][0])


def test_a_locus_becomes_an_alert_named_by_its_ztf_id(atom, fake):
    fake.make("ANT2024abcdefg", ra=150.1234, dec=2.3456, ztf_object_id="ZTF24abcdxyz",
              tags=["nuclear_transient", "extragalactic"], n_det=4, n_limits=2)
    [page] = list(atom.alerts.query("antares", {"ztf_object_id": ["ZTF24abcdxyz"]}))
    [alert] = page.alerts
    props = fake.loci["ANT2024abcdefg"]["properties"]
    assert (alert.object_id, alert.name, alert.aliases) == ("ANT2024abcdefg", "ZTF24abcdxyz",
                                                           ["ANT2024abcdefg", "ZTF24abcdxyz"])
    assert (alert.ra, alert.dec, alert.mag) == (150.1234, 2.3456, props["newest_alert_magnitude"])
    assert alert.extras["antares_tags"] == "nuclear_transient, extragalactic"
    assert alert.extras["antares_num_alerts"] == 6 and alert.extras["antares_num_mag_values"] == 4
    assert alert.url == "https://antares.noirlab.edu/loci/ANT2024abcdefg"
    assert alert.latest_time > alert.discovery_time
    [request] = searches(fake)
    assert sent_query(request) == {"query": {"bool": {"filter": [
        {"term": {"properties.ztf_object_id": "ZTF24abcdxyz"}}]}}}
    assert request["args"]["sort"] == ["-properties.newest_alert_observation_time"]


def test_follows_links_next_until_null(atom, fake):
    fake.populate(25)
    pages = list(atom.alerts.query("antares", {"page_size": 10}))
    assert [len(p.alerts) for p in pages] == [10, 10, 5]
    assert pages[0].total == 25
    sent = searches(fake)
    assert [r["args"].get("page[offset]") for r in sent] == [None, ["10"], ["20"]]
    assert all(r["args"]["limit"] == ["10"] for r in sent)
    newest = [a.latest_time for p in pages for a in p.alerts]
    assert newest == sorted(newest, reverse=True)
    assert len({a.object_id for p in pages for a in p.alerts}) == 25


def test_limit_stops_early(atom, fake):
    fake.populate(25)
    pages = list(atom.alerts.query("antares", {"page_size": 10}, limit=12))
    assert sum(len(p.alerts) for p in pages) == 12 and len(searches(fake)) == 2


def test_filters_build_the_elasticsearch_query(atom, fake):
    fake.make("ANTin", ra=10.0, dec=-20.0, tags=["high_snr"], n_det=8, first=60350.0)
    fake.make("ANTfar", ra=12.0, dec=-20.0, tags=["high_snr"], n_det=8, first=60350.0)
    fake.make("ANTfew", ra=10.001, dec=-20.0, tags=["high_snr"], n_det=2, first=60350.0)
    params = {"ra": 10.0, "dec": -20.0, "radius": 0.5, "tags": ["high_snr"], "nobs_min": 5, "nobs_max": 50,
              "last_mjd_min": 60300.0, "mag_max": 25.0}
    hits = [a.object_id for p in atom.alerts.query("antares", params) for a in p.alerts]
    assert hits == ["ANTin"]
    filters = sent_query(searches(fake)[-1])["query"]["bool"]["filter"]
    assert {"terms": {"tags": ["high_snr"]}} in filters
    assert {"sky_distance": {"radius": "0.5 degree", "location": hmsdms(10.0, -20.0)}} in filters
    assert {"range": {"properties.num_mag_values": {"gte": 5, "lte": 50}}} in filters
    assert {"range": {"properties.newest_alert_observation_time": {"gte": 60300.0}}} in filters
    assert {"range": {"properties.newest_alert_magnitude": {"lte": 25.0}}} in filters


def test_raw_es_query_and_since(atom, fake):
    fake.make("ANTold", first=60000.0, tags=["in_m31"])
    fake.make("ANTnew", first=60400.0, tags=["in_m31"])
    raw = '{"query": {"bool": {"filter": {"terms": {"tags": ["in_m31"]}}}}}'
    hits = [a.object_id for p in atom.alerts.query("antares", {"es_query": raw}) for a in p.alerts]
    assert sorted(hits) == ["ANTnew", "ANTold"]
    assert sent_query(searches(fake)[-1]) == json.loads(raw)
    since = datetime(2024, 2, 1, tzinfo=UTC)  # MJD 60341
    hits = [a.object_id for p in atom.alerts.query("antares", {"es_query": raw}, since=since) for a in p.alerts]
    assert hits == ["ANTnew"]
    assert sent_query(searches(fake)[-1]) == {"query": {"bool": {"filter": [
        json.loads(raw)["query"], {"range": {"properties.newest_alert_observation_time": {"gte": 60341.0}}}]}}}


def test_parameters_are_checked_before_sending(atom, fake):
    with pytest.raises(ValidationError) as caught:
        list(atom.alerts.query("antares", {"radius": 2, "es_query": "{nope"}))
    assert set(caught.value.errors) == {"radius", "es_query"}
    with pytest.raises(ValidationError) as caught:
        list(atom.alerts.query("antares", {"es_query": '{"query": {}, "aggs": {}}', "tags": ["x"]}))
    assert "single key" in caught.value.errors["es_query"][0]
    with pytest.raises(ValidationError, match="cannot be combined with tags"):
        list(atom.alerts.query("antares", {"locus_id": "ANT1", "tags": ["x"]}))
    assert searches(fake) == []


def test_tags_come_from_the_statistics_endpoint(atom, fake):
    fake.make("ANT1", tags=["nuclear_transient"])
    fake.make("ANT2", tags=["nuclear_transient", "high_snr"])
    choices = {c.value: c.description for c in atom.alerts.choices("antares", "tags")}
    assert choices["nuclear_transient"] == "2 loci" and choices["high_snr"] == "1 loci"
    with pytest.raises(ValidationError, match="unknown tags 'nuclear-transient'"):
        list(atom.alerts.query("antares", {"tags": ["nuclear-transient"]}))


def test_a_server_400_is_a_clear_error(antares_url):
    from tom_broker_antares.client import AntaresClient
    from tomcore.http import HttpClient

    client = AntaresClient(HttpClient("ANTARES", antares_url, retries=0))
    with pytest.raises(ValidationError) as caught:
        client.search({"query": {"fuzzy": {"tags": "x"}}}, limit=5)
    assert "unsupported query clause 'fuzzy'" in str(caught.value)
    with pytest.raises(ValidationError, match="at most 1 degree"):
        client.search({"query": {"sky_distance": {"radius": "2 degree", "location": hmsdms(1, 1)}}}, limit=5)
    assert client.search({"query": {"sky_distance": {"distance": "0.1 degree", "htm16": {"center": "1 1"}}}},
                         limit=5)["data"] == []


def test_show_reads_the_csv_light_curve(atom, fake):
    rows = [detection_row(60329.2467, "g", 19.12, 0.08, 20.4, 150.1, 2.3, "2411224710015015011"),
            upper_limit_row(60327.2986, "R", 20.1, "ZTF24abcdxyz", 2409298610015),
            detection_row(60330.5, "R", 18.9, math.nan, 20.3, 150.1, 2.3, "2411224710015015012")]
    fake.add_locus("ANT2024abcdefg", 150.1, 2.3, ztf_object_id="ZTF24abcdxyz", tags=["extragalactic"], rows=rows)
    fake.user_properties["ANT2024abcdefg"] = {"some_filter_score": 0.7}
    alert = atom.alerts.show("antares", "ANT2024abcdefg")
    points = sorted(alert.light_curve, key=lambda p: p.time)
    assert [(p.time, p.band, p.mag, p.mag_err, p.limit, p.telescope) for p in points] == [
        (60327.2986, "r", None, None, 20.1, "ZTF"),
        (60329.2467, "g", 19.12, 0.08, None, "ZTF"),
        (60330.5, "r", 18.9, None, None, "ZTF"),
    ]
    assert {p.source for p in points} == {"antares"} and {p.source_id for p in points} == {"ANT2024abcdefg"}
    assert alert.raw["user_properties"] == {"some_filter_score": 0.7}
    with pytest.raises(NotFoundError, match="ANTARES has no such locus: 'ANTnope'"):
        atom.alerts.show("antares", "ANTnope")


def test_csv_empty_cells_nan_and_time_fallback():
    text = ("time,alert_id,ant_mjd,ant_survey,ant_ra,ant_dec,ant_passband,ant_mag,ant_magerr,ant_maglim,"
            "ant_mag_corrected,ant_magerr_corrected\n"
            "2024-01-20 05:55:12.000000,ztf_candidate:1,,1,1,1,g,19.1,0.1,20.4,,\n"
            "2024-01-21 00:00:00.000000,ztf_candidate:2,60330.0,1,1,1,g,nan,,20.4,,\n"
            "2024-01-22 00:00:00.000000,lsst:3,60331.0,4,1,1,i,21.5,0.2,,,\n"
            ",ztf_upper_limit:X-1,60332.0,2,,,R,,,,,\n")
    points = points_from_csv("ANT1", text)
    assert [(round(p.time, 4), p.band, p.mag, p.limit, p.telescope) for p in points] == [
        (60329.2467, "g", 19.1, None, "ZTF"),   # time from the ISO column
        (60330.0, "g", None, 20.4, "ZTF"),      # NaN magnitude, a limit: an upper limit
        (60331.0, "i", 21.5, None, "LSST"),
    ]  # the last row has no limit value at all: left out
    from tomcore.contracts.brokers import BadRecord

    with pytest.raises(BadRecord, match="lacks the columns ant_mag"):
        points_from_csv("ANT1", "time,ant_mjd,ant_passband\n")
    assert rows_to_csv([]).startswith("time,alert_id,")


def test_ingest_is_idempotent_and_keeps_both_names(atom, fake):
    ids = [fake.make(seed=i, n_det=6, n_limits=3) for i in range(5)]
    summary = atom.alerts.ingest("antares", {"page_size": 2})
    assert (summary.pages, summary.created, summary.points_added) == (3, 5, 45)
    locus = fake.loci[ids[0]]
    target = atom.targets.get(ids[0])  # found by its locus id alias
    assert target.name == locus["properties"]["ztf_object_id"] and ids[0] in target.aliases
    assert "antares_tags" in target.extras or not locus["tags"]
    again = atom.alerts.ingest("antares", {"page_size": 2})
    assert (again.created, again.unchanged, again.points_added) == (0, 5, 0)


def test_bad_records_are_reported_and_skipped(atom, fake):
    fake.make("ANTgood", seed=1)
    fake.make("ANTnan", seed=2)
    fake.loci["ANTnan"]["dec"] = math.nan
    fake.make("ANTnora", seed=3)
    del fake.loci["ANTnora"]["ra"]
    fake.make("ANTbadlc", seed=4)
    fake.raw["/v2/loci/ANTbadlc"] = b'{"data": {"id": "ANTbadlc", "lightcurve": "time,ant'
    summary = atom.alerts.ingest("antares", {})
    assert summary.created == 2 and summary.skipped == 2
    text = "\n".join(summary.problems)
    assert "ANTnan: dec is not a finite number (nan)" in text
    assert "ANTnora: missing field ra" in text
    assert "ANTbadlc: the locus from ANTARES is not valid JSON" in text


def test_failures_retry_then_one_message(atom, fake):
    fake.populate(3)
    fake.fail(429, headers={"Retry-After": "0"}, path="/v2/loci")
    assert atom.alerts.ingest("antares", {}).created == 3
    fake.fail(502, times=3, path="/v2/loci")
    with pytest.raises(IngestInterrupted, match=r"ANTARES: GET http://127\.0\.0\.1:\d+/v2/loci\?.* answered 502 after 2 retries"):
        atom.alerts.ingest("antares", {})
    fake.fail(200, times=3, delay=1.5, path="/v2/loci/statistics")
    with pytest.raises(ServiceError, match="timed out"):
        atom.alerts.broker("antares").tags()


def test_credentials_in_the_base_url_are_never_in_a_message(tom_factory, fake, antares_url):
    url = antares_url.replace("http://", "http://bob:s3cret@")
    tom = tom_factory("auth-tom", load_plugins=["antares"], config=f'\n[plugins.antares]\nbase_url = "{url}"\n')
    broker = tom.alerts.broker("antares")
    fake.raw["/v2/loci"] = b"<html>proxy error</html>"
    with pytest.raises(ServiceError) as info:
        list(broker.query({}))
    assert "not JSON" in str(info.value) and "bob:***@" in str(info.value) and "s3cret" not in str(info.value)
