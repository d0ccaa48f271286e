"""`tom data ...`: upload, list, show, reprocess, download, photometry, export, delete,
migrate-storage, types."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tomcore.domain.targets import Target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIGHT_CURVE = EXAMPLES / "sn2024abc-lightcurve.csv"
SPECTRUM = EXAMPLES / "sn2024abc-spectrum.txt"


@pytest.fixture
def target(tom):
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    return tom.targets.create(Target(name="AT 2024xyz", ra=50.0, dec=-20.0))


def test_upload_list_show(tom, run_tom, target, tmp_path):
    result = run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), str(SPECTRUM), "--type", "photometry",
                     expect=1)
    assert "sn2024abc-lightcurve.csv: product 1 (photometry, processed): 27 photometry points" in result.stdout
    assert "sn2024abc-spectrum.txt: stored as product 2 but processing FAILED" in result.stderr
    assert "tom data reprocess 2" in result.stderr
    again = run_tom("data", "upload", "SN 2024abc", str(SPECTRUM), "--type", "spectroscopy", expect=1)
    assert "already stored as product 2, whose processing failed" in again.stderr
    assert "tom data reprocess 2 --as TYPE" in again.stderr
    (tmp_path / "copy.txt").write_bytes(SPECTRUM.read_bytes() + b"\n")
    run_tom("data", "upload", "SN 2024abc", str(tmp_path / "copy.txt"), "--type", "spectroscopy", "--source", "floyds")
    listing = run_tom("data", "list", "--json").json()
    assert [(p["id"], p["data_type"], p["status"]) for p in listing] == [
        (3, "spectroscopy", "processed"), (2, "photometry", "failed"), (1, "photometry", "processed")]
    assert listing[0]["path"] == "SN_2024abc/floyds/copy.txt"
    assert [p["id"] for p in run_tom("data", "list", "--status", "failed", "--json").json()] == [2]
    assert [p["id"] for p in run_tom("data", "list", "--type", "spectroscopy", "--json").json()] == [3]
    assert run_tom("data", "list", "--target", "AT 2024xyz", "--json").json() == []
    table = run_tom("data", "list").stdout
    assert "sn2024abc-lightcurve.csv" in table and "photometry 27" in table
    shown = run_tom("data", "show", "3").stdout
    assert "FLOYDS" in shown and "checksum" in shown and "copy.txt" in shown
    assert run_tom("data", "show", "3", "--json").json()["metadata"]["TELESCOPE"] == "FTN"
    assert "no data product with id 99" in run_tom("data", "show", "99", expect=1).stderr


def test_upload_again_adds_nothing_and_unknown_target_fails(tom, run_tom, target):
    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    again = run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    assert "already stored as product 1; nothing added" in again.stdout
    other = run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "other")
    assert "tom data reprocess 1 --as other" in other.stdout  # stored as photometry: how to change it
    assert "no target named 'nobody'" in run_tom("data", "upload", "nobody", str(LIGHT_CURVE), "--type",
                                                 "photometry", expect=1).stderr
    bad_type = run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "movie", expect=1)
    assert "'movie' is not one of photometry, spectroscopy, image, fits, other" in bad_type.stderr
    no_type = run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), expect=1)
    assert "say what sn2024abc-lightcurve.csv holds with --type" in no_type.stderr
    assert len(tom.data.list()) == 1


def test_reprocess_failed_after_fixing_the_file_type(tom, run_tom, target):
    run_tom("data", "upload", "SN 2024abc", str(SPECTRUM), "--type", "photometry", expect=1)
    result = run_tom("data", "reprocess", "--failed", "--json", expect=1)
    assert result.json()[0]["status"] == "failed"
    done = run_tom("data", "reprocess", "--failed", "--as", "spectroscopy", "--json").json()
    assert [(p["status"], p["reduced"], p["data_type"]) for p in done] == [
        ("processed", {"spectroscopy": 1}, "spectroscopy")]
    assert tom.data.get(done[0]["id"]).data_type == "spectroscopy"
    assert "name product IDS" in run_tom("data", "reprocess", expect=2).stderr


def test_photometry_command(tom, run_tom, target):
    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    points = run_tom("data", "photometry", "SN 2024abc", "--band", "g", "--since", "60405", "--json").json()
    assert [p["mjd"] for p in points][:2] == [60405.098, 60407.101] and {p["band"] for p in points} == {"g"}
    assert points[0]["date"].startswith("2024-04-05T02:21:07")
    rows = list(csv.DictReader(io.StringIO(run_tom("data", "photometry", "SN 2024abc", "--until", "2024-04-02",
                                                   "--csv").stdout)))
    assert [(r["mjd"], r["band"], r["mag"], r["limit"]) for r in rows] == [
        ("60400.112", "g", "", "20.41"), ("60401.105", "g", "19.62", ""), ("60401.158", "r", "19.75", "")]
    assert "60400.11200" in run_tom("data", "photometry", "SN 2024abc").stdout
    assert "is not an MJD" in run_tom("data", "photometry", "SN 2024abc", "--since", "soon", expect=1).stderr


def test_download(tom, run_tom, target, tmp_path):
    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    run_tom("data", "upload", "SN 2024abc", str(SPECTRUM), "--type", "spectroscopy")
    result = run_tom("data", "download", "--type", "spectroscopy", "--to", str(tmp_path / "out"))
    assert "Downloaded 1 files" in result.stdout
    assert (tmp_path / "out" / "SN_2024abc" / "sn2024abc-spectrum.txt").read_bytes() == SPECTRUM.read_bytes()
    run_tom("data", "download", "--to", str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out" / "SN_2024abc").iterdir()) == [
        "sn2024abc-lightcurve.csv", "sn2024abc-spectrum.txt"]
    assert "No data products" in run_tom("data", "download", "--target", "AT 2024xyz", "--to", str(tmp_path)).stdout


def test_delete(tom, run_tom, target):
    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    run_tom("data", "delete", "1", "--yes")
    assert tom.data.list() == [] and tom.data.points("SN 2024abc") == []
    assert not (tom.home / "data" / "SN_2024abc").exists()


def test_export_formats_read_back(tom, run_tom, target, tmp_path):
    from astropy.table import Table

    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    tom.data.add_photometry("AT 2024xyz", {"time": [60500.5], "band": ["r"], "mag": [17.5],
                                           "telescope": ['LCO "1m"']}, source="lco")
    for fmt, reader in (("csv", "ascii.csv"), ("ecsv", "ascii.ecsv"), ("votable", "votable")):
        out = tmp_path / f"all.{fmt}"
        report = run_tom("data", "export", "--format", fmt, "-o", str(out), "--json").json()
        assert report["rows"] == 28
        table = Table.read(out, format=reader)
        assert len(table) == 28 and table.colnames[:4] == ["target", "mjd", "date", "band"]
        assert list(table["target"][:1]) == ["SN 2024abc"] and table["mjd"][0] == 60400.112
        assert table["limit"][0] == 20.41 and table["date"][0] == "2024-03-31T02:41:16.800"
        assert table["telescope"][-1] == 'LCO "1m"' and float(table["mag"][-1]) == 17.5
    tom.data.add_photometry("AT 2024xyz", {"time": [60501.5], "band": ["i"], "limit": [19.25],
                                           "telescope": ["A&B <2m>"]}, source="lco")
    run_tom("data", "export", "--target", "AT 2024xyz", "-o", str(tmp_path / "esc.vot"))
    escaped = Table.read(tmp_path / "esc.vot", format="votable")
    assert list(escaped["band"]) == ["r", "i"] and escaped["telescope"][1] == "A&B <2m>"
    assert escaped["mag"].mask.tolist() == [False, True] and list(escaped["limit"].mask) == [True, False]
    assert escaped["limit"][1] == 19.25 and escaped["mjd"][1] == 60501.5
    ecsv = Table.read(tmp_path / "all.ecsv", format="ascii.ecsv")
    assert str(ecsv["mjd"].unit) == "d" and ecsv.meta["kind"] == "photometry" and ecsv["mag"].mask[0]
    import pyarrow.parquet as pq

    run_tom("data", "export", "--target", "AT 2024xyz", "-o", str(tmp_path / "one.parquet"))
    assert pq.read_table(tmp_path / "one.parquet").to_pylist()[0]["telescope"] == 'LCO "1m"'
    run_tom("data", "export", "--target", "SN 2024abc", "--band", "r", "--since", "60410", "-o",
            str(tmp_path / "r.csv"))
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert {r["band"] for r in rows} == {"r"} and min(float(r["mjd"]) for r in rows) >= 60410
    assert "no target list named 'nope'" in run_tom("data", "export", "--list", "nope", "-o",
                                                    str(tmp_path / "x.csv"), expect=1).stderr
    assert "use one of csv, ecsv, votable, parquet" in run_tom("data", "export", "-o", str(tmp_path / "x.xlsx"),
                                                               expect=1).stderr


def test_export_spectra(tom, run_tom, target, tmp_path):
    run_tom("data", "upload", "SN 2024abc", str(SPECTRUM), "--type", "spectroscopy")
    out = tmp_path / "spectra.csv"
    assert run_tom("data", "export", "--kind", "spectra", "-o", str(out), "--json").json()["rows"] == 1100
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["wavelength"] == "3500" and rows[0]["telescope"] == "FTN" and rows[0]["wavelength_unit"] == "Angstrom"


def test_export_of_a_target_list(tom, run_tom, target, tmp_path):
    from tomcore.store.models import TargetListMemberRow, TargetListRow

    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    tom.data.add_photometry("AT 2024xyz", {"time": [60500.5], "band": ["r"], "mag": [17.5]}, source="lco")
    with tom.db.session() as session:
        row = TargetListRow(name="followup")
        session.add(row)
        session.flush()
        session.add(TargetListMemberRow(list_id=row.id, target_id=target.id))
    run_tom("data", "export", "--list", "followup", "-o", str(tmp_path / "l.csv"))
    assert [r["target"] for r in csv.DictReader((tmp_path / "l.csv").open())] == ["AT 2024xyz"]


@pytest.mark.parametrize("adbc_rows", [0, 10**9], ids=["adbc", "cursor"])
def test_export_streams_in_batches(tom, target, tmp_path, monkeypatch, adbc_rows):
    from tomcore.services import export as export_module

    monkeypatch.setattr(export_module, "BATCH_ROWS", 5)
    monkeypatch.setattr(export_module, "ADBC_ROWS", adbc_rows)
    tom.data.add_photometry("SN 2024abc", {"time": [60000.0 + i for i in range(23)], "band": ["g"] * 23,
                                           "mag": [18.0] * 23}, source="x")
    sizes = [b.num_rows for b in export_module.photometry_batches(tom, None)]
    assert sum(sizes) == 23 and max(sizes) <= 5 and len(sizes) >= 5
    report = export_module.export(tom, tmp_path / "p.csv")
    assert report.rows == 23 and len((tmp_path / "p.csv").read_text().splitlines()) == 24


def test_export_leaves_the_database_whole_for_later_writes(tom, target, tmp_path, monkeypatch):
    """The ADBC SQLite driver has its own copy of SQLite: run in this process, its closing
    deleted the WAL under the TOM's connection, so the export after it read old data, and
    later commits went to a deleted file that other processes never saw."""
    import subprocess
    import sys

    from tomcore.services import export as export_module

    if tom.db.dialect != "sqlite":
        pytest.skip("SQLite only")
    monkeypatch.setattr(export_module, "ADBC_ROWS", 0)  # the bulk path even for a few rows
    for day in range(3):
        tom.data.add_photometry("SN 2024abc", {"time": [60000.0 + day], "band": ["g"], "mag": [18.0]}, source="x")
        assert export_module.export(tom, tmp_path / "p.csv").rows == day + 1
    seen = subprocess.run([sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
                           "'SELECT count(*) FROM photometry').fetchone()[0])", str(tom.db.engine.url.database)],
                          capture_output=True, text=True, check=True).stdout
    assert seen.strip() == "3"


def test_export_reports_a_failing_reader(tom, target, tmp_path, monkeypatch):
    from tomcore.errors import TomError
    from tomcore.services.sqlite_arrow import record_batches

    with pytest.raises(TomError, match="reading the database failed: .*no such table"):
        list(record_batches(str(tmp_path / "empty.db"), "SELECT * FROM missing", [], 10))


def test_migrate_storage_and_resume(tom, run_tom, target, tmp_path, monkeypatch):
    run_tom("data", "upload", "SN 2024abc", str(LIGHT_CURVE), "--type", "photometry")
    run_tom("data", "upload", "SN 2024abc", str(SPECTRUM), "--type", "spectroscopy")
    destination = tmp_path / "elsewhere"
    import tomcore.services.storage as storage_module
    from tomcore.services import storage_migration

    calls = {"n": 0}

    original = storage_module.copy_between

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the user pressed ^C during the second file
        return original(*args, **kwargs)

    monkeypatch.setattr(storage_module, "copy_between", flaky)
    with pytest.raises(KeyboardInterrupt):
        storage_migration.migrate(tom, str(destination))
    moved = {p.id: p.storage for p in tom.data.list()}
    assert sorted(moved.values()) == [str(destination), "data"]
    monkeypatch.setattr(storage_module, "copy_between", original)
    result = run_tom("data", "migrate-storage", "--to", str(destination), "--yes")
    assert "Moved 1 product(s)" in result.stdout and "1 were already there" in result.stdout
    for product in tom.data.list():
        assert product.storage == str(destination) and product.url.startswith(str(destination))
        with tom.data.open(product) as fh:
            assert fh.read() == (LIGHT_CURVE if product.data_type == "photometry" else SPECTRUM).read_bytes()
    assert not list((tom.home / "data").rglob("*.*"))
    assert f'url = "{destination}"' in (tom.home / "tom.toml").read_text()
    from tomcore.config import Settings

    assert Settings.load(tom.home, env={}).get("storage", "url") == str(destination)


def test_migrate_storage_finishes_an_interrupted_move(tom, target, tmp_path):
    from tomcore.services.storage_migration import migrate
    from tomcore.store.models import DataProductRow

    info = tom.data.store("SN 2024abc", b"payload", name="a.bin", data_type="other")
    destination = tom.storage.open(str(tmp_path / "new"))
    destination.write(info.path, b"payload")
    with tom.db.session() as session:  # crashed after re-pointing, before deleting the old file
        row = session.get(DataProductRow, info.id)
        row.storage, row.moved_from = destination.url, json.dumps(["data", info.path])
    report = migrate(tom, str(tmp_path / "new"), update_config=False)
    assert report.cleaned == 1 and report.moved == 0
    assert not tom.storage.open("data").exists(info.path)
    assert tom.data.get(info.id).storage == destination.url


def test_migrate_storage_refuses_a_changed_file(tom, target, tmp_path):
    from tomcore.errors import StorageError
    from tomcore.services.storage_migration import migrate

    info = tom.data.store("SN 2024abc", b"payload", name="a.bin", data_type="other")
    (tom.home / "data" / info.path).write_bytes(b"tampered")
    with pytest.raises(StorageError, match="does not match the recorded checksum"):
        migrate(tom, str(tmp_path / "new"))
    assert tom.data.get(info.id).storage == "data" and not (tmp_path / "new" / info.path).exists()


def test_types(tom, run_tom):
    types = {t["type"]: t for t in run_tom("data", "types", "--json").json()}
    assert list(types)[:5] == ["photometry", "spectroscopy", "image", "fits", "other"]
    assert types["photometry"]["processors"] == ["atlas", "panstarrs", "photometry"] and ".fits" in types["spectroscopy"]["reads"]
