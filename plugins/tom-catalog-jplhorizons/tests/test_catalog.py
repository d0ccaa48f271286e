"""The horizons catalog against the fake Horizons API: requests, mapping, failures."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tom_catalog_jplhorizons.catalog import HorizonsCatalog, epoch_jd, split_names
from tom_catalog_jplhorizons.fake import FakeHorizons
from tomcore.domain.targets import JPL_MAJOR_PLANET, MPC_COMET, MPC_MINOR_PLANET, NON_SIDEREAL
from tomcore.errors import AmbiguousError, ServiceError, ValidationError


def test_registered_with_its_settings(horizons_tom: Any, horizons_url: str) -> None:
    catalog = horizons_tom.components.catalogs.get("horizons")
    assert isinstance(catalog, HorizonsCatalog) and catalog.plugin_name == "jplhorizons"
    assert catalog.config["url"] == horizons_url and catalog.batch_size == 1
    assert [p.name for p in catalog.params] == ["epoch"]


def test_url_from_the_environment(tom_factory: Any) -> None:
    tom = tom_factory("env", env={"TOM_HORIZONS_URL": "http://127.0.0.1:9/api/horizons.api"})
    assert tom.components.catalogs.get("horizons").config.source("url") == "env:TOM_HORIZONS_URL"


def test_request_asks_for_heliocentric_ecliptic_elements(catalog: Any, horizons: FakeHorizons) -> None:
    catalog.resolve("C/2020 F3", epoch="2459036.5")
    (request,) = horizons.requests
    args = {k: v[0] for k, v in request["args"].items()}
    assert request["method"] == "GET"
    assert args == {
        "format": "json", "COMMAND": '"C/2020 F3"', "OBJ_DATA": "YES", "MAKE_EPHEM": "YES", "EPHEM_TYPE": "ELEMENTS",
        "CENTER": "'500@10'", "REF_PLANE": "ECLIPTIC", "REF_SYSTEM": "ICRF", "TP_TYPE": "ABSOLUTE",
        "OUT_UNITS": "AU-D", "CSV_FORMAT": "YES", "ELEM_LABELS": "YES", "TLIST": "'2459036.500000'",
    }


def test_asteroid_maps_every_field(catalog: Any) -> None:
    (entry,) = catalog.resolve("Eros", epoch="2460600.5")
    t = entry.target
    assert (t.name, t.type, t.scheme) == ("433 Eros", NON_SIDEREAL, MPC_MINOR_PLANET)
    assert t.aliases == ["A898 PA", "Eros"]
    assert t.epoch_of_elements == 60600.0
    assert t.eccentricity == pytest.approx(0.2228359407071313, rel=1e-14)
    assert t.perihdist == pytest.approx(1.13319923776417, rel=1e-14)
    assert t.inclination == pytest.approx(10.82846651399785, rel=1e-14)
    assert t.lng_asc_node == pytest.approx(304.2701025753316, rel=1e-14)
    assert t.arg_of_perihelion == pytest.approx(178.9297536744151, rel=1e-14)
    assert t.epoch_of_perihelion == pytest.approx(2460787.658732164 - 2400000.5, abs=1e-8)
    assert t.mean_daily_motion == pytest.approx(0.5597752949285997, rel=1e-14)
    assert t.mean_anomaly == pytest.approx(255.2386241578213, rel=1e-14)
    assert t.semimajor_axis == pytest.approx(1.458120998474684, rel=1e-14)
    assert t.ephemeris_period == pytest.approx(643.1151381012624, rel=1e-14)
    assert (t.abs_mag, t.slope) == (10.38, 0.46)
    assert t.ra is None and t.dec is None and t.extras == {}
    assert t.problems() == {}
    assert entry.identifier == "433"
    assert entry.note == "osculating elements at A.D. 2024-Oct-17 00:00:00.0000 TDB, orbit JPL#659"
    assert entry.url == "https://ssd.jpl.nasa.gov/tools/sbdb_lookup.html#/?sstr=433"
    assert entry.raw["elements"]["JDTDB"] == 2460600.5 and "$$SOE" in entry.raw["result"]


def test_comet_maps_every_field(catalog: Any) -> None:
    (entry,) = catalog.resolve("C/2020 F3", epoch="2020-07-06")
    t = entry.target
    assert (t.name, t.scheme, t.aliases) == ("C/2020 F3", MPC_COMET, ["NEOWISE"])
    assert t.epoch_of_elements == 59036.0
    assert t.eccentricity == pytest.approx(0.9991780262531292, rel=1e-14)
    assert t.perihdist == pytest.approx(0.2946659843902428, rel=1e-14)
    assert t.epoch_of_perihelion == pytest.approx(2459034.1787123815 - 2400000.5, abs=1e-8)
    assert t.inclination == pytest.approx(128.9375000076017, rel=1e-14)
    assert t.lng_asc_node == pytest.approx(61.01042818536988, rel=1e-14)
    assert t.arg_of_perihelion == pytest.approx(37.27865876539119, rel=1e-14)
    assert t.mean_anomaly == pytest.approx(0.000337044101437, rel=1e-12)
    assert t.semimajor_axis == pytest.approx(358.4902734075297, rel=1e-14)
    assert t.mean_daily_motion == pytest.approx(0.000145212, rel=1e-14)
    assert t.ephemeris_period == pytest.approx(2479208.9, rel=1e-14)
    assert (t.abs_mag, t.slope) == (8.6, 4.0)  # M1 and k1
    assert t.problems() == {}
    assert entry.identifier == "90004918"


def test_mean_anomaly_at_the_requested_epoch(catalog: Any) -> None:
    (entry,) = catalog.resolve("433", epoch="2460610.5")  # ten days after the orbit's epoch
    assert entry.target.epoch_of_elements == 60610.0
    assert entry.target.mean_anomaly == pytest.approx(255.2386241578213 + 10 * 0.5597752949285997, rel=1e-12)


def test_hyperbolic_orbit_is_a_comet_scheme_without_period(catalog: Any) -> None:
    (entry,) = catalog.resolve("A/2017 U1")
    t = entry.target
    assert t.name == "'Oumuamua" and t.aliases == ["A/2017 U1"]
    assert t.scheme == MPC_COMET  # e > 0.9 with a time of perihelion
    assert t.eccentricity > 1 and t.ephemeris_period is None
    assert (t.abs_mag, t.slope) == (22.1, 0.15)


def test_major_body_by_id(catalog: Any) -> None:
    (entry,) = catalog.resolve("499", epoch=60676)
    t = entry.target
    assert (t.name, t.scheme, t.aliases, entry.identifier) == ("Mars", JPL_MAJOR_PLANET, [], "499")
    assert t.epoch_of_elements == 60676.0 and t.abs_mag is None
    assert t.mean_daily_motion == pytest.approx(0.5240329502161796) and t.problems() == {}
    assert entry.url is None


def test_ambiguous_designation_lists_record_numbers(catalog: Any) -> None:
    with pytest.raises(AmbiguousError) as info:
        catalog.resolve("1P")
    assert [c[0] for c in info.value.candidates] == ["90000030", "90000031", "90000064", "90000065", "90000066"]
    (entry,) = catalog.resolve("90000065;")
    assert entry.name == "1P/Halley" and entry.aliases == ["1P"] and entry.identifier == "90000065"
    (closest,) = catalog.resolve("DES=1P; CAP;")
    assert closest.identifier == "90000065"


def test_batch_keeps_ambiguous_terms_apart(catalog: Any, horizons: FakeHorizons) -> None:
    results = catalog.resolve_many(["Ceres", "Halley", "Planet Nine"])
    assert [r.status for r in results] == ["found", "ambiguous", "not found"]
    assert horizons.commands == ['"Ceres"', '"Halley"', '"Planet Nine"']


def test_unknown_designation_is_empty(catalog: Any) -> None:
    assert catalog.resolve("2099 XY999") == []


def test_bad_request_error_is_reported(catalog: Any, horizons: FakeHorizons) -> None:
    horizons.fail(400, body={"signature": {"source": "NASA/JPL Horizons API", "version": "1.2"},
                             "error": "invalid value for 'CENTER'"})
    with pytest.raises(ServiceError, match=r"^JPL Horizons: refused the request: invalid value for 'CENTER'$"):
        catalog.resolve("Ceres")


def test_server_error_after_retries(catalog: Any, horizons: FakeHorizons) -> None:
    horizons.fail(503, times=10, body="Service Unavailable")
    with pytest.raises(ServiceError, match=r"^JPL Horizons: GET .* answered 503 after 2 retries"):
        catalog.resolve("Ceres")
    assert len(horizons.requests) == 3


def test_timeout(tom_factory: Any, horizons_url: str, horizons: FakeHorizons) -> None:
    tom = tom_factory("slow", config=f'\n[plugins.horizons]\nurl = "{horizons_url}"\ntimeout = 0.3\nretries = 1\n')
    horizons.fail(200, times=5, delay=2.0)
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"^JPL Horizons: GET .* timed out after 0.3 s"):
        tom.catalogs.get("horizons").resolve("Ceres")
    assert time.monotonic() - started < 1.8


def test_answer_that_is_not_json(catalog: Any, horizons: FakeHorizons) -> None:
    horizons.fail(200, body="<html>maintenance</html>")
    with pytest.raises(ServiceError, match="not JSON"):
        catalog.resolve("Ceres")


def test_fake_rejects_other_methods_and_bad_values(horizons_url: str) -> None:
    import requests

    assert requests.post(horizons_url, timeout=5).status_code == 405
    bad = requests.get(horizons_url, params={"COMMAND": "'1'", "EPHEM_TYPE": "ORBIT"}, timeout=5)
    assert bad.status_code == 400 and "EPHEM_TYPE" in bad.json()["error"]
    text = requests.get(horizons_url, params={"format": "text", "COMMAND": "'1;'", "EPHEM_TYPE": "ELEMENTS",
                                              "TLIST": "'2458849.5'"}, timeout=5).text
    assert text.startswith("API VERSION: 1.2\nAPI SOURCE: NASA/JPL Horizons API\n")
    assert "Target body name: 1 Ceres (A801 AA)               {source: JPL#48}" in text


def test_split_names() -> None:
    assert split_names("433 Eros (A898 PA)", "433") == ("433 Eros", ["A898 PA", "Eros"], None)
    assert split_names("(1935 UZ)", "1935 UZ") == ("1935 UZ", [], None)
    assert split_names("Mars (499)", "499") == ("Mars", [], "499")
    assert split_names("1P/Halley", "90000065;") == ("1P/Halley", ["1P"], None)
    assert split_names("C/2020 F3 (NEOWISE)", "neowise") == ("C/2020 F3", ["NEOWISE"], None)


def test_epoch_forms() -> None:
    now = datetime(2025, 1, 21, 17, 30, tzinfo=UTC)
    assert epoch_jd(None, now) == 2460696.5
    assert epoch_jd("2460696.5") == 2460696.5
    assert epoch_jd(60696) == 2460696.5
    assert epoch_jd("2025-01-21") == 2460696.5
    assert epoch_jd("2025-01-21T12:00:00Z") == 2460697.0
    with pytest.raises(ValidationError, match="epoch"):
        epoch_jd("yesterday")


def test_batch_keeps_horizons_messages_per_term(catalog: Any, horizons: FakeHorizons) -> None:
    horizons.fail(200, body={"signature": {"version": "1.2"}, "result": " No ephemeris for target \"Ceres\"\n"},
                  times=1)
    results = catalog.resolve_many(["Ceres", "Eros"])
    assert [r.status for r in results] == ["error", "found"]
    assert "No ephemeris for target" in str(results[0].error)
    horizons.fail(503, times=10, body="down")
    with pytest.raises(ServiceError, match="503"):  # the service failing stops the batch
        catalog.resolve_many(["Ceres", "Eros"])
