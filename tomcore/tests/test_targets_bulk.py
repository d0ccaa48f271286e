"""The bulk path of CSV imports (tomcore.services.target_bulk) writes exactly what the
general path writes, and hands every file it cannot take to the general path."""

from __future__ import annotations

import pytest

from tomcore.domain.targets import Target
from tomcore.services import target_bulk, target_io

CLEAN_FILES = {
    "tom toolkit": (
        "name,name2,name3,type,ra,dec,groups,redshift,classification,observed,discovered\n"
        'SN 2011fe,PTF11kly,,SIDEREAL,210.774167,54.273611,"nearby,Ia",0.000804,SN Ia,true,2011-08-24T03:00:00\n'
        "M31,Andromeda,NGC 224,SIDEREAL,00:42:44.3,+41:16:09,nearby,-0.001001,galaxy,false,\n"
        "M 101,M101,M101,,14:03:12.5,+54:20:56,,0.000804,galaxy,,2011-08-24\n"
    ),
    "typed extras and odd cells": (
        "\ufeffname,ra,dec,pm_ra,code:string,n:number,big,mixed,when,note\n"
        "A , 370.5 ,-10, 1.5e1 ,007,12,123456789012345678901234567890,1,2024-05-01 12:00,\"x, y\"\n"
        "B,0,90,,12,1.25,-3,two,2024-05-01T12:00:00+02:00,\"two\nlines\"\n"
        "C,359.9999999,-90,-0.0,abc,-0.5,+4,3.5,2024,  padded  \n"
        "Ωmega,123.456,-45.5,,,,,true,,١٢\n"
    ),
    "crlf and blank lines": "name,ra,dec,mag\r\nX1,10,10,15.5\r\n\r\nX2,20,20,16\r\n",
    "no aliases, only required": "name,ra,dec\n" + "".join(f"T{i},{i * 0.7 % 360},{(i * 0.07) % 170 - 85:.4f}\n" for i in range(2500)),
}


def dump(tom):
    """Everything an import writes, without ids and times."""
    from tomcore.services.target_write import driver_rows

    with tom.db.session(readonly=True) as s:
        ids = [r[0] for r in driver_rows(s, "SELECT id FROM targets ORDER BY name")]
        targets = tom.targets.load(s, ids)
        names = sorted(driver_rows(s, "SELECT t.name, n.name, n.norm, n.is_primary, n.source FROM target_names n "
                                      "JOIN targets t ON t.id = n.target_id"))
        extras = sorted(driver_rows(s, "SELECT t.name, e.key, e.value_type, e.value_text, e.value_num, e.value_bool, "
                                       "e.value_time FROM target_extras e JOIN targets t ON t.id = e.target_id"),
                        key=repr)
        sky = sorted(driver_rows(s, "SELECT name, hpx, cx, cy, cz, galactic_lng, galactic_lat FROM targets"))
    plain = [(t.name, {k: v for k, v in t.fields().items()}, t.aliases, sorted(t.extras.items(), key=repr), t.lists)
             for t in targets.values()]
    return plain, names, extras, sky


def import_both(tom_factory, tmp_path, text, monkeypatch, **options):
    """Import ``text`` through the bulk path (must take it) and the general path."""
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    bulk, general = tom_factory("bulk"), tom_factory("general")
    taken = []
    real = target_bulk.import_columns

    def spy(*args, **kwargs):
        report = real(*args, **kwargs)
        taken.append(report is not None)
        return report

    monkeypatch.setattr(target_bulk, "import_columns", spy)
    fast = target_io.import_file(bulk, path, **options)
    monkeypatch.setattr(target_io, "_bulk_columns", lambda path, fmt: None)
    slow = target_io.import_file(general, path, **options)
    return bulk, general, fast, slow, taken


