"""Benchmark: keeping many observation records current, advancing many cadences, and the
LCO plugin's status calls.

1. ``--records`` open records at an in-memory facility (tomcore.testing.facility), a fifth of
   which have changed: one ``tom.observations.update()`` (batched status calls, history
   rows, one event), then a second one with nothing new.
2. ``--cadences`` active cadences whose first epoch is due: one ``tom.cadences.advance()``
   (each epoch claimed, validated, submitted, recorded).
3. ``--lco`` open requests at the LCO plugin's fake portal over HTTP on 127.0.0.1: one update,
   counting the HTTP calls (the TOM Toolkit makes two per record, tom_base #1378).

Prints the figures. ``TOM_BENCH_DATABASE_URL`` runs it on PostgreSQL (an admin URL).

    python bench/observations.py [--records 10000] [--cadences 300] [--lco 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def seed_records(tom: Any, facility: str, ids: list[str], target_id: int) -> None:
    """Open records as if submitted earlier (bulk insert: the setup is not what is timed)."""
    from sqlalchemy import insert

    from tomcore.store.models import ObservationRecordRow, ObservationStatusRow

    now = datetime.now(UTC) - timedelta(hours=1)
    rows = [{"target_id": target_id, "facility": facility, "observation_type": "IMAGING", "facility_id": fid,
             "name": f"bench {fid}", "parameters": {}, "payload": None, "status": "PENDING", "terminal": False,
             "failed": False, "success": False, "data_count": 0, "created": now, "modified": now} for fid in ids]
    with tom.db.session() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(ObservationRecordRow), rows[start:start + 5000])
        from sqlalchemy import select

        record_ids = session.execute(select(ObservationRecordRow.id).where(ObservationRecordRow.facility == facility)).scalars().all()
        history = [{"record_id": rid, "status": "PENDING", "time": now, "source": "submit"} for rid in record_ids]
        for start in range(0, len(history), 5000):
            session.execute(insert(ObservationStatusRow), history[start:start + 5000])


def bench_records(tom: Any, sim: Any, count: int, target_id: int) -> None:
    ids = [str(100000 + i) for i in range(count)]
    for fid in ids:
        sim.requests[fid] = {"state": "PENDING", "target": "BENCH", "params": {}, "name": f"bench {fid}", "files": {},
                             "start": None}
    seed_records(tom, sim.name, ids, target_id)
    for fid in ids[::5]:
        sim.requests[fid]["state"] = "COMPLETED"
    events = []
    tom.plugins.register(type("Counter", (), {"on_observation_status_changed": _hook(events)})(), "bench-events")
    start = time.perf_counter()
    report = tom.observations.update()
    first = time.perf_counter() - start
    calls = len(sim.status_calls)
    start = time.perf_counter()
    again = tom.observations.update()
    second = time.perf_counter() - start
    print(f"status update of {count:,} open records ({len(report.changes):,} changed): {first:.2f} s "
          f"({count / first:,.0f} records/s), {calls} status calls, {len(events)} event(s)")
    print(f"  again, nothing new: {second:.2f} s ({again.checked:,} checked, {len(again.changes)} changed)")


def _hook(events: list[Any]) -> Any:
    from tomcore import hookimpl

    @hookimpl
    def on_observation_status_changed(self: Any, tom: Any, changes: list[Any]) -> None:
        events.append(len(changes))

    return on_observation_status_changed


def bench_cadences(tom: Any, count: int) -> None:
    from tomcore.services.cadences import CadenceService

    CadenceService.observable = lambda self, target, facility, airmass: lambda s, e: None  # type: ignore[method-assign]
    start = time.perf_counter()
    for i in range(count):
        tom.cadences.start("BENCH", "sim", "repeat", strategy_params={"every_hours": 24},
                           observation_params={"filter": ["r"], "exposure_time": 30}, name=f"bench {i}", advance=False)
    created = time.perf_counter() - start
    start = time.perf_counter()
    report = tom.cadences.advance()
    advanced = time.perf_counter() - start
    print(f"cadences: {count} started (checked, planned, created) in {created:.2f} s; one advance submitted "
          f"{len(report.submitted)} epochs in {advanced:.2f} s ({len(report.submitted) / advanced:,.0f} epochs/s)")
    start = time.perf_counter()
    report = tom.cadences.advance()
    print(f"  again, nothing due: {time.perf_counter() - start:.2f} s ({len(report.submitted)} submitted)")


def bench_lco(tom_factory: Any, count: int) -> None:
    from tom_facility_lco.fake import FakeLCO
    from tom_facility_lco.fake.common import iso as _iso
    from tomcore.domain.targets import Target
    from tomcore.testing.fakehttp import start as serve

    now = datetime.now(UTC)
    lco = FakeLCO(semesters=[(now - timedelta(days=100), now + timedelta(days=100))])
    portal, archive = serve(lco.portal), serve(lco.archive)
    lco.set_base_urls(portal.url, archive.url)
    try:
        tom = tom_factory("lco", config=lco.config_toml())
        tom.targets.save([Target(name="SN2099zz", ra=210.774, dec=54.274)])
        target = tom.targets.get("SN2099zz")
        body = {"name": "bench", "proposal": "LCO2099A-001", "ipp_value": 1.0, "operator": "SINGLE",
                "observation_type": "NORMAL", "requests": [{
                    "location": {"telescope_class": "1m0"},
                    "windows": [{"start": _iso(now), "end": _iso(now + timedelta(days=3))}],
                    "configurations": [{"type": "EXPOSE", "instrument_type": "1M0-SCICAM-SINISTRO",
                                        "instrument_configs": [{"exposure_time": 60, "exposure_count": 1,
                                                                "optical_elements": {"filter": "rp"}}],
                                        "acquisition_config": {}, "guiding_config": {}, "constraints": {},
                                        "target": {"type": "ICRS", "name": "SN2099zz", "ra": 210.774, "dec": 54.274}}]}]}
        durations = {"requests": [{"duration": 600}], "duration": 600}
        for i in range(count):
            lco.portal.lco_store(dict(body, name=f"bench {i}"), durations)
        ids = [str(r) for r in lco.request_ids()]
        seed_records(tom, "lco", ids, target.id)
        for rid in ids[::10]:
            lco.complete(rid, frames=0, raw_frames=False)
        lco.portal.requests.clear()
        start = time.perf_counter()
        report = tom.observations.update()
        elapsed = time.perf_counter() - start
        calls = len(lco.portal.requests)
        print(f"LCO: {count:,} open requests over HTTP ({len(report.changes)} changed): {elapsed:.2f} s, "
              f"{calls} HTTP calls ({calls - len(report.changes)} listing pages + {len(report.changes)} schedule "
              f"reads), versus {2 * count:,} for one call per record and its schedule")
    finally:
        portal.stop()
        archive.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--cadences", type=int, default=300)
    parser.add_argument("--lco", type=int, default=2000)
    args = parser.parse_args()

    from tomcore.domain.targets import Target
    from tomcore.testing.facility import SimulatedFacility
    from tomcore.testing.toms import make_tom

    workdir = Path(tempfile.mkdtemp(prefix="tom-bench-obs-"))
    cleanups = []

    def factory(name: str, **kwargs: Any) -> Any:
        tom, cleanup = make_tom(workdir / name, database_url=os.environ.get("TOM_BENCH_DATABASE_URL"), **kwargs)
        cleanups.append(cleanup)
        return tom

    try:
        sim = SimulatedFacility()
        tom = factory("sim", load_plugins=[], plugins={"sim": sim.plugin()})
        print(f"database: {tom.db.dialect}")
        tom.targets.save([Target(name="BENCH", ra=150.0, dec=-30.0)])
        target_id = tom.targets.get("BENCH").id
        bench_records(tom, sim, args.records, target_id)
        bench_cadences(tom, args.cadences)
        if args.lco:
            bench_lco(factory, args.lco)
    finally:
        for cleanup in reversed(cleanups):
            cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
