"""The simbad catalog: names to sidereal targets, in batches, against the fake SIMBAD."""

from __future__ import annotations

from typing import Any

import pytest

from tom_catalog_simbad.catalog import SimbadCatalog, pick_distance
from tom_catalog_simbad.client import parse_votable
from tom_catalog_simbad.fake import FakeSimbad
from tom_catalog_simbad.queries import adql_string, clean_identifier, identifier_key, names_upload, objects_query
from tomcore.domain.targets import SIDEREAL
from tomcore.errors import ServiceError


def test_registered_with_its_settings(simbad_tom: Any, simbad_url: str) -> None:
    catalog = simbad_tom.components.catalogs.get("simbad")
    assert isinstance(catalog, SimbadCatalog)
    assert catalog.plugin_name == "simbad"
    assert catalog.config["tap_url"] == simbad_url
    assert catalog.batch_size == 100


def test_tap_url_from_the_environment(tom_factory: Any) -> None:
    tom = tom_factory("env", env={"TOM_SIMBAD_TAP_URL": "http://127.0.0.1:9/simbad/sim-tap"})
    catalog = tom.components.catalogs.get("simbad")
    assert catalog.config["tap_url"] == "http://127.0.0.1:9/simbad/sim-tap"
    assert catalog.config.source("tap_url") == "env:TOM_SIMBAD_TAP_URL"


def test_m31_maps_every_field(catalog: Any, simbad_url: str) -> None:
    (entry,) = catalog.resolve("m31")
    target = entry.target
    assert (entry.catalog, entry.term, entry.identifier) == ("simbad", "m31", "M 31")
    assert target.name == "M 31" and target.type == SIDEREAL and target.id is None
    assert target.ra == pytest.approx(10.684708333333333) and target.dec == pytest.approx(41.268750000000004)
    assert target.epoch == 2000.0
    assert (target.pm_ra, target.pm_dec, target.parallax) == (0.065, -0.057, None)
    # the most recent of the four published distances: 0.761 Mpc (2021) +- 0.011
    assert target.distance == pytest.approx(761000.0) and target.distance_err == pytest.approx(11000.0)
    assert target.extras == {"object_type": "AGN", "redshift": -0.001001, "radial_velocity": -300.0}
    assert target.aliases == [
        "NGC 224", "UGC 454", "PGC 2557", "LEDA 2557", "MCG+07-02-016", "CGCG 535-017", "2MASX J00424433+4116074",
        "IRAS 00400+4059", "IRAS F00400+4059", "Andromeda", "Andromeda Galaxy", "And Nebula", "Z 535-17",
        "RX J0042.7+4116", "2E 176", "GALEX J004244.3+411607",
    ]
    assert target.problems() == {}
    assert entry.url == simbad_url.replace("sim-tap", "sim-id?Ident=M%20%2031")
    assert entry.note == "distance from 2021ApJ...920...84S"
    assert entry.raw["main_id"] == "M  31" and len(entry.raw["distances"]) == 4


def test_star_with_proper_motion_parallax_and_spectral_type(catalog: Any) -> None:
    (entry,) = catalog.resolve("Vega")
    target = entry.target
    assert target.name == "* alf Lyr"
    assert (target.ra, target.dec) == (pytest.approx(279.23473479), pytest.approx(38.78368896))
    assert (target.pm_ra, target.pm_dec, target.parallax) == (200.94, 286.23, 130.23)
    assert target.distance == pytest.approx(7.68) and target.distance_err == pytest.approx(0.02)
    assert target.extras == {"object_type": "dS*", "redshift": -0.000069, "radial_velocity": -20.6,
                             "spectral_type": "A0Va"}
    assert "Vega" in target.aliases and "HD 172167" in target.aliases and "BD+38 3238" in target.aliases


def test_quasar_with_redshift_and_distance_in_mpc(catalog: Any) -> None:
    (entry,) = catalog.resolve("3C273")  # SIMBAD ignores spacing
    assert entry.name == "3C 273"
    assert entry.target.extras["redshift"] == 0.158339 and entry.target.extras["object_type"] == "QSO"
    assert entry.target.distance == pytest.approx(749e6) and entry.target.distance_err is None


def test_name_with_a_quote_and_a_name_prefix(catalog: Any, simbad: FakeSimbad) -> None:
    (entry,) = catalog.resolve("Barnard's Star")
    assert parse_votable(simbad.uploads[0]["names"]).rows == [{"asked_index": 0, "asked_id": "Barnard's Star"}]
    assert entry.name == "Barnard's Star"  # "NAME Barnard's Star" without SIMBAD's NAME prefix
    assert entry.target.pm_dec == 10362.394 and entry.target.parallax == 546.9759
    assert "Barnard's Runaway Star" in entry.aliases and "V* V2500 Oph" in entry.aliases