@pytest.mark.parametrize("name", sorted(CLEAN_FILES))
def test_bulk_path_writes_what_the_general_path_writes(tom_factory, tmp_path, monkeypatch, name):
    bulk, general, fast, slow, taken = import_both(tom_factory, tmp_path, CLEAN_FILES[name], monkeypatch,
                                                   lists=["imported"])
    assert taken == [True]
    assert fast.counts() == slow.counts()
    assert dump(bulk) == dump(general)
    created = fast.save.created
    assert len(created) == len(slow.save.created)
    for got, expected in zip(created, slow.save.created, strict=True):
        assert got.name == expected.name and got.aliases == expected.aliases and got.extras == expected.extras
        assert sorted(got.lists) == sorted(expected.lists) and got.ra == expected.ra
        stored = bulk.targets.get_by_id(got.id)
        got.lists.sort()
        assert got == stored  # the event's targets are the targets as committed


@pytest.mark.parametrize("text, why", [
    ("name,ra,dec\nA,10,10\nB,10.0001,10\n", "positions within the radius"),
    ("name,ra,dec\nA,10,10\na,20,10\n", "names equal once normalised"),
    ("name,name2,ra,dec\nA,X,10,10\nB,x,20,10\n", "an alias repeating another row's"),
    ("name,ra,dec\nA,10,10\nB,10,95\n", "a bad cell"),
    ("name,ra,dec,type\nA,10,10,NON_SIDEREAL\n", "a non-sidereal row"),
    ("name,ra,dec\nA,10,10\nB,20\n", "a short row"),
])
def test_files_the_bulk_path_refuses_go_the_general_way(tom_factory, tmp_path, monkeypatch, text, why):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    columns = target_bulk.read_csv_columns(path)
    tom = tom_factory()
    if columns is not None:
        with tom.db.session() as s:
            assert not target_bulk.all_new(tom, s, columns), why
    fast = tom_factory("a")
    slow = tom_factory("b")
    outcome = []
    for which, t in (("fast", fast), ("slow", slow)):
        if which == "slow":
            monkeypatch.setattr(target_io, "_bulk_columns", lambda path, fmt: None)
        try:
            outcome.append(target_io.import_file(t, path, on_duplicate="skip", skip_invalid=True).counts())
        except Exception as exc:  # the same error both ways
            outcome.append(str(exc))
    assert outcome[0] == outcome[1]
    assert dump(fast) == dump(slow)


def test_existing_targets_are_matched_not_duplicated(tom_factory, tmp_path, monkeypatch):
    text = "name,name2,ra,dec,mag\nSN 2023ixf,ZTF23x,210.91075,54.311694,11\nNEW,,100,-30,15\n"
    results = []
    for which in ("fast", "slow"):
        tom = tom_factory(which)
        tom.targets.save([Target(name="AT2023ixf", ra=210.91075, dec=54.311694)])
        if which == "slow":
            monkeypatch.setattr(target_io, "_bulk_columns", lambda path, fmt: None)
        path = tmp_path / "t.csv"
        path.write_text(text, encoding="utf-8")
        results.append((target_io.import_file(tom, path, on_duplicate="update").counts(), dump(tom)))
    assert results[0] == results[1]
    assert results[0][0]["updated"] == 1 and results[0][0]["created"] == 1


def test_hook_gets_the_created_targets_once_as_a_sequence(tom, tom_plugin, tmp_path):
    from tomcore import hookimpl

    seen = []

    class Listener:
        @hookimpl
        def on_targets_created(self, tom, targets):
            seen.append((len(targets), targets[0], targets[-1], [t.name for t in targets][:3], list(targets[1:3])))

    tom_plugin(Listener(), "listener")
    path = tmp_path / "t.csv"
    path.write_text("name,name2,ra,dec,kind\n" + "".join(f"T{i},Z{i},{i * 0.01},{-i * 0.001},x\n" for i in range(3000)))
    report = target_io.import_file(tom, path, lists=["L"])
    assert report.counts()["created"] == 3000 and report.save.counts()["created"] == 3000
    (count, first, last, names, middle), = seen
    assert count == 3000 and names == ["T0", "T1", "T2"] and [t.name for t in middle] == ["T1", "T2"]
    assert first == tom.targets.get("T0") and last == tom.targets.get("Z2999")
    assert first.lists == ["L"] and first.aliases == ["Z0"] and first.extras == {"kind": "x"}
    outcomes = report.save.outcomes
    assert len(outcomes) == 3000 and outcomes[5].action == "created" and outcomes[5].label == "line 7"
    assert outcomes[5].target.name == "T5"


