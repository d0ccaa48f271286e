"""`tom targets merge KEEP OTHER`: names, extras, lists, observations, data and photometry."""

from __future__ import annotations

from tomcore.domain.data import PhotometryPoint
from tomcore.domain.targets import Target


def minimal_row(table, target_id):
    """Values for a row of another area's table: its required columns filled by type (so the
    test keeps working while that area's model grows)."""
    from datetime import UTC, datetime

    from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text

    values = {"target_id": target_id}
    for column in table.columns:
        if column.name in values or column.nullable or column.default is not None or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        kind = column.type
        for base, value in ((String, "x"), (Text, "x"), (Boolean, False), (Integer, 0), (Float, 0.0), (JSON, {})):
            if isinstance(kind, base):
                values[column.name] = value
                break
        else:
            if isinstance(getattr(kind, "impl", kind), DateTime) or isinstance(kind, DateTime):
                values[column.name] = datetime.now(UTC)
            else:
                values[column.name] = {}
    if "path" in values:
        values["path"] = "x/1.csv"
    return values


def setup(tom):
    tom.targets.save([
        Target(name="SN 2023ixf", ra=210.910750, dec=54.311694, aliases=["ZTF23aaklqou"], extras={"z": 0.0008},
               lists=["nearby"]),
        Target(name="ATLAS23opp", ra=210.910750 + 1.5 / 3600, dec=54.311694, aliases=["PS23ixf"],
               extras={"z": 0.5, "host": "M101"}, lists=["atlas", "nearby"]),
        Target(name="far", ra=10.0, dec=10.0),
    ], radius_arcsec=0.5)
    from tomcore.services.photometry import insert_points
    from tomcore.store.models import DataProductRow, ObservationRecordRow

    with tom.db.session() as s:
        keep = tom.targets.resolve_id(s, "SN 2023ixf")
        other = tom.targets.resolve_id(s, "ATLAS23opp")
        insert_points(s, {keep: [PhotometryPoint(time=60083.0, band="g", mag=11.1, source="alerce")],
                          other: [PhotometryPoint(time=60083.0, band="g", mag=11.2, source="alerce"),  # same key
                                  PhotometryPoint(time=60084.0, band="g", mag=11.0, source="alerce")]})
        for model in (ObservationRecordRow, DataProductRow):
            s.execute(model.__table__.insert().values(minimal_row(model.__table__, other)))
    return keep, other


def test_merge_moves_everything(tom, run_tom, tom_plugin):
    from sqlalchemy import func, select

    from tomcore import hookimpl
    from tomcore.store.models import DataProductRow, ObservationRecordRow, PhotometryRow

    keep, _other = setup(tom)
    updated = []

    class Listener:
        @hookimpl
        def on_targets_updated(self, tom, targets):
            updated.append([t.name for t in targets])

    tom_plugin(Listener(), "listener")
    out = run_tom("targets", "merge", "SN 2023ixf", "PS23ixf", "--yes").stdout
    assert "Merged ATLAS23opp into SN 2023ixf" in out and "1 duplicate photometry dropped" in out
    got = tom.targets.get("ATLAS23opp")
    assert got.name == "SN 2023ixf"
    assert got.aliases == ["ZTF23aaklqou", "ATLAS23opp", "PS23ixf"] or sorted(got.aliases) == \
        ["ATLAS23opp", "PS23ixf", "ZTF23aaklqou"]
    assert got.extras == {"z": 0.0008, "host": "M101"}
    assert got.lists == ["atlas", "nearby"]
    with tom.db.session(readonly=True) as s:
        assert s.execute(select(func.count()).where(ObservationRecordRow.target_id == keep)).scalar_one() == 1
        assert s.execute(select(func.count()).where(DataProductRow.target_id == keep)).scalar_one() == 1
        mags = s.execute(select(PhotometryRow.time, PhotometryRow.mag).where(PhotometryRow.target_id == keep)
                         .order_by(PhotometryRow.time)).all()
        assert [tuple(m) for m in mags] == [(60083.0, 11.1), (60084.0, 11.0)]
        assert s.execute(select(func.count()).select_from(PhotometryRow)).scalar_one() == 2
    assert tom.targets.count() == 2
    assert updated == [["SN 2023ixf"]]


def test_merge_refuses_distant_targets_unless_forced(tom, run_tom):
    setup(tom)
    err = run_tom("targets", "merge", "SN 2023ixf", "far", "--yes", expect=1).stderr
    assert "apart, beyond the match radius" in err
    assert tom.targets.count() == 3
    run_tom("targets", "merge", "SN 2023ixf", "far", "--yes", "--force")
    assert tom.targets.get("far").name == "SN 2023ixf"


def test_merge_fills_missing_fields_and_refuses_self(tom, run_tom):
    tom.targets.save([Target(name="A", ra=1.0, dec=1.0), Target(name="B", ra=1.0, dec=1.0 + 1 / 3600, parallax=2.5,
                                                                pm_ra=3.0)], radius_arcsec=0.1)
    run_tom("targets", "merge", "A", "B", "--yes")
    got = tom.targets.get("A")
    assert (got.ra, got.parallax, got.pm_ra, got.aliases) == (1.0, 2.5, 3.0, ["B"])
    assert "are the same target" in run_tom("targets", "merge", "A", "B", "--yes", expect=1).stderr


def test_merge_covers_every_table_pointing_at_targets():
    """The generic re-pointing finds every foreign key to targets.id (tables added later too)."""
    from tomcore.services.target_edit import target_references

    tables = {t.name for t, _ in target_references()}
    assert {"observation_records", "data_products", "photometry"} <= tables
    assert not tables & {"target_names", "target_extras", "target_list_members", "targets"}
