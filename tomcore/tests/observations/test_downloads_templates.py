"""Data of completed observations go into storage through tom.data (streamed, checksummed,
skipped when already there, one event per batch); templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tomcore import hookimpl
from tomcore.errors import DuplicateError, NotFoundError, ValidationError

NOW = datetime.now(UTC)
PARAMS = {"filter": ["r"], "exposure_time": 30, "end": (NOW + timedelta(days=1)).isoformat()}


class Products:
    def __init__(self):
        self.batches = []

    @hookimpl
    def on_data_product_saved(self, tom, products):
        self.batches.append(list(products))


def test_files_of_completed_requests_are_stored_once(sim_tom, sim):
    recorder = Products()
    sim_tom.plugins.register(recorder, "products")
    [a] = sim_tom.observations.submit("sim", "SN2024abc", PARAMS)
    [b] = sim_tom.observations.submit("sim", "M31", PARAMS)
    [c] = sim_tom.observations.submit("sim", "M31", PARAMS)
    sim.complete(a.facility_id, files=3)
    sim.complete(b.facility_id, files=1)
    sim_tom.observations.update()
    assert len(sim_tom.observations.download().stored) == 4
    report = sim_tom.observations.download()
    assert report.stored == [] and report.skipped == 4  # already stored by the first run
    files = sim_tom.data.list(observation_id=a.id)
    assert sorted(p.original_name for p in files) == ["frame-1001-1.dat", "frame-1001-2.dat", "frame-1001-3.dat"]
    product = files[0]
    assert product.provenance == "facility" and product.source == "sim" and product.target_name == "SN2024abc"
    with sim_tom.data.open(product) as fh:
        assert fh.read() == sim.requests[a.facility_id]["files"][product.product_id]
    [batch] = recorder.batches  # one event for the whole download run
    assert len(batch) == 4
    assert sim_tom.observations.get(a.id).data_count == 3
    assert sim_tom.data.list(observation_id=c.id) == []  # still pending: nothing asked


def test_new_files_of_a_completed_request_are_picked_up_later(sim_tom, sim):
    [a] = sim_tom.observations.submit("sim", "SN2024abc", PARAMS)
    sim.complete(a.facility_id, files=1)
    sim_tom.observations.update()
    assert len(sim_tom.observations.download().stored) == 1
    sim.complete(a.facility_id, files=2)  # the archive published more (reduced frames late)
    assert len(sim_tom.observations.download().stored) == 2
    sim_tom.clock = lambda: datetime.now(UTC) + timedelta(hours=100)  # beyond observations.data_hours
    sim.complete(a.facility_id, files=1)
    assert sim_tom.observations.download().records == 0
    assert len(sim_tom.observations.download([a.id]).stored) == 1  # by id: always looked at


def test_a_corrupt_download_is_reported_and_retried(sim_tom, sim):
    [a] = sim_tom.observations.submit("sim", "SN2024abc", PARAMS)
    sim.complete(a.facility_id, files=2)
    sim_tom.observations.update()
    key = sorted(sim.requests[a.facility_id]["files"])[0]
    good = sim.requests[a.facility_id]["files"][key]
    original = sim.data_products

    def corrupt(facility_id):
        products = original(facility_id)
        products[0].checksum = "md5:" + "0" * 32
        return products

    sim.data_products = corrupt
    report = sim_tom.observations.download()
    assert len(report.stored) == 1 and "checksum does not match" in report.errors[0]
    sim.data_products = original
    report = sim_tom.observations.download()  # data_checked not set: tried again
    assert len(report.stored) == 1 and report.errors == []
    assert len(sim_tom.data.list(observation_id=a.id)) == 2
    assert good in [sim_tom.data.open(p).read() for p in sim_tom.data.list(observation_id=a.id)]


def test_templates(sim_tom, sim):
    templates = sim_tom.observations.templates
    info = templates.save("nightly r", "sim", {"filter": ["r"], "exposure_time": "60"})
    assert info.parameters == {"filter": ["r"], "exposure_time": 60.0} and info.observation_type == "IMAGING"
    with pytest.raises(DuplicateError):
        templates.save("nightly r", "sim", {"filter": ["g"]})
    templates.save("nightly r", "sim", {"filter": ["g"], "exposure_time": 90}, replace=True)
    with pytest.raises(ValidationError) as raised:
        templates.save("bad", "sim", {"exposure_time": "soon"})
    assert list(raised.value.errors) == ["exposure_time"]
    [record] = sim_tom.observations.submit(None, "M31", {"end": PARAMS["end"], "exposure_time": 5},
                                           template="nightly r")
    assert record.template == "nightly r" and record.parameters["filter"] == ["g"]
    assert record.parameters["exposure_time"] == 5.0  # what is given overrides the template
    with pytest.raises(ValidationError, match="is a template for sim, not manual"):
        sim_tom.observations.submit("manual", "M31", {}, template="nightly r")
    assert [t.name for t in templates.list()] == ["nightly r"] and templates.list("other") == []
    templates.delete("nightly r")
    with pytest.raises(NotFoundError):
        templates.get("nightly r")
