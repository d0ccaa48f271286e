"""`tom targets import` and `export`: TOM Toolkit CSV, ECSV, VOTable; errors; duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tomcore.domain.targets import MPC_COMET, NON_SIDEREAL, Target

TOMTOOLKIT_CSV = """name,name2,name3,type,ra,dec,groups,redshift,classification,observed,discovered
SN 2011fe,PTF11kly,,SIDEREAL,210.774167,54.273611,"nearby,Ia",0.000804,SN Ia,true,2011-08-24T03:00:00
M31,Andromeda,NGC 224,SIDEREAL,00:42:44.3,+41:16:09,nearby,-0.001001,galaxy,false,
C/2020 F3,,,NON_SIDEREAL,,,comets,,comet,,2020-03-27
"""


def write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_tom_toolkit_csv_imports_unchanged(tom, run_tom, tmp_path):
    text = TOMTOOLKIT_CSV.replace("C/2020 F3,,,NON_SIDEREAL,,,comets,,comet,,2020-03-27\n", "")
    result = run_tom("targets", "import", write(tmp_path, text), "--json")
    assert result.json()["counts"]["created"] == 2
    fe = tom.targets.get("PTF11kly")
    assert fe.extras == {"redshift": 0.000804, "classification": "SN Ia", "observed": True,
                         "discovered": datetime(2011, 8, 24, 3, 0, tzinfo=UTC)}
    assert fe.lists == ["Ia", "nearby"]
    m31 = tom.targets.get("NGC 224")
    assert m31.aliases == ["Andromeda", "NGC 224"]
    assert m31.ra == pytest.approx(10.6845833, abs=1e-6) and m31.dec == pytest.approx(41.2691667, abs=1e-6)
    assert "discovered" not in m31.extras


def test_a_tom_toolkit_export_imports_without_its_own_times_as_extras(tom, run_tom, tmp_path):
    """The TOM Toolkit's export writes every model field: created, modified and the derived
    galactic coordinates are the TOM's own, not extras; `permissions` (no such field here)
    is kept as an extra. Both import paths (bulk and general) read the header the same way."""
    text = ("name,type,created,modified,permissions,ra,dec,epoch,galactic_lng,galactic_lat,name2,redshift\n"
            "m13,SIDEREAL,2024-01-02 10:00:00.123456+00:00,2024-01-03 10:00:00+00:00,PRIVATE,250.423475,"
            "36.4613194,2000.0,1.0,2.0,NGC 6205,0.0001\n")
    run_tom("targets", "import", write(tmp_path, text))  # the bulk path
    # a duplicate row inside the file sends it the general way
    again = text.replace("m13", "m5").replace("NGC 6205", "NGC 5904").replace("250.423475", "229.638417")
    run_tom("targets", "import", write(tmp_path, again + "m5 again,SIDEREAL,,,,229.638417,36.4613194,,,,,\n"),
            "--on-duplicate", "skip")
    for name, lng in (("m13", 59.0), ("m5", 58.6)):
        target = tom.targets.get(name)
        assert target.extras == {"permissions": "PRIVATE", "redshift": 0.0001}
        assert target.created.year > 2024 and target.galactic_lng == pytest.approx(lng, abs=0.5)


def test_every_bad_row_is_reported_and_nothing_written(tom, run_tom, tmp_path):
    text = (
        "name,ra,dec,mag:number\n"
        "good,10,20,12\n"
        "baddec,10,95,12\n"
        ",10,20,12\n"
        "nan,nan,20,12\n"
        "badmag,10,20,bright\n"
        "badra,25:61:00,20,1\n"
        "nodec,10,,1\n"
    )
    result = run_tom("targets", "import", write(tmp_path, text), expect=1)
    err = result.stderr
    assert "6 of 7 rows of t.csv cannot be imported; nothing was imported" in err
    assert "line 3, column dec: Dec 95 is outside [-90, 90]" in err
    assert "line 4, column name: is empty" in err
    assert "line 5, column ra: RA is NaN" in err
    assert "line 6, column mag:number: 'bright' is not a number" in err
    assert "line 7, column ra:" in err and "60 or more" in err
    assert "line 8, column dec: is required for a sidereal target" in err
    lines = [int(line.split()[1].rstrip(",:")) for line in err.splitlines() if line.startswith("  line ")]
    assert lines == [3, 4, 5, 6, 7, 8]  # in file order, whichever check found the problem
    assert tom.targets.count() == 0
    ok = run_tom("targets", "import", write(tmp_path, text), "--skip-invalid")
    assert "1 created" in ok.stdout and "6 bad rows" in ok.stdout
    assert tom.targets.count() == 1


def test_multiline_cells_keep_line_numbers(tom, run_tom, tmp_path):
    text = 'name,ra,dec,note\nA,1,2,"two\nlines"\nB,1,95,x\n'
    err = run_tom("targets", "import", write(tmp_path, text), expect=1).stderr
    assert "line 4, column dec" in err


def test_duplicates_in_file_and_against_existing(tom, run_tom, tmp_path):
    tom.targets.save([Target(name="SN 2023ixf", ra=210.910750, dec=54.311694)])
    text = ("name,ra,dec,mag\n"
            "AT2023ixf,210.910750,54.311694,11\n"  # existing (name and position)
            "X1,100.0,-30.0,15\n"
            "X1 again,100.0001,-30.0,14\n"  # 0.3" from the row above
            "x-1,200.0,10.0,13\n")  # same normalised name as X1
    err = run_tom("targets", "import", write(tmp_path, text), expect=1).stderr
    assert "line 2: matches existing target 'SN 2023ixf'" in err
    assert "line 4: duplicates line 3 of the same batch" in err
    assert "line 5: duplicates line 3 of the same batch" in err
    skipped = run_tom("targets", "import", write(tmp_path, text), "--on-duplicate", "skip", "--json").json()["counts"]
    assert (skipped["created"], skipped["skipped"]) == (1, 3)
    tom2_text = text.replace("X1", "Y1").replace("x-1", "y-1").replace("100.0", "101.0")
    updated = run_tom("targets", "import", write(tmp_path, tom2_text, "u.csv"), "--on-duplicate", "update", "--json").json()
    assert updated["counts"]["updated"] == 1 and updated["counts"]["created"] == 1 and updated["counts"]["merged"] == 2
    assert tom.targets.get("SN 2023ixf").extras == {"mag": 11}
    y1 = tom.targets.get("Y1")
    assert sorted(y1.aliases) == ["Y1 again", "y-1"]


def test_hook_once_per_import(tom, tom_plugin, run_tom, tmp_path):
    from tomcore import hookimpl

    calls = []

    class Listener:
        @hookimpl
        def on_targets_created(self, tom, targets):
            calls.append(len(targets))

    tom_plugin(Listener(), "listener")
    rows = "".join(f"T{i},{i * 0.01},{-i * 0.001}\n" for i in range(3000))
    run_tom("targets", "import", write(tmp_path, "name,ra,dec\n" + rows))
    assert calls == [3000]


def test_csv_export_round_trips_losslessly(tom, run_tom, tmp_path, tom_factory):
    tom.targets.save([
        Target(name="SN 2011fe", ra=210.77416666666667, dec=54.27361111111111, pm_ra=0.1, aliases=["PTF11kly", "SN2011fe"],
               extras={"redshift": 0.000804, "code": "007", "flag": True, "when": datetime(2011, 8, 24, 3, 0, 0, 123456, tzinfo=UTC),
                       "count": 12345678901234567, "note": "a, \"quoted\" note"}, lists=["nearby", "Ia"]),
        Target(name="C/2020 F3 (NEOWISE)", type=NON_SIDEREAL, scheme=MPC_COMET, epoch_of_elements=59000.0,
               inclination=128.9375, lng_asc_node=61.01042, arg_of_perihelion=37.2786, eccentricity=0.999172,
               perihdist=0.2946, epoch_of_perihelion=59034.6775, extras={"code": "12"}),
        Target(name="plain", ra=0.0, dec=-90.0),
    ])
    out = tmp_path / "all.csv"
    run_tom("targets", "export", "-o", str(out))
    header = out.read_text().splitlines()[0]
    assert "code:string" in header and "redshift" in header and "galactic_lng" in header
    other = tom_factory("other")
    from tomcore.services.target_io import import_file

    import_file(other, out)
    for name in ("SN 2011fe", "C/2020 F3 (NEOWISE)", "plain"):
        a, b = tom.targets.get(name), other.targets.get(name)
        assert (a.name, a.type, a.aliases, a.extras, a.lists) == (b.name, b.type, b.aliases, b.extras, b.lists)
        assert a.fields() == b.fields()


@pytest.mark.parametrize("suffix", [".ecsv", ".xml"])
def test_ecsv_and_votable_round_trip(tom, run_tom, tmp_path, tom_factory, suffix):
    tom.targets.save([
        Target(name="A", ra=1.5, dec=-2.25, parallax=3.0, aliases=["a1", "a2"], extras={"mag": 12.5, "n": 3, "cls": "SN Ia",
               "ok": True, "t": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)}, lists=["L1"]),
        Target(name="B", ra=359.0, dec=89.0, extras={"mag": 13.0}),
    ])
    out = tmp_path / f"all{suffix}"
    run_tom("targets", "export", "-o", str(out))
    other = tom_factory("other")
    from tomcore.services.target_io import import_file

    report = import_file(other, out)
    assert report.counts()["created"] == 2
    a = other.targets.get("A")
    assert a.aliases == ["a1", "a2"] and a.lists == ["L1"] and a.parallax == 3.0
    assert a.extras == {"mag": 12.5, "n": 3, "cls": "SN Ia", "ok": True, "t": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)}
    assert other.targets.get("B").extras == {"mag": 13.0}


def test_export_with_filters_and_formats(tom, run_tom, tmp_path):
    tom.targets.save([Target(name=f"T{i}", ra=float(i), dec=0.0, extras={"z": i / 10}) for i in range(10)])
    out = tmp_path / "some.csv"
    assert "Wrote 3 targets" in run_tom("targets", "export", "--extra", "z>=0.7", "-o", str(out)).stdout
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == ["T7", "T8", "T9"]
    assert "cannot tell the format" in run_tom("targets", "export", "-o", str(tmp_path / "x.pdf"), expect=1).stderr


def test_import_list_option_and_missing_name_column(tom, run_tom, tmp_path):
    run_tom("targets", "import", write(tmp_path, "name,ra,dec\nA,1,1\n"), "--list", "batch1")
    assert tom.targets.get("A").lists == ["batch1"]
    err = run_tom("targets", "import", write(tmp_path, "id,ra,dec\n1,1,1\n", "n.csv"), expect=1).stderr
    assert "there is no 'name' column" in err


def test_example_targets_import_list_cone_and_export(tom, run_tom, tmp_path, tom_factory):
    """examples/targets.csv: several hundred real objects import, list, cone-search and
    export (and the export imports back the same)."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "targets.csv"
    counts = run_tom("targets", "import", str(example), "--json").json()["counts"]
    assert counts["created"] == counts["rows"] >= 500 and counts["error"] == 0
    lists = {x["name"]: x["count"] for x in run_tom("lists", "list", "--json").json()}
    assert lists["messier"] >= 100 and lists["comets"] == 3 and lists["asteroids"] > 50 and lists["tde"] > 50
    around_m101 = names_of(run_tom("targets", "list", "--cone", "14:03", "+54:18", "0.3", "--json"))
    assert {"M101", "SN 2011fe", "SN 2023ixf"} <= set(around_m101)
    sirius = tom.targets.get("HIP 32349")
    assert sirius.name == "Sirius" and sirius.parallax == pytest.approx(379.21, abs=0.01) and sirius.epoch == 1991.25
    halley = tom.targets.get("Halley's Comet")
    assert halley.scheme == MPC_COMET and halley.eccentricity == pytest.approx(0.9671429, abs=1e-6)
    assert tom.targets.get("ZTF19abzrhgq").name == "AT 2019qiz"
    out = tmp_path / "all.csv"
    run_tom("targets", "export", "-o", str(out))
    other = tom_factory("other")
    from tomcore.services.target_io import import_file

    import_file(other, out)
    for name in ("Sirius", "1P/Halley", "AT 2019qiz", "M31", "(4) Vesta"):
        a, b = tom.targets.get(name), other.targets.get(name)
        assert (a.fields(), a.aliases, a.extras, a.lists) == (b.fields(), b.aliases, b.extras, b.lists)


def names_of(result):
    return [t["name"] for t in result.json()]
