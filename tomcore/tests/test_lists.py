"""`tom lists create|show|add|remove|delete|list`, by names and by filters."""

from __future__ import annotations

from tomcore.domain.targets import Target


def fill(tom):
    tom.targets.save([Target(name=f"T{i}", ra=float(i), dec=0.0, aliases=[f"alias{i}"], extras={"z": i / 100})
                      for i in range(20)])


def test_lists_by_names_and_filters(tom, run_tom):
    fill(tom)
    run_tom("lists", "create", "tonight", "--description", "bright ones")
    assert "already" in run_tom("lists", "create", "tonight", expect=1).stderr or "exists" in \
        run_tom("lists", "create", "tonight", expect=1).stderr
    assert "Added 2 target(s)" in run_tom("lists", "add", "tonight", "T1", "alias2").stdout
    assert "Added 0 target(s)" in run_tom("lists", "add", "tonight", "T1").stdout
    out = run_tom("lists", "add", "tonight", "--extra", "z>=0.15").stdout
    assert "Added 5 target(s) to tonight (now 7)" in out
    shown = run_tom("lists", "show", "tonight", "--json").json()
    assert shown["list"]["count"] == 7 and shown["list"]["description"] == "bright ones"
    assert [t["name"] for t in shown["targets"]] == ["T1", "T15", "T16", "T17", "T18", "T19", "T2"]
    assert "Removed 3 target(s)" in run_tom("lists", "remove", "tonight", "--cone", "16", "0", "1.01").stdout
    assert "Removed 1 target(s)" in run_tom("lists", "remove", "tonight", "T1").stdout
    listed = run_tom("lists", "list", "--json").json()
    assert [(x["name"], x["count"]) for x in listed] == [("tonight", 3)]
    assert [t.name for t in tom.lists.all()] == ["tonight"]


def test_lists_errors(tom, run_tom):
    fill(tom)
    assert "no target list named 'nope'" in run_tom("lists", "add", "nope", "T1", expect=1).stderr
    run_tom("lists", "add", "nope", "T1", "--create")
    assert "no target named 'zzz'" in run_tom("lists", "add", "nope", "T2", "zzz", expect=1).stderr
    assert tom.lists.get("nope").count == 1  # nothing half-written
    assert "comma" in run_tom("lists", "create", "a,b", expect=1).stderr
    assert "name targets to add" in run_tom("lists", "add", "nope", expect=2).stderr


def test_delete_list_keeps_targets(tom, run_tom):
    fill(tom)
    run_tom("lists", "add", "L", "--name", "alias1", "--create")
    assert tom.lists.get("L").count == 11  # alias1, alias10..alias19
    run_tom("lists", "delete", "L", "--yes")
    assert tom.lists.all() == [] and tom.targets.count() == 20
    assert tom.targets.get("T1").lists == []


def test_show_json_streams_the_members_in_chunks(tom, run_tom, monkeypatch):
    """`lists show --json` prints what one whole JSON document would, reading the targets a
    chunk at a time (here 3), never all through `find`."""
    import json

    from tomcore.cli.output import to_jsonable
    from tomcore.services import target_query

    fill(tom)
    run_tom("lists", "add", "tonight", "--extra", "z>=0.1", "--create")
    run_tom("lists", "create", "empty")
    members = target_query.find(tom, target_query.TargetQuery(lists=["tonight"])).targets
    info = tom.lists.get("tonight")
    monkeypatch.setattr(target_query, "STREAM_CHUNK", 3)
    monkeypatch.setattr(target_query, "find", lambda *a, **k: (_ for _ in ()).throw(AssertionError("not streamed")))
    out = run_tom("lists", "show", "tonight", "--json").stdout
    assert out == json.dumps({"list": to_jsonable(info), "targets": to_jsonable(members)}, indent=2,
                             ensure_ascii=False) + "\n"
    assert len(json.loads(out)["targets"]) == 10
    assert [t["name"] for t in run_tom("lists", "show", "tonight", "--limit", "4", "--json").json()["targets"]] == \
        [t.name for t in members[:4]]
    assert run_tom("lists", "show", "empty", "--json").json()["targets"] == []
