"""tom.data.store: streaming into storage, checksums, duplicates, safe names, events."""

from __future__ import annotations

import hashlib
import io

import pytest

from tomcore import hookimpl
from tomcore.domain.targets import Target
from tomcore.errors import NotFoundError, StorageError, ValidationError
from tomcore.services.storage import check_key, safe_name

LIGHT_CURVE = b"time,filter,magnitude,error,limit,telescope\n60000.1,g,18.5,0.1,,ZTF\n60000.2,r,18.7,0.1,,ZTF\n" \
              b"60001.0,g,,,20.1,ZTF\n"


@pytest.fixture
def target(tom):
    return tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))


class Recorder:
    def __init__(self):
        self.products = []
        self.batches = []

    @hookimpl
    def on_data_product_saved(self, tom, products):
        self.products.append(list(products))

    @hookimpl
    def on_reduced_data_saved(self, tom, batch):
        self.batches.append(batch)


class ChunkedReader(io.RawIOBase):
    """A stream that refuses to be read whole: at most `limit` bytes per read."""

    def __init__(self, data: bytes, limit: int):
        self.data, self.pos, self.limit, self.largest = data, 0, limit, 0

    def readable(self):
        return True

    def read(self, size=-1):
        assert size is not None and size > 0, "the store asked for the whole stream at once"
        size = min(size, self.limit)
        chunk = self.data[self.pos:self.pos + size]
        self.pos += len(chunk)
        self.largest = max(self.largest, len(chunk))
        return chunk


def test_store_streams_records_and_processes(tom, target, tom_plugin):
    recorder = tom_plugin(Recorder(), "recorder")
    info = tom.data.store(target.id, io.BytesIO(LIGHT_CURVE), name="lc.csv", data_type="photometry",
                          provenance="facility", source="lco")
    assert info.status == "processed" and info.reduced == {"photometry": 3}
    assert info.checksum == hashlib.sha256(LIGHT_CURVE).hexdigest()
    assert info.md5 == hashlib.md5(LIGHT_CURVE).hexdigest()
    assert info.size == len(LIGHT_CURVE) and info.path == "SN_2024abc/lco/lc.csv"
    assert (tom.home / "data" / "SN_2024abc" / "lco" / "lc.csv").read_bytes() == LIGHT_CURVE
    assert [p.id for p in recorder.products[0]] == [info.id]
    assert recorder.batches[0].kind == "photometry" and recorder.batches[0].counts == {target.id: 3}
    points = tom.data.points("SN 2024abc")
    assert [(p.time, p.band, p.mag, p.limit, p.source) for p in points] == [
        (60000.1, "g", 18.5, None, "lco"), (60000.2, "r", 18.7, None, "lco"), (60001.0, "g", None, 20.1, "lco")]


def test_store_accepts_chunks_paths_bytes_and_lazy_openers(tom, target, tmp_path):
    big = bytes(range(256)) * 40_000  # 10 MB
    reader = ChunkedReader(big, 2**20)
    info = tom.data.store(target, reader, name="a.bin", data_type="other")
    assert info.size == len(big) and reader.largest <= 2**20
    chunks = [big[i:i + 1000] for i in range(0, 30_000, 1000)]
    assert tom.data.store(target, iter(chunks), name="b.bin", data_type="other").size == 30_000
    path = tmp_path / "c.bin"
    path.write_bytes(b"c" * 10)
    assert tom.data.store(target, path, name="c.bin", data_type="other").md5 == hashlib.md5(b"c" * 10).hexdigest()
    assert tom.data.store(target, b"d" * 5, name="d.bin", data_type="other").size == 5
    assert tom.data.store(target, lambda: io.BytesIO(b"e"), name="e.bin", data_type="other").size == 1
    with tom.data.open(info) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == info.checksum