def test_not_found_is_an_empty_list(catalog: Any, simbad: FakeSimbad) -> None:
    assert catalog.resolve("SN 2099zzz") == []
    assert len(simbad.queries) == 1  # no distance query when nothing was found


def test_term_spelled_differently_is_kept_as_alias(catalog: Any, simbad: FakeSimbad) -> None:
    simbad.objects[0]["ids"] += "|[XYZ2024] M31-1"
    (entry,) = catalog.resolve("[XYZ2024]   m31-1")
    assert entry.name == "M 31" and "[XYZ2024] M31-1" in entry.aliases
    assert "[XYZ2024]   m31-1" not in entry.aliases  # same identifier for SIMBAD: not added twice


def test_batch_resolves_many_names_in_one_query(catalog: Any, simbad: FakeSimbad) -> None:
    names = ["M31", "Vega", "nope-1", "SN 2011fe", "3C 273", "Barnard's Star", "M31", "nope-2"]
    done = []
    results = catalog.resolve_many(names, progress=done.append)
    assert [r.term for r in results] == names
    assert [r.status for r in results] == ["found", "found", "not found", "found", "found", "found", "found", "not found"]
    assert [r.entries[0].name for r in results if r.found] == ["M 31", "* alf Lyr", "SN 2011fe", "3C 273",
                                                               "Barnard's Star", "M 31"]
    queries = simbad.queries
    assert len(queries) == 2  # one for the names, one for their distances
    assert "FROM TAP_UPLOAD.names JOIN ident" in queries[0]
    uploaded = parse_votable(simbad.uploads[0]["names"]).rows
    assert [row["asked_id"] for row in uploaded] == ["M31", "Vega", "nope-1", "SN 2011fe", "3C 273", "Barnard's Star",
                                                     "nope-2"]  # the repeated name is asked once
    assert "FROM TAP_UPLOAD.oids JOIN mesDistance" in queries[1]
    assert len(parse_votable(simbad.uploads[1]["oids"]).rows) == 5  # the objects found, once each
    assert sum(done) == 7


def test_rows_go_back_to_the_names_however_simbad_spells_them(catalog: Any, simbad: FakeSimbad) -> None:
    # SIMBAD finds "alf Lyr" as "* alf Lyr" and "V2500 Oph" as "V* V2500 Oph": spellings a
    # client cannot map back by itself; the uploaded index says which name found each row
    results = catalog.resolve_many(["alf Lyr", "V2500 Oph", "nope", "m 31"])
    assert [r.entries[0].name if r.found else None for r in results] == ["* alf Lyr", "Barnard's Star", None, "M 31"]
    assert results[0].entries[0].term == "alf Lyr" and "alf Lyr" in results[0].entries[0].aliases


def test_a_long_batch_is_one_short_query(simbad_url: str, tom_factory: Any, simbad: FakeSimbad) -> None:
    tom = tom_factory("long", config=f'\n[plugins.simbad]\ntap_url = "{simbad_url}"\nmin_interval = 0\n'
                                     "batch_size = 5000\ndistances = false\n")
    names = [f"[LONG2026] {i:05d} '{'x' * 40}'" for i in range(3000)] + ["Vega"]
    results = tom.components.catalogs.get("simbad").resolve_many(names)
    assert [r.found for r in results] == [False] * 3000 + [True]
    (query,) = simbad.queries
    assert len(query) < 1000  # the names are uploaded, not written into the ADQL
    assert len(parse_votable(simbad.uploads[0]["names"]).rows) == 3001


def test_batch_size_bounds_the_names_per_query(simbad_url: str, tom_factory: Any, simbad: FakeSimbad) -> None:
    tom = tom_factory("small", config=f'\n[plugins.simbad]\ntap_url = "{simbad_url}"\nmin_interval = 0\n'
                                      "batch_size = 2\ndistances = false\n")
    results = tom.components.catalogs.get("simbad").resolve_many(["M31", "Vega", "3C 273", "nope", "SN 2011fe"])
    assert sum(r.found for r in results) == 4
    assert [len(parse_votable(u["names"]).rows) for u in simbad.uploads] == [2, 2, 1]
    assert all("mesDistance" not in q for q in simbad.queries)
    assert results[0].entries[0].target.distance is None


