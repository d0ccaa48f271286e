"""The data hooks (register_storage, register_data_processors, on_data_product_saved,
on_reduced_data_saved) and the example plugin of docs/data.md."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import ClassVar

import pytest

from tomcore import hookimpl
from tomcore.contracts.notifiers import Notifier
from tomcore.contracts.processors import DataProcessor, ProcessedData
from tomcore.contracts.storage import StorageBackend
from tomcore.domain.data import PointsView, ReducedValue
from tomcore.domain.targets import Target
from tomcore.errors import StorageError

ROOT = Path(__file__).resolve().parents[2]


def test_hook_register_storage(tom_factory, tmp_path):
    """A storage plugin serves its URL scheme: files go through its filesystem."""
    from fsspec.implementations.memory import MemoryFileSystem

    class MemoryStorage(StorageBackend):
        name = "memory"
        schemes = ("memory",)

        def filesystem(self, url):
            return MemoryFileSystem(), url.removeprefix("memory://").strip("/")

    class Plugin:
        @hookimpl
        def register_storage(self, register):
            register(MemoryStorage())

    tom = tom_factory(plugins={"memstore": Plugin()})
    tom.settings.overrides[("storage", "url")] = "memory://tom-test-bucket"
    tom.targets.create(Target(name="SN 2024abc", ra=1.0, dec=2.0))
    info = tom.data.store("SN 2024abc", b"time,filter,magnitude\n60000,g,18\n", name="lc.csv",
                          data_type="photometry")
    assert info.url == "memory://tom-test-bucket/SN_2024abc/upload/lc.csv" and info.status == "processed"
    assert MemoryFileSystem().cat("/tom-test-bucket/SN_2024abc/upload/lc.csv").startswith(b"time,")
    assert tom.components.storage.owners["memory"] == "memstore"
    tom.settings.overrides[("storage", "url")] = "ftp://nowhere"
    with pytest.raises(StorageError, match=r"no storage backend serves ftp:// URLs; installed: file://, memory://"):
        tom.data.store("SN 2024abc", b"x", name="x", data_type="other")


def test_hook_register_data_processors(tom, tom_plugin):
    """A processor plugin adds a data type and is asked before the built-ins."""

    class RedshiftProcessor(DataProcessor):
        name = "redshift"
        data_types = ("redshift", "spectroscopy")
        suffixes = (".z",)

        def process(self, stream, *, name, data_type):
            z, err = (float(v) for v in stream.read().split())
            return ProcessedData(values=[ReducedValue(kind="redshift", value=z, error=err)],
                                 metadata={"method": "template"})

    class Plugin:
        @hookimpl
        def register_data_processors(self, register):
            register(RedshiftProcessor())

    tom_plugin(Plugin(), "redshifts")
    assert "redshift" in tom.data.types()
    tom.targets.create(Target(name="SN 2024abc", ra=1.0, dec=2.0))
    info = tom.data.store("SN 2024abc", b"0.0312 0.0004", name="host.z", data_type="redshift")
    assert (info.status, info.processor, info.reduced, info.metadata) == (
        "processed", "redshift", {"values": 1}, {"method": "template"})
    [value] = tom.data.values("SN 2024abc")
    assert (value.kind, value.value, value.error, value.source, value.data_product_id) == (
        "redshift", 0.0312, 0.0004, "upload", info.id)
    other = tom.data.store("SN 2024abc", b"0.05 0.01", name="other.z", data_type="spectroscopy")
    assert other.processor == "redshift"  # plugins first, even for a built-in type
    recorder = tom_plugin(Recorder(), "recorder")
    [again] = tom.data.reprocess([info.id])  # the same value again: kept, not announced as new
    assert again.reduced == {"values": 1} and recorder.batches == [] and len(tom.data.values("SN 2024abc")) == 2


class Recorder:
    def __init__(self):
        self.products = []
        self.batches = []

    @hookimpl
    def on_data_product_saved(self, tom, products):
        self.products.append([(p.original_name, p.status) for p in products])

    @hookimpl
    def on_reduced_data_saved(self, tom, batch):
        self.batches.append(batch)


def test_hook_on_data_product_saved(tom, tom_plugin, tmp_path):
    """Once per upload, with every product (failed ones too); not for a file already stored."""
    recorder = tom_plugin(Recorder(), "recorder")
    tom.targets.create(Target(name="SN 2024abc", ra=1.0, dec=2.0))
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("time,filter,magnitude\n60000,g,18\n")
    bad.write_text("time,filter,magnitude\n60000,g,x\n")
    tom.data.upload("SN 2024abc", [good, bad], data_type="photometry")
    assert recorder.products == [[("good.csv", "processed"), ("bad.csv", "failed")]]
    tom.data.upload("SN 2024abc", [good], data_type="photometry")
    assert len(recorder.products) == 1
    tom.data.store("SN 2024abc", b"\x00", name="raw.bin", data_type="other", provenance="facility", source="lco")
    assert recorder.products[-1] == [("raw.bin", "stored")]


def test_hook_on_reduced_data_saved(tom, tom_plugin):
    """Each kind of new reduced data, with the target, the source and the new rows only."""
    recorder = tom_plugin(Recorder(), "recorder")
    target = tom.targets.create(Target(name="SN 2024abc", ra=1.0, dec=2.0))
    info = tom.data.store("SN 2024abc", b"time,filter,magnitude\n60000,g,18\n60001,r,18.5\n", name="lc.csv",
                          data_type="photometry", source="ztf")
    [batch] = recorder.batches
    assert (batch.kind, batch.counts, batch.target_names, batch.source, batch.data_product_id) == (
        "photometry", {target.id: 2}, {target.id: "SN 2024abc"}, "ztf", info.id)
    points = batch.photometry[target.id]
    assert isinstance(points, PointsView) and [(p.band, p.mag, p.source) for p in points] == [
        ("g", 18.0, "ztf"), ("r", 18.5, "ztf")]
    assert points[1].time == 60001.0 and points.table.num_rows == 2
    tom.data.store("SN 2024abc", b"time,filter,magnitude\n60000,g,18\n60002,i,19\n", name="lc2.csv",
                   data_type="photometry", source="ztf")
    assert [(p.band, p.time) for p in recorder.batches[-1].photometry[target.id]] == [("i", 60002.0)]
    spectrum = "# DATE-OBS: 2024-01-01\n4000 1.0\n4001 1.1\n"
    tom.data.store("SN 2024abc", spectrum.encode(), name="s.txt", data_type="spectroscopy")
    assert recorder.batches[-1].kind == "spectroscopy"
    assert len(recorder.batches[-1].spectra[target.id][0].wavelength) == 2
    tom.data.reprocess([info.id])  # nothing new: no event
    assert len(recorder.batches) == 3
    [spectrum_product] = tom.data.list(data_type="spectroscopy")
    tom.data.reprocess([spectrum_product.id])  # the same spectrum again: not new either
    assert len(recorder.batches) == 3 and len(tom.data.spectra("SN 2024abc")) == 1


# -- the example plugin of docs/data.md -------------------------------------------------------


def load_example():
    spec = importlib.util.spec_from_file_location("tom_brightening", ROOT / "examples" / "tom_brightening.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MemoryNotifier(Notifier):
    name = "memory"
    sent: ClassVar[list] = []

    def send(self, notification, *, options):
        MemoryNotifier.sent.append(notification)


class NotifierPlugin:
    @hookimpl
    def register_notifiers(self, register):
        register(MemoryNotifier())


NOTIFY = """
[notify.channels.inbox]
notifier = "memory"

