"""An in-memory broker for tests that need one without HTTP (the alerts service, the runner).

    from tomcore.testing.brokers import memory_tom
    tom, broker = memory_tom(tom_factory)
    broker.add("ZTF24aaa", 150.0, 2.0, points=5)
    tom.alerts.save_query("q", "memory", {})
    tom.alerts.run_saved(["q"])

Plugin authors testing a real broker use a fake HTTP service instead (``fake_service``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from tomcore import hookimpl
from tomcore.contracts.base import Param
from tomcore.contracts.brokers import BadRecord, Broker
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint
from tomcore.domain.times import datetime_to_mjd
from tomcore.errors import NotFoundError, ServiceError


def make_points(oid: str, n: int, start: float = 60300.0, source: str = "memory") -> list[PhotometryPoint]:
    points = []
    for i in range(n):
        if i % 4 == 3:
            points.append(PhotometryPoint(time=start + i, band="r", limit=20.5, telescope="ZTF", source=source,
                                          source_id=oid))
        else:
            points.append(PhotometryPoint(time=start + i, band="g" if i % 2 else "r", mag=19.0 + i / 100,
                                          mag_err=0.05, telescope="ZTF", source=source, source_id=oid))
    return points


class MemoryBroker(Broker):
    """Objects held in a dict; pages of ``page_size``; ``fail_on_page`` raises a ServiceError."""

    name = "memory"
    title = "Memory"
    supports_since = True
    params = (
        Param("prefix", help="Only objects whose id starts with this."),
        Param("page_size", "int", default=2, minimum=1),
        Param("kind", choices=("a", "b")),
    )

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.curves: dict[str, list[PhotometryPoint] | Exception] = {}
        self.fail_on_page: int | None = None
        self.fail_curve: Exception | None = None
        self.calls: list[dict[str, Any]] = []

    def add(self, oid: str, ra: float, dec: float, *, lastmjd: float = 60310.0, points: int = 5,
            aliases: tuple[str, ...] = (), name: str | None = None) -> None:
        self.objects[oid] = {"oid": oid, "ra": ra, "dec": dec, "lastmjd": lastmjd, "aliases": list(aliases),
                             "name": name or oid}
        self.curves[oid] = make_points(oid, points)

    def query(self, params: Mapping[str, Any], *, limit: int | None = None,
              since: datetime | None = None) -> Iterator[AlertPage]:
        self.calls.append({"params": dict(params), "limit": limit, "since": since})
        rows = [o for oid, o in sorted(self.objects.items()) if oid.startswith(params.get("prefix", ""))]
        if since is not None:
            rows = [o for o in rows if o["lastmjd"] >= datetime_to_mjd(since)]
        if limit is not None:
            rows = rows[:limit]
        size = params.get("page_size", 2)
        for number, start in enumerate(range(0, len(rows), size), 1):
            if self.fail_on_page == number:
                raise ServiceError("Memory", f"GET http://memory/objects?page={number} answered 503 after 2 retries")
            page = AlertPage()
            for o in rows[start:start + size]:
                if o["ra"] is None:
                    page.problems.append(f"{o['oid']}: missing field ra")
                    continue
                page.alerts.append(Alert(broker=self.name, object_id=o["oid"], name=o["name"], ra=o["ra"],
                                         dec=o["dec"], aliases=o["aliases"], extras={"memory_score": 0.5}))
            yield page

    def fetch(self, object_id: str) -> Alert:
        if object_id not in self.objects:
            raise NotFoundError(f"Memory has no object {object_id!r}")
        o = self.objects[object_id]
        return Alert(broker=self.name, object_id=object_id, name=o["name"], ra=o["ra"], dec=o["dec"],
                     light_curve=self.light_curve(object_id))

    def light_curve(self, object_id: str) -> list[PhotometryPoint]:
        if self.fail_curve is not None:
            raise self.fail_curve
        curve = self.curves.get(object_id)
        if isinstance(curve, Exception):
            raise curve
        if curve is None:
            raise BadRecord(f"{object_id}: no light curve")
        return list(curve)


class MemoryPlugin:
    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    @hookimpl
    def register_brokers(self, register: Any) -> None:
        register(self.broker)


def memory_tom(tom_factory: Any, name: str = "tom", **kwargs: Any) -> tuple[Any, MemoryBroker]:
    broker = MemoryBroker()
    tom = tom_factory(name, load_plugins=[], plugins={"memory": MemoryPlugin(broker)}, **kwargs)
    return tom, broker