def test_known_checksum_skips_without_reading(tom, target, tom_plugin):
    recorder = tom_plugin(Recorder(), "recorder")
    first = tom.data.store(target, LIGHT_CURVE, name="lc.csv", data_type="photometry", source="lco")

    def never():
        raise AssertionError("the stream was opened although the file is stored")

    again = tom.data.store(target, never, name="lc.csv", data_type="photometry", source="lco",
                           checksum="md5:" + hashlib.md5(LIGHT_CURVE).hexdigest())
    assert again.existing and again.id == first.id
    same_content = tom.data.store(target, LIGHT_CURVE, name="other-name.csv", data_type="photometry")
    assert same_content.existing and same_content.id == first.id
    assert len(recorder.products) == 1 and len(tom.data.list()) == 1
    assert len(tom.storage.default.keys()) == 1


def test_same_name_different_content_gets_its_own_file(tom, target):
    a = tom.data.store(target, b"one", name="frame.bin", data_type="other", source="lco")
    b = tom.data.store(target, b"two", name="frame.bin", data_type="other", source="lco")
    assert a.path == "SN_2024abc/lco/frame.bin" and b.path != a.path and b.path.endswith(".bin")
    with tom.data.open(b) as fh:
        assert fh.read() == b"two"


def test_checksum_or_size_mismatch_stores_nothing(tom, target):
    with pytest.raises(StorageError, match="checksum does not match"):
        tom.data.store(target, b"abc", name="x.bin", data_type="other", checksum="md5:" + "0" * 32)
    with pytest.raises(StorageError, match="expected 10 bytes, got 3"):
        tom.data.store(target, b"abc", name="x.bin", data_type="other", size=10)
    assert tom.data.list() == [] and tom.storage.default.keys() == []
    with pytest.raises(ValidationError, match="checksum"):
        tom.data.store(target, b"abc", name="x.bin", data_type="other", checksum="md5:xyz")


def test_bad_arguments(tom, target):
    with pytest.raises(ValidationError, match="data type"):
        tom.data.store(target, b"x", name="x", data_type="movie")
    with pytest.raises(ValidationError, match="provenance"):
        tom.data.store(target, b"x", name="x", data_type="other", provenance="friend")
    with pytest.raises(NotFoundError):
        tom.data.store("no such target", b"x", name="x", data_type="other")
    with pytest.raises(NotFoundError, match="observation"):
        tom.data.store(target, b"x", name="x", data_type="other", observation_id=999)
    assert tom.data.list() == []


@pytest.mark.parametrize("given, expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("/abs/path/frame.fits", "frame.fits"),
    (".bashrc", "bashrc"),
    ("..", "file"),
    ("", "file"),
    ("-rf", "rf"),
    ("spaces and ümlauts?.csv", "spaces_and_umlauts_.csv"),
    ("a\x00b\nc.txt", "a_b_c.txt"),
    ("x" * 300 + ".fits.fz", "x" * 142 + ".fits.fz"),
])
def test_safe_names(given, expected):
    assert safe_name(given) == expected


def test_keys_cannot_leave_the_storage(tom, target):
    for bad in ("../x", "/etc/x", "a//b", "a/./b", "a\\b"):
        with pytest.raises(StorageError):
            check_key(bad)
    info = tom.data.store(target, b"x", name="../../../../../../tmp/evil.txt", data_type="other",
                          source="../../lco")
    assert info.path == "SN_2024abc/lco/evil.txt"
    assert (tom.home / "data" / "SN_2024abc" / "lco" / "evil.txt").exists()


def test_a_slash_in_a_target_name_is_not_a_directory(tom):
    from tomcore.domain.targets import Target

    elements = dict(type="NON_SIDEREAL", scheme="MPC_COMET", epoch_of_elements=59000.0, inclination=12.0,
                    lng_asc_node=61.0, arg_of_perihelion=37.0, eccentricity=0.5, perihdist=1.3,
                    epoch_of_perihelion=59033.0)
    tom.targets.save([Target(name="C/2020 F3", **elements), Target(name="P/2020 F3", **elements)])
    first = tom.data.store("C/2020 F3", b"1", name="lc.csv", data_type="other")
    second = tom.data.store("P/2020 F3", b"2", name="lc.csv", data_type="other", source="a/b")
    assert first.path == "C_2020_F3/upload/lc.csv" and second.path == "P_2020_F3/a_b/lc.csv"
    out = tom.home / "out"
    tom.data.download(tom.data.list(), out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "C_2020_F3/lc.csv", "P_2020_F3/lc.csv"]