def test_normalise_column_is_normalise_name():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from tomcore.domain.targets import normalise_name

    ascii_names = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=12)
    any_names = st.text(max_size=12)
    fixed = ["SN 2024abc", "AT2024ABC", "2024abc", "sn", "SNa", "at 1", "(SN)-2024_x", "\x1cZ\x1f", "  ", "ZTF24aaa",
             "Sn9", "snsn2024"]

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(ascii_names, any_names), max_size=20))
    def check(names):
        names = [n for n in names if n]
        for batch in (names, [n for n in names if n.isascii()], fixed):
            assert target_bulk.normalise_column(batch) == [normalise_name(n) for n in batch]

    check()


def _indexes(tom):
    from tomcore.services.target_write import driver_rows

    with tom.db.session(readonly=True) as s:
        if tom.db.dialect == "sqlite":
            return sorted(driver_rows(s, "SELECT name, sql FROM sqlite_master WHERE type = 'index'"), key=repr)
        return sorted(driver_rows(s, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))


def test_a_big_first_import_leaves_the_schema_as_it_was(tom, tmp_path, monkeypatch):
    before = _indexes(tom)
    rows = "".join(f"T{i},A{i},{(i * 0.0131) % 360:.5f},{(i * 0.0071) % 170 - 85:.5f},{i % 7}\n" for i in range(12000))
    path = tmp_path / "t.csv"
    path.write_text("name,name2,ra,dec,k\n" + rows)
    # a failure after the indexes were set aside: nothing written, the indexes back
    monkeypatch.setattr(target_bulk, "_tails", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        target_io.import_file(tom, path)
    monkeypatch.undo()
    assert tom.targets.count() == 0 and _indexes(tom) == before
    assert target_io.import_file(tom, path).counts()["created"] == 12000
    assert _indexes(tom) == before
    from tomcore.services.target_query import TargetQuery, find

    assert tom.targets.get("a 11999").name == "T11999"  # the normalised-name index
    t5 = tom.targets.get("T5")
    assert [t.name for t in find(tom, TargetQuery(cone=(t5.ra, t5.dec, 1e-4))).targets] == ["T5"]
    found = find(tom, TargetQuery.build(extras=["k>5"], sort=["name"], limit=2)).targets
    assert [t.name for t in found] == ["T1000", "T10002"] and found[0].extras == {"k": 6}


def test_rows_sent_to_the_general_path_keep_their_line_numbers(tom, tmp_path):
    tom.targets.save([Target(name="Known", ra=50.0, dec=5.0)])
    path = tmp_path / "t.csv"
    path.write_bytes(b"name,ra,dec\r\nA,10,10\r\n\r\nKnown,50,5\r\nB,20,20\r\n")
    columns = target_bulk.read_csv_columns(path)
    assert columns is not None and columns.lines() == ["line 2", "line 4", "line 5"]
    with pytest.raises(Exception, match="line 4: matches existing target 'Known'"):
        target_io.import_file(tom, path)
    path.write_bytes(b'name,ra,dec,note\nA,10,10,"two\nlines"\nKnown,50,5,x\n')
    assert target_bulk.read_csv_columns(path).lines() is None  # the general path reads it again
    with pytest.raises(Exception, match="line 4: matches existing target 'Known'"):
        target_io.import_file(tom, path)


def test_a_zero_radius_still_finds_rows_at_the_same_place(tom_factory, tmp_path, monkeypatch):
    tom = tom_factory("z")
    monkeypatch.setattr(type(tom.matcher), "radius_arcsec", property(lambda self: 0.0))
    path = tmp_path / "t.csv"
    path.write_text("name,ra,dec\nA,10,10\nB,10,10\n")
    columns = target_bulk.read_csv_columns(path)
    with tom.db.session() as s:
        assert not target_bulk.all_new(tom, s, columns)
