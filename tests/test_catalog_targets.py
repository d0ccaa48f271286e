"""End to end: targets created from SIMBAD and JPL Horizons through `tom catalog`, read back
from the database (SQLite, or PostgreSQL with TOM_TEST_DATABASE_URL) with every mapped field.

The catalogs are the plugins' own fake services, answering in the real formats (a VOTable
from SIMBAD's TAP service, the JSON with the fixed-format `result` text from Horizons).
"""

from __future__ import annotations

from typing import Any

import pytest

from tom_catalog_jplhorizons.fake import API_PATH, FakeHorizons
from tom_catalog_simbad.fake import TAP_PATH, FakeSimbad
from tomcore.domain.targets import MPC_COMET, MPC_MINOR_PLANET, NON_SIDEREAL, SIDEREAL
from tomcore.testing.pytest_plugin import make_runner


@pytest.fixture
def fakes(fake_service: Any) -> dict[str, Any]:
    simbad, horizons = FakeSimbad(), FakeHorizons()
    return {"simbad": simbad, "simbad_url": fake_service(simbad).url + TAP_PATH,
            "horizons": horizons, "horizons_url": fake_service(horizons).url + API_PATH}


@pytest.fixture
def tom(tom_factory: Any, fakes: dict[str, Any]) -> Any:
    return tom_factory("catalogs", config=(
        f'\n[plugins.simbad]\ntap_url = "{fakes["simbad_url"]}"\nmin_interval = 0.0\n'
        f'\n[plugins.horizons]\nurl = "{fakes["horizons_url"]}"\n'))


@pytest.fixture
def run(tom: Any) -> Any:
    return make_runner(tom)


def test_m31_comet_and_asteroid_created_with_every_field(tom: Any, run: Any) -> None:
    created = run("catalog", "query", "simbad", "M31", "--create", "--list", "catalog-demo", "--json").json()
    assert created["action"] == "created"
    m31 = tom.targets.get("M31")  # found by the normalised name "M 31"
    assert m31.name == "M 31" and m31.type == SIDEREAL
    assert m31.ra == pytest.approx(10.684708333333333, abs=1e-12)
    assert m31.dec == pytest.approx(41.268750000000004, abs=1e-12)
    assert m31.epoch == 2000.0
    assert (m31.pm_ra, m31.pm_dec, m31.parallax) == (0.065, -0.057, None)
    assert m31.distance == pytest.approx(761000.0) and m31.distance_err == pytest.approx(11000.0)
    assert m31.galactic_lng == pytest.approx(121.1743, abs=1e-3) and m31.galactic_lat == pytest.approx(-21.5733, abs=1e-3)
    assert m31.extras == {"object_type": "AGN", "radial_velocity": -300.0, "redshift": -0.001001}
    assert m31.aliases == [
        "NGC 224", "UGC 454", "PGC 2557", "LEDA 2557", "MCG+07-02-016", "CGCG 535-017", "2MASX J00424433+4116074",
        "IRAS 00400+4059", "IRAS F00400+4059", "Andromeda", "Andromeda Galaxy", "And Nebula", "Z 535-17",
        "RX J0042.7+4116", "2E 176", "GALEX J004244.3+411607",
    ]
    assert m31.lists == ["catalog-demo"]
    assert (m31.scheme, m31.eccentricity, m31.epoch_of_elements) == (None, None, None)

    comet_out = run("catalog", "query", "horizons", "C/2020 F3", "--create", "-o", "epoch=2459036.5").stdout
    assert "Created target 'C/2020 F3'" in comet_out
    comet = tom.targets.get("NEOWISE")
    assert (comet.name, comet.type, comet.scheme) == ("C/2020 F3", NON_SIDEREAL, MPC_COMET)
    assert comet.aliases == ["NEOWISE"]
    assert comet.epoch_of_elements == 59036.0
    assert comet.eccentricity == pytest.approx(0.9991780262531292, rel=1e-14)
    assert comet.perihdist == pytest.approx(0.2946659843902428, rel=1e-14)
    assert comet.inclination == pytest.approx(128.9375000076017, rel=1e-14)
    assert comet.lng_asc_node == pytest.approx(61.01042818536988, rel=1e-14)
    assert comet.arg_of_perihelion == pytest.approx(37.27865876539119, rel=1e-14)
    assert comet.epoch_of_perihelion == pytest.approx(59033.6787123815, abs=1e-8)
    assert comet.mean_anomaly == pytest.approx(0.000337044101437, rel=1e-12)
    assert comet.mean_daily_motion == pytest.approx(0.000145212, rel=1e-14)
    assert comet.semimajor_axis == pytest.approx(358.4902734075297, rel=1e-14)
    assert comet.ephemeris_period == pytest.approx(2479208.9, rel=1e-14)
    assert (comet.abs_mag, comet.slope) == (8.6, 4.0)
    assert (comet.ra, comet.dec, comet.galactic_lng) == (None, None, None)

    asteroid = run("catalog", "query", "horizons", "433", "--create", "-o", "epoch=2024-10-17", "--json").json()
    assert asteroid["action"] == "created"
    eros = tom.targets.get("Eros")
    assert (eros.name, eros.type, eros.scheme) == ("433 Eros", NON_SIDEREAL, MPC_MINOR_PLANET)
    assert eros.aliases == ["A898 PA", "Eros"]
    assert eros.epoch_of_elements == 60600.0
    assert eros.eccentricity == pytest.approx(0.2228359407071313, rel=1e-14)
    assert eros.perihdist == pytest.approx(1.13319923776417, rel=1e-14)
    assert eros.inclination == pytest.approx(10.82846651399785, rel=1e-14)
    assert eros.lng_asc_node == pytest.approx(304.2701025753316, rel=1e-14)
    assert eros.arg_of_perihelion == pytest.approx(178.9297536744151, rel=1e-14)
    assert eros.epoch_of_perihelion == pytest.approx(60787.158732164, abs=1e-8)
    assert eros.mean_anomaly == pytest.approx(255.2386241578213, rel=1e-14)
    assert eros.mean_daily_motion == pytest.approx(0.5597752949285997, rel=1e-14)
    assert eros.semimajor_axis == pytest.approx(1.458120998474684, rel=1e-14)
    assert eros.ephemeris_period == pytest.approx(643.1151381012624, rel=1e-14)
    assert (eros.abs_mag, eros.slope) == (10.38, 0.46)
    assert tom.targets.count() == 3


