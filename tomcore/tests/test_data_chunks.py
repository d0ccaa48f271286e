"""A big light curve is checked and written a chunk at a time, in one transaction: the same
rows as one write, all or nothing, and an event that shows the new rows without copying them."""

from __future__ import annotations

import random

import pytest

from tomcore import hookimpl
from tomcore.domain.data import PhotometryPoint, PointsView
from tomcore.domain.targets import Target
from tomcore.services import photometry

ORIGINAL_WRITE = photometry._write


@pytest.fixture
def target(tom):
    return tom.targets.create(Target(name="SN 2024chunk", ra=10.0, dec=20.0))


class Recorder:
    def __init__(self):
        self.batches = []

    @hookimpl
    def on_reduced_data_saved(self, tom, batch):
        self.batches.append(batch)


def light_curve(n: int, seed: int = 3) -> tuple[bytes, list[tuple[float, str, float]]]:
    """A CSV of ``n`` rows in shuffled time order with repeats of earlier keys (same time and
    band, another magnitude) far from their first row; and (time, band, mag) by file order."""
    rng = random.Random(seed)
    rows = [(60000 + i / 8, "gri"[i % 3], round(17 + (i % 50) / 25, 3)) for i in range(n)]
    rng.shuffle(rows)
    for i in range(0, n, 97):  # a repeat far after its first row: the first one wins
        time, band, mag = rows[i]
        rows.append((time, band, mag + 1))
    lines = ["time,filter,magnitude,error"] + [f"{t},{b},{m},0.05" for t, b, m in rows]
    return ("\n".join(lines) + "\n").encode(), rows


def spy_writes(monkeypatch, fail_at: int | None = None) -> list[int]:
    sizes: list[int] = []
    original = photometry._write

    def write(cursor, dialect, added, constants):
        sizes.append(added.num_rows)
        if fail_at is not None and len(sizes) == fail_at:
            from sqlalchemy.exc import OperationalError

            raise OperationalError("INSERT INTO photometry", {}, Exception("disk I/O error"))
        original(cursor, dialect, added, constants)

    monkeypatch.setattr(photometry, "_write", write)
    return sizes


@pytest.mark.parametrize("chunk", [64, 2500])  # 2500: PostgreSQL COPYs each chunk
def test_a_big_file_written_in_chunks_stores_what_one_write_would(tom, target, tom_plugin, monkeypatch, chunk):
    recorder = tom_plugin(Recorder(), "recorder")
    content, rows = light_curve(6000)
    # points the target already has, from another source and from this one
    stored = [rows[10], rows[4000], rows[5999]]
    tom.data.add_photometry(target, [PhotometryPoint(time=t, band=b, mag=m) for t, b, m in stored], source="upload")
    recorder.batches.clear()
    monkeypatch.setattr(photometry, "CHUNK_ROWS", chunk)
    sizes = spy_writes(monkeypatch)
    info = tom.data.store(target, content, name="big.csv", data_type="photometry")
    assert info.status == "processed", info.error
    assert len(sizes) >= 6000 // chunk and max(sizes) <= chunk

    first: dict[tuple[float, str], float] = {}
    new = []  # the rows to be added, in file order: first of their key, not stored before
    known = {(t, b) for t, b, _ in stored}
    for time, band, mag in rows:
        if (time, band) not in first:
            first[(time, band)] = mag
            if (time, band) not in known:
                new.append((time, band, mag))
    assert info.reduced == {"photometry": len(new)} == {"photometry": 6000 - 3}
    table = tom.data.photometry(target)
    assert table.num_rows == 6000
    assert {(r["time"], r["band"]): r["mag"] for r in table.to_pylist()} == first

    [batch] = recorder.batches
    assert batch.counts == {target.id: 5997} and batch.data_product_id == info.id
    points = batch.photometry[target.id]
    assert isinstance(points, PointsView) and len(points) == 5997
    assert [(p.time, p.band, p.mag) for p in points] == new  # the new rows, in file order
    assert (points[0].time, points[-1].time) == (new[0][0], new[-1][0])
    assert points.table.num_rows == 5997 and points.table["time"].to_pylist() == [t for t, _, _ in new]
    with pytest.raises(IndexError):
        points[5997]