[[notify.rules]]
events = ["photometry.*"]
channels = ["inbox"]
"""


def test_example_brightening_plugin(tom_factory, tmp_path):
    MemoryNotifier.sent = []
    tom = tom_factory(plugins={"brightening": load_example(), "memory-notifier": NotifierPlugin()}, config=NOTIFY)
    tom.targets.create(Target(name="SN 2024abc", ra=1.0, dec=2.0))
    first = tmp_path / "first.csv"
    first.write_text("time,filter,magnitude,error\n60000,g,19.0,0.1\n60001,g,18.9,0.1\n60001.1,r,19.2,0.1\n")
    tom.data.upload("SN 2024abc", [first], data_type="photometry")
    assert MemoryNotifier.sent == []  # 0.1 mag: not a brightening
    second = tmp_path / "second.csv"
    second.write_text("time,filter,magnitude,error,limit\n60003,g,18.2,0.1,\n60004,g,17.6,0.1,\n"
                      "60004.1,r,18.9,0.1,\n60005,r,,,20.0\n")
    tom.data.upload("SN 2024abc", [second], data_type="photometry")
    [note] = MemoryNotifier.sent
    assert note.event == "photometry.brightening" and note.target == "SN 2024abc"
    assert note.subject == "SN 2024abc brightened by 0.70 mag in g"
    assert note.data["rises"] == [{"band": "g", "from_mag": 18.9, "from_mjd": 60001.0, "to_mag": 18.2,
                                   "to_mjd": 60003.0, "rise": 0.7, "source": "upload"}]
    # the same points again: nothing new, nothing sent; a broker's light curve counts too
    tom.data.upload("SN 2024abc", [second], data_type="photometry")
    from tomcore.domain.data import PhotometryPoint

    tom.data.add_photometry("SN 2024abc", [PhotometryPoint(time=60006.0, band="r", mag=18.1, source="alerce")],
                            source="alerce")
    assert [n.subject for n in MemoryNotifier.sent][1:] == ["SN 2024abc brightened by 0.80 mag in r"]


def test_docs_show_the_example_plugin_as_it_is():
    docs = (ROOT / "docs" / "data.md").read_text()
    match = re.search(r"<!-- examples/tom_brightening.py -->\n```python\n(.*?)```", docs, re.S)
    assert match, "docs/data.md must show examples/tom_brightening.py"
    assert match.group(1) == (ROOT / "examples" / "tom_brightening.py").read_text()