def test_overflowing_answers_are_split(simbad_url: str, tom_factory: Any, simbad: FakeSimbad) -> None:
    tom = tom_factory("overflow", config=f'\n[plugins.simbad]\ntap_url = "{simbad_url}"\nmin_interval = 0\n'
                                         "maxrec = 2\n")
    results = tom.components.catalogs.get("simbad").resolve_many(["M31", "Vega", "3C 273"])
    assert [r.entries[0].name for r in results] == ["M 31", "* alf Lyr", "3C 273"]
    name_uploads = [[row["asked_index"] for row in parse_votable(u["names"]).rows] for u in simbad.uploads if "names" in u]
    assert name_uploads == [[0, 1, 2], [0], [1, 2]]  # 3 rows > 2: split in halves, indexes kept
    # M31 alone has 4 distances: truncated at maxrec, the 2 first are used and a warning logged
    assert results[0].entries[0].target.distance == pytest.approx(752000.0)


def test_service_failure_is_a_service_error_naming_simbad(catalog: Any, simbad: FakeSimbad) -> None:
    simbad.fail(500, times=10, body="Internal error")
    with pytest.raises(ServiceError, match=r"^SIMBAD: .*500"):
        catalog.resolve("M31")


def test_adql_helpers() -> None:
    assert adql_string("Barnard's Star") == "'Barnard''s Star'"
    assert adql_string("M\n31\x00") == "'M31'"
    assert identifier_key("M  31") == identifier_key("m31") == "m31"
    assert identifier_key("NAME Andromeda Galaxy") == identifier_key("andromeda galaxy")
    assert clean_identifier("NGC   224") == "NGC 224" and clean_identifier("NAME Vega") == "Vega"
    assert clean_identifier("* alf Lyr") == "* alf Lyr"
    query = objects_query()
    assert query.startswith("SELECT TAP_UPLOAD.names.asked_index, ident.id AS matched_id, basic.oid, basic.main_id")
    assert query.endswith("JOIN basic ON basic.oid = ident.oidref LEFT JOIN ids ON basic.oid = ids.oidref")
    upload = parse_votable(names_upload([(0, "Barnard's <Star> & co\x00"), (7, "M31")]))
    assert upload.rows == [{"asked_index": 0, "asked_id": "Barnard's <Star> & co"}, {"asked_index": 7, "asked_id": "M31"}]


def test_pick_distance_converts_units_and_takes_the_latest() -> None:
    rows = [{"dist": 2.0, "unit": "kpc ", "minus_err": -0.1, "plus_err": 0.3, "bibcode": "2019A&A...1"},
            {"dist": 9.0, "unit": "ly", "bibcode": "2023A&A...1"},  # unknown unit: ignored
            {"dist": None, "unit": "pc", "bibcode": "2024A&A...1"}]
    assert pick_distance(rows)[:2] == (pytest.approx(2000.0), pytest.approx(200.0))
    assert pick_distance([]) == (None, None, None)


def test_a_name_of_several_objects_returns_them_all(catalog: Any, simbad: FakeSimbad, simbad_tom: Any) -> None:
    simbad.objects[1]["ids"] += "|[DUP2020] 1"
    simbad.objects[2]["ids"] += "|[DUP2020] 1"
    entries = catalog.resolve("[DUP2020] 1")
    assert [e.name for e in entries] == ["SN 2011fe", "* alf Lyr"]
    (resolution,) = catalog.resolve_many(["[DUP2020] 1"])
    assert resolution.status == "ambiguous" and not resolution.found
    from tomcore.errors import AmbiguousError

    with pytest.raises(AmbiguousError) as info:
        simbad_tom.catalogs.lookup("simbad", "[DUP2020] 1")
    assert info.value.candidates == [("SN 2011fe", "SN 2011fe"), ("* alf Lyr", "* alf Lyr")]


def test_credentials_of_the_tap_url_stay_out_of_page_urls(simbad_url: str, tom_factory: Any) -> None:
    url = simbad_url.replace("http://", "http://bob:s3cret@")
    tom = tom_factory("auth", config=f'\n[plugins.simbad]\ntap_url = "{url}"\nmin_interval = 0\n')
    (entry,) = tom.components.catalogs.get("simbad").resolve("M31")  # basic auth passes through
    assert entry.url == simbad_url.replace("sim-tap", "sim-id?Ident=M%20%2031")
    assert "s3cret" not in entry.url and "bob" not in entry.url
