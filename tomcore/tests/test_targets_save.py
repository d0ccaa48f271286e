"""TargetService.save: validation, the matcher's decisions, bulk writes, events."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from tomcore.domain.targets import MPC_COMET, MPC_MINOR_PLANET, NON_SIDEREAL, Target
from tomcore.errors import ValidationError


class Recorder:
    def __init__(self):
        self.created: list[list[Target]] = []
        self.updated: list[list[Target]] = []

    from tomcore import hookimpl

    @hookimpl
    def on_targets_created(self, tom, targets):
        self.created.append(list(targets))

    @hookimpl
    def on_targets_updated(self, tom, targets):
        self.updated.append(list(targets))


def test_save_creates_with_everything(tom):
    t = Target(name="SN 2011fe", ra=210.774, dec=54.2737, aliases=["PTF11kly", "PTF11kly"],
               extras={"redshift": 0.000804, "classification": "SN Ia", "spectroscopic": True,
                       "discovered": datetime(2011, 8, 24, 3, 0, tzinfo=UTC), "ndet": 12},
               lists=["nearby", "Ia"])
    report = tom.targets.save([t])
    assert report.counts()["created"] == 1
    assert t.id is not None and t.created is not None
    assert t.galactic_lng == pytest.approx(101.98, abs=0.01) and t.galactic_lat == pytest.approx(59.84, abs=0.01)
    got = tom.targets.get("ptf 11kly")
    assert got.name == "SN 2011fe" and got.aliases == ["PTF11kly"]
    assert got.extras == t.extras
    assert isinstance(got.extras["ndet"], int) and isinstance(got.extras["spectroscopic"], bool)
    assert got.lists == ["Ia", "nearby"]
    assert got.galactic_lat == pytest.approx(t.galactic_lat)


def test_non_sidereal_with_per_scheme_fields(tom):
    comet = Target(name="C/2020 F3 (NEOWISE)", type=NON_SIDEREAL, scheme=MPC_COMET, epoch_of_elements=59000.0,
                   inclination=128.9, lng_asc_node=61.0, arg_of_perihelion=37.3, eccentricity=0.9992,
                   perihdist=0.2946, epoch_of_perihelion=59034.7)
    tom.targets.save([comet])
    got = tom.targets.get("C/2020 F3 (NEOWISE)")
    assert got.scheme == MPC_COMET and got.perihdist == 0.2946 and got.ra is None


def test_every_problem_is_reported_and_nothing_written(tom):
    bad = [
        Target(name="ok", ra=1.0, dec=2.0),
        Target(name="south", ra=1.0, dec=-91.0),
        Target(name="nan", ra=math.nan, dec=2.0),
        Target(name="nodec", ra=1.0),
        Target(name="rock", type=NON_SIDEREAL, scheme=MPC_MINOR_PLANET, epoch_of_elements=60000.0, inclination=1.0,
               lng_asc_node=2.0, arg_of_perihelion=3.0, eccentricity=0.1),
        Target(name="weird", type=NON_SIDEREAL, scheme="HYPERBOLIC"),
    ]
    with pytest.raises(ValidationError) as info:
        tom.targets.save(bad, labels=[f"line {i + 2}" for i in range(len(bad))])
    errors = info.value.errors
    assert "line 3, dec" in errors and "outside [-90, 90]" in errors["line 3, dec"][0]
    assert "line 4, ra" in errors and "finite" in errors["line 4, ra"][0]
    assert "line 5, dec" in errors
    assert errors["line 6, mean_anomaly"] == ["is required for scheme MPC_MINOR_PLANET"]
    assert errors["line 6, semimajor_axis"] == ["is required for scheme MPC_MINOR_PLANET"]
    assert "line 7, scheme" in errors
    assert not any(k.startswith("line 2") for k in errors)
    assert tom.targets.count() == 0


def test_skip_invalid_writes_the_good_ones(tom):
    report = tom.targets.save([Target(name="ok", ra=1.0, dec=2.0), Target(name="bad", ra=1.0, dec=100.0)],
                              skip_invalid=True)
    assert report.counts()["created"] == 1 and report.counts()["error"] == 1
    assert report.errors[0].label == "bad"
    assert tom.targets.count() == 1


def test_duplicates_of_existing_targets_per_on_duplicate(tom):
    tom.targets.save([Target(name="SN 2023ixf", ra=210.9107, dec=54.3117, extras={"mag": 11.0}, lists=["a"])])
    again = [Target(name="AT2023ixf", ra=210.9107, dec=54.3117)]
    with pytest.raises(ValidationError, match="matches existing target 'SN 2023ixf'"):
        tom.targets.save(again)
    assert tom.targets.save(again, on_duplicate="skip").counts()["skipped"] == 1
    near = Target(name="ZTF23aaklqou", ra=210.9107 + 0.5 / 3600, dec=54.3117, extras={"mag": 10.5, "host": "M101"},
                  lists=["b"])
    report = tom.targets.save([near], on_duplicate="update")
    assert report.counts()["updated"] == 1
    got = tom.targets.get("SN 2023ixf")
    assert got.aliases == ["ZTF23aaklqou"]
    assert got.extras == {"mag": 10.5, "host": "M101"}
    assert got.lists == ["a", "b"]
    assert got.ra == pytest.approx(210.9107 + 0.5 / 3600)
    # nothing new: unchanged
    assert tom.targets.save([Target(name="SN 2023ixf")], on_duplicate="update").counts()["unchanged"] == 1


def test_update_without_overwrite_only_fills_gaps(tom):
    tom.targets.save([Target(name="X", ra=10.0, dec=10.0, extras={"mag": 1.0})])
    tom.targets.save([Target(name="X", ra=10.0001, dec=10.0, parallax=3.0, extras={"mag": 2.0, "new": "y"})],
                     on_duplicate="update", overwrite=False)
    got = tom.targets.get("X")
    assert got.ra == 10.0 and got.parallax == 3.0 and got.extras == {"mag": 1.0, "new": "y"}


def test_update_overwrite_extras_refreshes_extras_and_only_fills_fields(tom):
    tom.targets.save([Target(name="X", ra=10.0, dec=10.0, extras={"cls": "SN II", "p": 0.4, "own": "kept"})])
    incoming = Target(name="X", aliases=["ZTF1"], ra=10.0001, dec=10.0, parallax=3.0,
                      extras={"cls": "SN Ia", "p": 0.9, "new": 1})
    report = tom.targets.save([incoming], on_duplicate="update", overwrite=False, overwrite_extras=True)
    got = tom.targets.get("X")
    assert (got.ra, got.parallax) == (10.0, 3.0)  # its own position kept, the empty field filled
    assert got.extras == {"cls": "SN Ia", "p": 0.9, "new": 1, "own": "kept"}
    assert got.aliases == ["ZTF1"]
    assert report.updated == [got]  # the report holds the target as saved
    # the same again changes nothing; overwrite_extras=False only adds missing extras
    again = Target(name="X", extras={"cls": "SN Ia", "p": 0.9, "new": 1})
    assert tom.targets.save([again], on_duplicate="update", overwrite=False, overwrite_extras=True).counts()["unchanged"] == 1
    tom.targets.save([Target(name="X", extras={"cls": "TDE", "z": 0.1})], on_duplicate="update", overwrite=True,
                     overwrite_extras=False)
    assert tom.targets.get("X").extras == {"cls": "SN Ia", "p": 0.9, "new": 1, "own": "kept", "z": 0.1}
    # within one batch the rows folding into one target follow the same rule
    tom.targets.save([Target(name="Y", ra=50.0, dec=5.0, extras={"cls": "a"}),
                      Target(name="Y2", aliases=["Y"], ra=60.0, dec=5.0, extras={"cls": "b"})],
                     on_duplicate="update", overwrite=False, overwrite_extras=True)
    y = tom.targets.get("Y")
    assert (y.ra, y.extras, y.aliases) == (50.0, {"cls": "b"}, ["Y2"])


def test_batched_update_matches_a_fresh_load(tom):
    from tomcore.services.target_query import TargetQuery, find

    n = 3000
    tom.targets.save([Target(name=f"U{i}", ra=i * 0.1, dec=1.0, extras={"k": i}, lists=["old"] if i % 2 else [])
                      for i in range(n)])
    when = datetime(2024, 5, 1, 12, 0)  # naive: stored and read back as UTC
    incoming = [Target(name=f"U{i}", aliases=[f"V{i}"] if i % 3 == 0 else [], ra=i * 0.1 + 10.0, dec=-5.0,
                       extras={"k": i + 1, "seen": when} if i % 5 == 0 else {"k": i + 1}, lists=["new"] if i % 7 == 0 else [])
                for i in range(n)]
    report = tom.targets.save(incoming, on_duplicate="update", radius_arcsec=0.0)
    counts = report.counts()
    assert counts["updated"] == n and counts["created"] == 0  # every position moved (overwrite)
    with tom.db.session(readonly=True) as s:
        fresh = tom.targets.load(s, [t.id for t in report.updated])
    for target in report.updated:
        assert target == fresh[target.id]
    got = tom.targets.get("U15")
    assert got.extras == {"k": 16, "seen": when.replace(tzinfo=UTC)} and got.aliases == ["V15"]
    assert tom.targets.get("U14").lists == ["new"] and tom.targets.get("U21").lists == ["new", "old"]
    assert got.galactic_lng is not None and got.ra == pytest.approx(11.5)
    # the sky index moved with the targets: a cone at the new place finds them, the old place is empty
    assert [t.name for t in find(tom, TargetQuery(cone=(11.5, -5.0, 0.01))).targets] == ["U15"]
    assert find(tom, TargetQuery(cone=(1.5, 1.0, 0.01))).targets == []


def test_duplicates_inside_the_batch(tom):
    batch = [
        Target(name="A", ra=0.0000001, dec=5.0),
        Target(name="B", ra=359.9999999, dec=5.0),  # 0.0007" from A across RA 0/360
        Target(name="C", ra=45.0, dec=89.9999999),
        Target(name="D", ra=225.0, dec=89.9999999),  # across the pole from C
        Target(name="sn 2020abc", ra=100.0, dec=0.0),
        Target(name="AT2020ABC", ra=300.0, dec=0.0),  # same name, far away
    ]
    with pytest.raises(ValidationError) as info:
        tom.targets.save(batch)
    assert set(info.value.errors) == {"B", "D", "AT2020ABC"}
    assert "duplicates A of the same batch" in info.value.errors["B"][0]
    report = tom.targets.save(batch, on_duplicate="update")
    assert report.counts() == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 0, "merged": 3, "error": 0}
    assert tom.targets.get("B").name == "A"
    assert tom.targets.get("AT2020ABC").name == "sn 2020abc"


def test_alias_unique_across_names_and_aliases(tom):
    tom.targets.save([Target(name="M31", ra=10.68, dec=41.27, aliases=["Andromeda"])])
    with pytest.raises(ValidationError, match="matches existing target 'M31'"):
        tom.targets.save([Target(name="Other", ra=200.0, dec=-10.0, aliases=["andromeda"])])


def test_hook_on_targets_created(tom, tom_plugin):
    rec = tom_plugin(Recorder(), "recorder")
    tom.targets.save([Target(name=f"T{i}", ra=float(i), dec=0.0) for i in range(250)])
    assert len(rec.created) == 1 and len(rec.created[0]) == 250
    assert all(t.id is not None for t in rec.created[0])
    assert rec.updated == []


def test_hook_on_targets_updated(tom, tom_plugin):
    tom.targets.save([Target(name="T1", ra=1.0, dec=1.0), Target(name="T2", ra=2.0, dec=2.0)])
    rec = tom_plugin(Recorder(), "recorder")
    tom.targets.save([Target(name="T1", extras={"x": 1}), Target(name="T2", aliases=["two"]), Target(name="T3", ra=3.0, dec=3.0)],
                     on_duplicate="update")
    assert len(rec.updated) == 1
    assert sorted(t.name for t in rec.updated[0]) == ["T1", "T2"]
    assert {t.name: t for t in rec.updated[0]}["T1"].extras == {"x": 1}
    assert [[t.name for t in batch] for batch in rec.created] == [["T3"]]


def test_in_callers_transaction_no_event_until_emit(tom, tom_plugin):
    rec = tom_plugin(Recorder(), "recorder")
    with tom.db.session() as s:
        report = tom.targets.save([Target(name="A", ra=1.0, dec=1.0)], session=s)
        assert rec.created == []
    tom.targets.emit(report)
    assert [t.name for t in rec.created[0]] == ["A"]


def test_large_batch_and_progress(tom):
    seen = []
    targets = [Target(name=f"T{i:06d}", ra=(i * 0.37) % 360, dec=(i * 0.011) % 180 - 90, aliases=[f"a{i}"],
                      extras={"mag": 12 + i % 7, "cls": "SN Ia" if i % 2 else "TDE"}) for i in range(25000)]
    report = tom.targets.save(targets, progress=seen.append)
    assert report.counts()["created"] == 25000 and sum(seen) == 25000
    got = tom.targets.get("a24999")
    assert got.name == "T024999" and got.extras == {"mag": 12 + 24999 % 7, "cls": "SN Ia"}
    assert tom.targets.count() == 25000