def test_collect_fires_once(tom, target, tom_plugin):
    recorder = tom_plugin(Recorder(), "recorder")
    with tom.data.collect():
        tom.data.store(target, b"1", name="1.bin", data_type="other")
        tom.data.store(target, LIGHT_CURVE, name="lc.csv", data_type="photometry")
        assert recorder.products == []
    assert [len(batch) for batch in recorder.products] == [2]
    assert [b.kind for b in recorder.batches] == ["photometry"]


def test_delete_removes_record_reduced_data_and_file(tom, target):
    info = tom.data.store(target, LIGHT_CURVE, name="lc.csv", data_type="photometry")
    assert tom.data.delete([info.id]) == 1
    assert tom.data.list() == [] and tom.data.points(target) == [] and tom.storage.default.keys() == []
    with pytest.raises(NotFoundError):
        tom.data.delete([info.id])


def test_bulk_photometry_round_trip(tom, target, tom_plugin):
    """5,000 points (PostgreSQL takes them by COPY, SQLite by multi-row inserts): every value
    back as written, strings with quotes and percent signs, extras, repeats dropped."""
    recorder = tom_plugin(Recorder(), "recorder")
    lines = ["time,filter,magnitude,error,limit,telescope,instrument,seeing"]
    for i in range(5000):
        band = ("g", "r", "o'clock", "50%")[i % 4]
        if i % 10 == 0:
            lines.append(f"{60000 + i / 7:.6f},{band},,,{20 + i % 3 / 10:.2f},\"LCO, 1m\",,{i % 5}")
        else:
            lines.append(f"{60000 + i / 7:.6f},{band},{17 + (i % 100) / 50:.4f},{0.01 * (1 + i % 9):.3f},,ZTF,cam,")
    lines.append(lines[1])  # a repeat within the file
    info = tom.data.store(target, ("\n".join(lines) + "\n").encode(), name="bulk.csv", data_type="photometry")
    assert info.status == "processed", info.error
    assert info.reduced == {"photometry": 5000} and recorder.batches[-1].counts == {target.id: 5000}
    table = tom.data.photometry(target)
    assert table.num_rows == 5000
    rows = {(r["time"], r["band"]): r for r in table.to_pylist()}
    first = rows[(60000.0, "g")]
    assert (first["mag"], first["limit"], first["telescope"], first["instrument"]) == (None, 20.0, "LCO, 1m", None)
    assert first["extra"] is not None and '"seeing": 0' in first["extra"]
    other = rows[(round(60000 + 3 / 7, 6), "50%")]
    assert (other["mag"], other["mag_err"], other["telescope"], other["instrument"]) == (17.06, 0.04, "ZTF", "cam")
    assert {r["band"] for r in table.to_pylist()} == {"g", "r", "o'clock", "50%"}
    again = tom.data.add_photometry(target, table.slice(0, 100), source="upload")
    assert again.total == 0 and tom.data.photometry(target).num_rows == 5000


def test_a_database_failure_while_saving_reduced_data_leaves_nothing_half_written(tom, target, monkeypatch):
    """The points are written, then the database refuses something: the transaction rolls
    back (no point stays), the file is kept and the product recorded as failed."""
    from sqlalchemy.exc import OperationalError

    from tomcore.services import processing

    original = processing.write

    def failing(session, **kwargs):
        original(session, **kwargs)  # the points are in the transaction...
        raise OperationalError("INSERT INTO spectra", {}, Exception("disk I/O error"))

    monkeypatch.setattr(processing, "write", failing)
    info = tom.data.store(target, LIGHT_CURVE, name="lc.csv", data_type="photometry")
    assert info.status == "failed" and "could not save the reduced data: OperationalError" in info.error
    assert tom.data.points(target) == [] and info.reduced == {}
    with tom.data.open(info) as fh:
        assert fh.read() == LIGHT_CURVE
    monkeypatch.setattr(processing, "write", original)
    [again] = tom.data.reprocess([info.id])
    assert again.status == "processed" and len(tom.data.points(target)) == 3
