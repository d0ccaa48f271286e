"""The TAP client against the fake SIMBAD: requests, VOTable parsing, statuses, failures."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import pytest

from tom_catalog_simbad.client import TapClient, parse_votable
from tom_catalog_simbad.fake import FakeSimbad
from tom_catalog_simbad.queries import distances_query, names_upload, objects_query, oids_upload
from tomcore.errors import ServiceError
from tomcore.http import HttpClient


def names(*asked: str) -> dict[str, bytes]:
    """The upload of names the catalog sends."""
    return {"names": names_upload(enumerate(asked))}


def client(url: str, **kw: Any) -> TapClient:
    http = HttpClient("SIMBAD", url, timeout=kw.pop("timeout", 5.0), retries=kw.pop("retries", 2), backoff=0.0)
    return TapClient(http, min_interval=kw.pop("min_interval", 0.0), **kw)


def test_sync_query_is_a_tap_post_with_adql(simbad: FakeSimbad, simbad_url: str) -> None:
    adql = "SELECT oidref, dist, unit FROM mesDistance WHERE oidref IN (1217453)"
    result = client(simbad_url, maxrec=500).query(adql)
    (request,) = simbad.requests_to("/simbad/sim-tap/sync")
    assert request["method"] == "POST"
    form = {k: v[0] for k, v in parse_qs(request["data"].decode()).items()}
    assert form["REQUEST"] == "doQuery" and form["LANG"] == "ADQL" and form["MAXREC"] == "500"
    assert form["QUERY"] == adql and "UPLOAD" not in form
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert result.status == "OK" and [row["unit"] for row in result.rows] == ["Mpc"]


def test_names_travel_as_a_tap_upload(simbad: FakeSimbad, simbad_url: str) -> None:
    result = client(simbad_url, maxrec=500).query(objects_query(), uploads=names("Barnard's Star", "M31"))
    (request,) = simbad.requests_to("/simbad/sim-tap/sync")
    assert request["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    (params, parts), = [(q, u) for q, u in zip(simbad.queries, simbad.uploads, strict=True)]
    assert "FROM TAP_UPLOAD.names JOIN ident ON TAP_UPLOAD.names.asked_id = ident.id" in params
    assert "Barnard" not in params  # the names are in the uploaded table, not in the ADQL
    table = parse_votable(parts["names"])
    assert table.rows == [{"asked_index": 0, "asked_id": "Barnard's Star"}, {"asked_index": 1, "asked_id": "M31"}]
    assert [(row["asked_index"], row["matched_id"]) for row in result.rows] == [(0, "NAME Barnard's Star"), (1, "M  31")]
    row = result.rows[1]
    assert row["main_id"] == "M  31" and result.status == "OK"
    assert row["ra"] == pytest.approx(10.684708333333333) and isinstance(row["oid"], int)
    assert row["plx_value"] is None  # an empty <TD/> is missing, not 0 or NaN
    assert row["ids"].startswith("M  31|NGC   224|")


def test_zero_rows_is_an_empty_result(simbad_url: str) -> None:
    result = client(simbad_url).query(objects_query(), uploads=names("no such thing"))
    assert result.rows == [] and result.status == "OK"
    assert "main_id" in result.columns


def test_overflow_status_is_reported(simbad_url: str) -> None:
    result = client(simbad_url, maxrec=2).query(distances_query(), uploads={"oids": oids_upload([1575544])})
    assert result.overflow and len(result.rows) == 2


def test_distances_of_uploaded_object_ids(simbad: FakeSimbad, simbad_url: str) -> None:
    result = client(simbad_url).query(distances_query(), uploads={"oids": oids_upload([1217453, 1050784, 99])})
    assert distances_query().endswith("FROM TAP_UPLOAD.oids JOIN mesDistance ON mesDistance.oidref = TAP_UPLOAD.oids.oid")
    assert sorted((row["oidref"], row["unit"]) for row in result.rows) == [(1050784, "pc"), (1217453, "Mpc")]
    assert parse_votable(simbad.uploads[0]["oids"]).rows == [{"oid": 99}, {"oid": 1050784}, {"oid": 1217453}]


def test_adql_error_is_one_service_error_with_simbad_message(simbad_url: str) -> None:
    with pytest.raises(ServiceError) as info:
        client(simbad_url).query("SELECT nonsense FROM basic JOIN ident ON basic.oid = ident.oidref WHERE id = 'x'")
    assert info.value.status == 400
    assert "SIMBAD: the query was refused: Incorrect ADQL query" in str(info.value)
    assert "unresolved identifiers: nonsense" in str(info.value)


def test_error_status_in_a_200_answer_is_an_error() -> None:
    body = (b'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
            b'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">Query timeout</INFO></RESOURCE></VOTABLE>')
    with pytest.raises(ServiceError, match="refused: Query timeout"):
        parse_votable(body)


def test_status_found_in_table_or_root_infos() -> None:
    body = (b'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
            b'<INFO name="QUERY_STATUS" value="OVERFLOW"/><RESOURCE type="results"><TABLE>'
            b'<FIELD name="main_id" datatype="char" arraysize="*"/><DATA><TABLEDATA><TR><TD>M  1</TD></TR>'
            b'</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>')
    result = parse_votable(body)
    assert result.overflow and result.rows == [{"main_id": "M  1"}]


def test_a_body_that_is_not_a_votable_is_a_clear_error() -> None:
    with pytest.raises(ServiceError, match="not a VOTable"):
        parse_votable(b"<html><body>Service temporarily unavailable</body></html>", status_code=200)


def test_server_errors_are_retried_then_reported(simbad: FakeSimbad, simbad_url: str) -> None:
    simbad.fail(503, times=2, body="<html>Service Unavailable</html>")
    result = client(simbad_url, retries=2).query(objects_query(), uploads=names("Vega"))
    assert len(result.rows) == 1 and len(simbad.requests) == 3
    simbad.fail(503, times=5, body="<html>Service Unavailable</html>")
    with pytest.raises(ServiceError, match=r"SIMBAD: POST .* answered 503 after 2 retries"):
        client(simbad_url, retries=2).query(objects_query(), uploads=names("Vega"))


def test_a_silent_service_times_out(simbad: FakeSimbad, simbad_url: str) -> None:
    simbad.fail(200, times=10, delay=2.0)
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"timed out after 0\.3 s"):
        client(simbad_url, timeout=0.3, retries=1).query(objects_query(), uploads=names("Vega"))
    assert time.monotonic() - started < 1.8


def test_queries_are_spaced_by_min_interval(simbad_url: str) -> None:
    tap = client(simbad_url, min_interval=0.25)
    started = time.monotonic()
    for _ in range(3):
        tap.query(objects_query(), uploads=names("Vega"))
    assert time.monotonic() - started >= 0.5


def test_get_sync_answers_like_post(simbad_url: str) -> None:
    import requests

    answer = requests.get(simbad_url + "/sync", params={"REQUEST": "doQuery", "LANG": "ADQL",
                                                        "QUERY": "SELECT main_id FROM basic JOIN ident ON basic.oid = "
                                                                 "ident.oidref WHERE ident.id = 'Vega'"}, timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/x-votable+xml")
    assert parse_votable(answer.content).rows[0]["main_id"] == "* alf Lyr"


def test_fake_rejects_a_wrong_tap_request(simbad_url: str) -> None:
    import requests

    answer = requests.post(simbad_url + "/sync", data={"REQUEST": "getCapabilities", "LANG": "ADQL", "QUERY": "x"},
                           timeout=5)
    assert answer.status_code == 400 and b'value="ERROR"' in answer.content
    capabilities = requests.get(simbad_url + "/capabilities", timeout=5)
    assert b"<hard unit=\"row\">2000000</hard>" in capabilities.content


def test_fake_refuses_bad_uploads(simbad_url: str) -> None:
    with pytest.raises(ServiceError, match=r"unknown table \"TAP_UPLOAD.names\""):
        client(simbad_url).query(objects_query())  # the query reads an upload that was not sent
    import requests

    answer = requests.post(simbad_url + "/sync", timeout=5, files={"names": ("names.xml", names_upload([(0, "M31")]))},
                           data={"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": objects_query(),
                                 "UPLOAD": "names,param:other"})
    assert answer.status_code == 400 and b"Incorrect UPLOAD: no part named 'other'" in answer.content
    with pytest.raises(ServiceError, match="not a VOTable"):
        client(simbad_url).query(objects_query(), uploads={"names": b"asked_id\nM31\n"})
