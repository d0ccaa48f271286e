"""`tom targets add|list|show|edit|delete|alias` through the CLI."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from tomcore.domain.targets import Target
from tomcore.services.target_io import write_csv


def add_some(tom):
    tom.targets.save([
        Target(name="SN 2011fe", ra=210.774167, dec=54.273611, aliases=["PTF11kly"],
               extras={"redshift": 0.000804, "classification": "SN Ia", "peak": date(2011, 9, 10)}, lists=["nearby"]),
        Target(name="SN 2023ixf", ra=210.910750, dec=54.311694, aliases=["ZTF23aaklqou"],
               extras={"redshift": 0.000804 * 1.001, "classification": "SN II", "peak": date(2023, 5, 25)}),
        Target(name="AT 2018cow", ra=244.000917, dec=22.268031, extras={"redshift": 0.0141, "classification": "FBOT"}),
        Target(name="Polaris", ra=37.954561, dec=89.264109, extras={"vmag": 1.98}),
        Target(name="near-pole", ra=217.95, dec=89.5),
        Target(name="wrap-a", ra=359.99, dec=-5.0),
        Target(name="wrap-b", ra=0.01, dec=-5.0),
    ])


def names(result):
    return [t["name"] for t in result.json()]


def test_add_sidereal_sexagesimal_and_show(tom, run_tom):
    run_tom("targets", "add", "SN 2011fe", "--ra", "14:03:05.80", "--dec", "+54:16:25.0", "--alias", "PTF11kly",
            "--extra", "redshift=0.000804", "--extra", "code:string=007", "--list", "nearby", "--pm-ra", "0")
    shown = run_tom("targets", "show", "ptf 11kly", "--json").json()
    assert shown["ra"] == pytest.approx(210.7741667, abs=1e-6) and shown["dec"] == pytest.approx(54.2736111, abs=1e-6)
    assert shown["extras"] == {"code": "007", "redshift": 0.000804}
    assert shown["lists"] == ["nearby"] and shown["aliases"] == ["PTF11kly"] and shown["pm_ra"] == 0
    text = run_tom("targets", "show", "SN 2011fe").stdout
    assert "14:03:05.80" in text and "+54:16:25.0" in text and "PTF11kly" in text


def test_add_non_sidereal_needs_its_scheme_fields(tom, run_tom):
    bad = run_tom("targets", "add", "Ceres", "--scheme", "MPC_MINOR_PLANET", "--epoch-of-elements", "60600",
                  "--inclination", "10.6", "--lng-asc-node", "80.3", "--arg-of-perihelion", "73.4",
                  "--eccentricity", "0.0789", expect=1)
    assert "mean_anomaly: is required for scheme MPC_MINOR_PLANET" in bad.stderr
    assert "semimajor_axis" in bad.stderr
    run_tom("targets", "add", "Ceres", "--scheme", "MPC_MINOR_PLANET", "--epoch-of-elements", "60600",
            "--inclination", "10.6", "--lng-asc-node", "80.3", "--arg-of-perihelion", "73.4", "--eccentricity", "0.0789",
            "--mean-anomaly", "60.1", "--semimajor-axis", "2.767")
    got = tom.targets.get("Ceres")
    assert got.type == "NON_SIDEREAL" and got.semimajor_axis == 2.767 and got.ra is None


@pytest.mark.parametrize(("args", "message"), [
    (("--ra", "10", "--dec", "95"), "Dec 95 is outside [-90, 90]"),
    (("--ra", "nan", "--dec", "1"), "RA is NaN"),
    (("--ra", "25:00:00", "--dec", "1"), "24 hours or more"),
    (("--ra", "10"), "dec: is required"),
])
def test_add_refuses_bad_coordinates(run_tom, args, message):
    result = run_tom("targets", "add", "X", *args, expect=1)
    assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 3


def test_add_wraps_ra(tom, run_tom):
    run_tom("targets", "add", "W", "--ra", "-10", "--dec", "0")
    assert tom.targets.get("W").ra == pytest.approx(350.0)


def test_add_duplicate_refused_then_updated(tom, run_tom):
    add_some(tom)
    refused = run_tom("targets", "add", "AT2011fe", "--ra", "1", "--dec", "1", expect=1)
    assert "matches existing target 'SN 2011fe'" in refused.stderr
    run_tom("targets", "add", "AT2011fe", "--ra", "210.774167", "--dec", "54.273611", "--on-duplicate", "update")
    assert "AT2011fe" in tom.targets.get("SN 2011fe").aliases


def test_list_filters(tom, run_tom):
    add_some(tom)
    assert names(run_tom("targets", "list", "--name", "2011", "--json")) == ["SN 2011fe"]
    assert names(run_tom("targets", "list", "--name", "ztf23", "--json")) == ["SN 2023ixf"]
    assert names(run_tom("targets", "list", "--name", "AT2023ixf", "--json")) == ["SN 2023ixf"]
    assert names(run_tom("targets", "list", "--cone", "210.8", "54.3", "0.2", "--json")) == ["SN 2011fe", "SN 2023ixf"]
    near = run_tom("targets", "list", "--near", "SN 2011fe", "600", "--json").json()
    assert [t["name"] for t in near] == ["SN 2011fe", "SN 2023ixf"]
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    expected = SkyCoord(210.774167 * u.deg, 54.273611 * u.deg).separation(SkyCoord(210.910750 * u.deg, 54.311694 * u.deg))
    assert near[1]["separation_arcsec"] == pytest.approx(expected.arcsec, abs=1e-6)
    # cones across the pole and across RA 0/360
    assert names(run_tom("targets", "list", "--cone", "180", "90", "1.0", "--json")) == ["near-pole", "Polaris"]
    assert sorted(names(run_tom("targets", "list", "--cone", "0", "-5", "0.1", "--json"))) == ["wrap-a", "wrap-b"]
    assert names(run_tom("targets", "list", "--extra", "redshift>0.01", "--json")) == ["AT 2018cow"]
    assert names(run_tom("targets", "list", "--extra", "redshift<=0.000805", "--sort", "-redshift", "--json")) == \
        ["SN 2023ixf", "SN 2011fe"]
    assert names(run_tom("targets", "list", "--extra", "classification!=SN Ia", "--json")) == ["AT 2018cow", "SN 2023ixf"]
    assert names(run_tom("targets", "list", "--extra", "peak>=2020-01-01", "--json")) == ["SN 2023ixf"]
    assert names(run_tom("targets", "list", "--extra", "vmag", "--json")) == ["Polaris"]
    assert names(run_tom("targets", "list", "--extra", "classification~sn i", "--json")) == ["SN 2011fe", "SN 2023ixf"]
    assert names(run_tom("targets", "list", "--extra", "classification ~ fBoT", "--json")) == ["AT 2018cow"]
    assert names(run_tom("targets", "list", "--extra", "redshift~0.014", "--json")) == ["AT 2018cow"]  # a number's text
    assert names(run_tom("targets", "list", "--extra", "classification~%", "--json")) == []  # LIKE marks are literal
    assert "give the text" in run_tom("targets", "list", "--extra", "classification~", expect=1).stderr
    assert names(run_tom("targets", "list", "--list", "nearby", "--json")) == ["SN 2011fe"]
    assert names(run_tom("targets", "list", "--type", "non-sidereal", "--json")) == []
    assert len(names(run_tom("targets", "list", "--created-since", "1h", "--json"))) == 7
    assert names(run_tom("targets", "list", "--created-since", "2999-01-01", "--json")) == []
    assert names(run_tom("targets", "list", "--sort", "redshift", "--limit", "3", "--json")) == \
        ["SN 2011fe", "SN 2023ixf", "AT 2018cow"]
    assert names(run_tom("targets", "list", "--sort", "-dec", "--limit", "2", "--json")) == ["near-pole", "Polaris"]


def test_list_extra_numbers_sort_as_numbers(tom, run_tom):
    tom.targets.save([Target(name=f"T{v}", ra=float(v), dec=0.0, extras={"n": v}) for v in (9, 10, 100, 2)])
    assert names(run_tom("targets", "list", "--sort", "n", "--json")) == ["T2", "T9", "T10", "T100"]
    assert names(run_tom("targets", "list", "--extra", "n>9", "--json")) == ["T10", "T100"]


def test_list_table_csv_and_limit_note(tom, run_tom):
    add_some(tom)
    table = run_tom("targets", "list", "--limit", "2").stdout
    assert "2 of 7 targets shown" in table
    csv_out = run_tom("targets", "list", "--name", "2011fe", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("name,type,ra,dec") and csv_out[1].startswith("SN 2011fe,SIDEREAL,210.774167,54.273611")


def test_list_bad_filters_are_one_line_errors(tom, run_tom):
    assert "op one of" in run_tom("targets", "list", "--extra", "=5", expect=1).stderr
    assert "one operator only" in run_tom("targets", "list", "--extra", "redshift<<0.1", expect=1).stderr
    assert "no target named" in run_tom("targets", "list", "--near", "nothing", "10", expect=1).stderr
    assert "duration" in run_tom("targets", "list", "--created-since", "yesterday", expect=1).stderr
    assert "no target list" in run_tom("targets", "list", "--list", "nope", expect=1).stderr


def test_edit_rename_fields_extras(tom, run_tom):
    add_some(tom)
    run_tom("targets", "edit", "SN 2011fe", "--name", "SN2011fe", "--keep-old-name", "--parallax", "0.15",
            "--extra", "redshift=0.0009", "--remove-extra", "peak")
    got = tom.targets.get("SN2011fe")
    assert got.name == "SN2011fe" and set(got.aliases) == {"PTF11kly", "SN 2011fe"}
    assert got.parallax == 0.15 and got.extras == {"redshift": 0.0009, "classification": "SN Ia"}
    run_tom("targets", "edit", "SN2011fe", "--ra", "10", "--dec", "-10", "--unset", "parallax")
    got = tom.targets.get("PTF11kly")
    assert (got.ra, got.dec, got.parallax) == (10.0, -10.0, None)
    assert names(run_tom("targets", "list", "--cone", "10", "-10", "0.001", "--json")) == ["SN2011fe"]
    assert "already the name of target" in run_tom("targets", "edit", "SN2011fe", "--name", "AT 2023ixf", expect=1).stderr


def test_alias_add_remove(tom, run_tom):
    add_some(tom)
    run_tom("targets", "alias", "add", "Polaris", "alf UMi", "HIP 11767")
    assert tom.targets.get("hip11767").name == "Polaris"
    clash = run_tom("targets", "alias", "add", "Polaris", "ptf11kly", expect=1)
    assert "alias ('PTF11kly') of target 'SN 2011fe'" in clash.stderr
    run_tom("targets", "alias", "remove", "Polaris", "alf UMi")
    assert tom.targets.get("Polaris").aliases == ["HIP 11767"]
    assert "has no alias" in run_tom("targets", "alias", "remove", "Polaris", "zzz", expect=1).stderr


def test_delete_asks_and_removes(tom, run_tom):
    add_some(tom)
    assert "Refusing without --yes" in run_tom("targets", "delete", "Polaris", expect=2).stderr
    run_tom("targets", "delete", "Polaris", "ztf23aaklqou", "--yes")
    assert tom.targets.count() == 5
    assert "no target named" in run_tom("targets", "show", "Polaris", expect=1).stderr


def test_show_unknown_suggests(tom, run_tom):
    add_some(tom)
    assert "did you mean SN 2011fe" in run_tom("targets", "show", "2011f", expect=1).stderr


def test_list_extra_booleans(tom, run_tom):
    tom.targets.save([Target(name="Flagged", ra=1.0, dec=0.0, extras={"followup": True}),
                      Target(name="Unflagged", ra=2.0, dec=0.0, extras={"followup": False}),
                      Target(name="Plain", ra=3.0, dec=0.0)])
    assert names(run_tom("targets", "list", "--extra", "followup=true", "--json")) == ["Flagged"]
    assert names(run_tom("targets", "list", "--extra", "followup!=true", "--json")) == ["Unflagged"]
    assert names(run_tom("targets", "list", "--extra", "followup=false", "--json")) == ["Unflagged"]
    assert "booleans compare only" in run_tom("targets", "list", "--extra", "followup<true", expect=1).stderr


def test_list_json_and_csv_stream_in_chunks_without_loading_every_target(tom, run_tom, monkeypatch, tmp_path):
    """`list --json`/`--csv` and `export` read the targets a chunk at a time (here 3), never
    all at once through `find`, and print exactly what one whole list would give."""
    from tomcore.cli.output import to_jsonable
    from tomcore.services import target_query

    add_some(tom)
    tom.targets.save([Target(name=f"T{i}", ra=210.8 + i / 1000, dec=54.3, aliases=[f"alias-{i}"] * (i == 7),
                             extras={"n": i}, lists=["many"] * (i % 2)) for i in range(11)])
    whole = target_query.find(tom, target_query.TargetQuery.build(sort=["-n", "name"]))
    cone = target_query.find(tom, target_query.TargetQuery.build(cone=("210.8", "54.3", "0.5")))
    loaded: list[int] = []
    real_load = type(tom.targets).load

    def load(self, session, ids):
        ids = list(ids)
        loaded.append(len(ids))
        return real_load(self, session, ids)

    def no_find(*args, **kwargs):
        raise AssertionError("a streamed listing must not load every target at once")

    monkeypatch.setattr(target_query, "STREAM_CHUNK", 3)
    monkeypatch.setattr(type(tom.targets), "load", load)
    monkeypatch.setattr(target_query, "find", no_find)

    listed = run_tom("targets", "list", "--sort", "-n,name", "--json")
    assert listed.stdout == json.dumps([to_jsonable(t) for t in whole.targets], indent=2, ensure_ascii=False) + "\n"
    assert len(listed.json()) == 18
    assert max(loaded) == 3 and len(loaded) == 6
    near = run_tom("targets", "list", "--cone", "210.8", "54.3", "0.5", "--json").json()
    assert [t["name"] for t in near] == [t.name for t in cone.targets] and len(near) == 13
    assert [t["separation_arcsec"] for t in near] == pytest.approx([cone.separations[t.id] for t in cone.targets])
    assert run_tom("targets", "list", "--name", "nothing-like-it", "--json").json() == []
    assert run_tom("targets", "list", "--limit", "4", "--sort", "name", "--json").json() == \
        [to_jsonable(t) for t in sorted(whole.targets, key=lambda t: (t.name, t.id))][:4]

    buffer = io.StringIO()
    write_csv(whole.targets, buffer)
    loaded.clear()
    assert run_tom("targets", "list", "--sort", "-n,name", "--csv").stdout == buffer.getvalue()
    assert loaded == [3] * 12  # two passes (columns, then rows), a chunk at a time
    run_tom("targets", "export", "--sort", "-n,name", "-o", str(tmp_path / "all.csv"))
    assert (tmp_path / "all.csv").read_text() == buffer.getvalue()
    assert not list(tmp_path.glob("*.partial"))