def test_the_matcher_decides_for_catalog_targets(tom: Any, run: Any, fakes: dict[str, Any]) -> None:
    run("catalog", "query", "simbad", "M31", "--create")
    out = run("catalog", "query", "simbad", "Andromeda", "--create").stdout
    assert "'M 31' is already in the TOM as 'M 31' (matched by name 'M 31'; position, 0.00\" away)" in out
    fakes["simbad"].objects[0]["pmra"] = 0.07
    data = run("catalog", "query", "simbad", "NGC 224", "--update", "--json").json()
    assert data["action"] == "updated" and data["target"]["pm_ra"] == 0.07
    assert tom.targets.count() == 1


def test_import_names_resolved_in_batches(tom: Any, run: Any, fakes: dict[str, Any], tmp_path: Any) -> None:
    names = ["M31", "Vega", "SN 2011fe", "no such star", "3C 273", "Barnard's Star", "NGC 224"]
    report = tom.catalogs.import_names("simbad", names)
    assert report.not_found == ["no such star"]
    assert sorted(t.name for t in report.save.created) == ["* alf Lyr", "3C 273", "Barnard's Star", "M 31", "SN 2011fe"]
    assert report.counts()["skipped"] == 1  # NGC 224 is M31, met earlier in the batch
    assert len(fakes["simbad"].queries) == 2  # all names in one query, then their distances
    assert tom.targets.get("Vega").parallax == 130.23
    comets = tom.catalogs.import_names("horizons", ["Ceres", "Halley", "90000065;", "Planet Nine"])
    assert comets.not_found == ["Planet Nine"] and [r.term for r in comets.ambiguous] == ["Halley"]
    assert sorted(t.name for t in comets.save.created) == ["1 Ceres", "1P/Halley"]


def test_targets_add_from_and_import_resolve(tom: Any, run: Any, fakes: dict[str, Any], tmp_path: Any) -> None:
    out = run("targets", "add", "--from", "simbad:Barnard's Star", "--list", "nearby").stdout
    assert "Created target \"Barnard's Star\"" in out
    star = tom.targets.get("GJ 699")
    assert star.pm_dec == 10362.394 and star.parallax == 546.9759 and star.lists == ["nearby"]
    names = tmp_path / "names.txt"
    names.write_text("M31\nVega\nnot a star\nSN 2011fe\nGJ 699\n", encoding="utf-8")
    data = run("targets", "import", str(names), "--resolve", "simbad", "--on-duplicate", "skip", "--json").json()
    assert sorted(data["created"]) == ["* alf Lyr", "M 31", "SN 2011fe"]
    assert data["not_found"] == ["not a star"] and data["skipped"] == ["'GJ 699'"]
    assert len(fakes["simbad"].queries) == 4  # add: names + distances; import: names + distances
    comets = tmp_path / "comets.txt"
    comets.write_text("C/2020 F3\nHalley\n433\n", encoding="utf-8")
    out = run("targets", "import", str(comets), "--resolve", "horizons").stdout
    assert "2 found, 0 not found, 1 ambiguous" in out and "Ambiguous 'Halley': 90000030 (epoch -239  1P  Halley)" in out
    assert tom.targets.get("NEOWISE").scheme == "MPC_COMET" and tom.targets.get("Eros").scheme == "MPC_MINOR_PLANET"