def test_a_failure_in_a_later_chunk_writes_nothing(tom, target, monkeypatch):
    """Chunks already written are rolled back with the rest; the file is kept, marked failed,
    and processes in full once the database is well again."""
    content, _ = light_curve(1000)
    monkeypatch.setattr(photometry, "CHUNK_ROWS", 100)
    sizes = spy_writes(monkeypatch, fail_at=4)
    info = tom.data.store(target, content, name="lc.csv", data_type="photometry")
    assert len(sizes) == 4 and info.status == "failed" and "disk I/O error" in info.error
    assert tom.data.points(target) == [] and info.reduced == {}
    monkeypatch.setattr(photometry, "_write", ORIGINAL_WRITE)
    [again] = tom.data.reprocess([info.id])
    assert again.status == "processed" and again.reduced == {"photometry": 1000}
    assert tom.data.photometry(target).num_rows == 1000


def test_a_bad_row_late_in_a_big_file_names_its_line_and_writes_nothing(tom, target, monkeypatch):
    content, _ = light_curve(1000)
    lines = content.decode().splitlines()
    lines[900] = lines[900].split(",")[0] + ",g,bright,0.05"  # line 901 of the file
    monkeypatch.setattr(photometry, "CHUNK_ROWS", 100)
    sizes = spy_writes(monkeypatch)
    info = tom.data.store(target, ("\n".join(lines) + "\n").encode(), name="lc.csv", data_type="photometry")
    assert info.status == "failed" and "line 901, column magnitude" in info.error and "'bright'" in info.error
    assert sizes == [] and tom.data.points(target) == []


def test_reprocess_in_chunks_announces_only_points_the_product_did_not_have(tom, target, tom_plugin, monkeypatch):
    recorder = tom_plugin(Recorder(), "recorder")
    content, rows = light_curve(500)
    other = tom.data.store(target, b"time,filter,magnitude\n" + f"{rows[7][0]},{rows[7][1]},19\n".encode()
                           + f"{rows[300][0]},{rows[300][1]},19\n".encode(), name="other.csv", data_type="photometry")
    monkeypatch.setattr(photometry, "CHUNK_ROWS", 64)
    info = tom.data.store(target, content, name="lc.csv", data_type="photometry")
    assert info.reduced == {"photometry": 498}
    tom.data.delete([other.id])  # its two points go: the big file's own rows for them can be stored now
    recorder.batches.clear()
    [again] = tom.data.reprocess([info.id])
    assert again.reduced == {"photometry": 500}
    [batch] = recorder.batches
    assert batch.counts == {target.id: 2}
    assert sorted((p.time, p.band, p.mag) for p in batch.photometry[target.id]) == sorted([rows[7], rows[300]])


def test_points_view_of_some_rows():
    import numpy as np
    import pyarrow as pa

    table = pa.table({"time": [1.0, 2.0, 3.0, 4.0, 5.0], "band": list("abcde"), "source": ["s"] * 5})
    view = PointsView(table, np.array([1, 3, 4]))
    assert len(view) == 3 and [p.band for p in view] == ["b", "d", "e"]
    assert (view[0].time, view[-1].time, view[-3].band) == (2.0, 5.0, "b")
    assert [p.time for p in view[1:]] == [4.0, 5.0] and isinstance(view[1:], PointsView)
    assert [p.band for p in view[::-1]] == ["e", "d", "b"] and view[::-1].table["band"].to_pylist() == ["e", "d", "b"]
    assert [p.band for p in PointsView(table)[3:]] == ["d", "e"]
    assert view.table.to_pydict() == {"time": [2.0, 4.0, 5.0], "band": ["b", "d", "e"], "source": ["s"] * 3}
    with pytest.raises(IndexError):
        view[3]
    assert len(PointsView(table)) == 5 and PointsView(table).table is table
