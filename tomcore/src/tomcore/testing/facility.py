"""A simulated robotic facility for tests: requests live in memory and the test moves them
along (PENDING -> COMPLETED with files, FAILED, EXPIRED, reopened), so status upkeep,
cadences, downloads and notifications can be tested end to end without any service.

::

    from tomcore.testing.facility import SimulatedFacility

    sim = SimulatedFacility()
    tom = tom_factory(plugins={"sim": sim.plugin()})
    [record] = tom.observations.submit("sim", "SN2024abc", {"filter": ["r"], "exposure_time": 30, "end": ...})
    sim.complete(record.facility_id, files=2)
    tom.observations.update()
"""

from __future__ import annotations

import hashlib
import io
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any, ClassVar

from tomcore import hookimpl
from tomcore.contracts.base import Param
from tomcore.contracts.facilities import (
    Facility,
    RemoteProduct,
    RequestStatus,
    Submission,
    ValidationResult,
)
from tomcore.domain.observations import Site
from tomcore.domain.targets import Target
from tomcore.errors import ServiceError, ValidationError

PENDING, COMPLETED, FAILED, EXPIRED, CANCELED = "PENDING", "COMPLETED", "FAILED", "EXPIRED", "CANCELED"


class SimulatedFacility(Facility):
    """An in-memory robotic facility. ``name`` may be changed per instance."""

    title = "Simulated observatory"
    description = "An in-memory facility for tests: the test completes, fails or reopens requests."
    observation_types: ClassVar[Mapping[str, tuple[Param, ...]]] = {
        "IMAGING": (
            Param("filter", multiple=True, required=True, help="Filters."),
            Param("exposure_time", "float", required=True, minimum=0.0, help="Seconds."),
            Param("start", "datetime", help="Window start."),
            Param("end", "datetime", required=True, help="Window end."),
            Param("max_airmass", "float", default=2.0, minimum=1.0, maximum=5.0, help="Airmass limit."),
        ),
    }
    states = (PENDING, COMPLETED, FAILED, EXPIRED, CANCELED)
    terminal_states = frozenset({COMPLETED, FAILED, EXPIRED, CANCELED})
    failed_states = frozenset({FAILED, EXPIRED, CANCELED})
    success_states = frozenset({COMPLETED})

    def __init__(self, name: str = "sim", *, watch: float = 24.0,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.name = name  # type: ignore[misc]
        self.watch = watch
        self.clock = clock or (lambda: datetime.now(UTC))
        self.requests: dict[str, dict[str, Any]] = {}
        self.refuse: dict[str, str] = {}  # target name -> reason the dry run gives
        self.status_calls: list[list[str]] = []
        self.submissions: list[dict[str, Any]] = []
        self.failing_status = 0  # the next N status calls raise ServiceError
        self.failing_submit = 0
        self.lock = threading.Lock()
        self._ids = itertools.count(1001)

    def plugin(self) -> object:
        """A plugin object registering this facility (``tom_factory(plugins={...})``)."""
        facility = self

        class Plugin:
            @hookimpl
            def register_facilities(self, register: Callable[[Any], None]) -> None:
                register(facility)

        return Plugin()

    # -- the test's controls -------------------------------------------------------------------

    def set_state(self, request_id: str, state: str, files: int = 0) -> None:
        with self.lock:
            request = self.requests[str(request_id)]
            request["state"] = state
            if state == COMPLETED:
                request["start"] = self.clock()
                first = len(request["files"]) + 1
                for number in range(first, first + files):
                    key = f"{request_id}-{number}"
                    request["files"][key] = f"frame {key} of {request['target']}\n".encode() * 40

    def complete(self, request_id: str, files: int = 2) -> None:
        self.set_state(request_id, COMPLETED, files)

    def fail(self, request_id: str) -> None:
        self.set_state(request_id, FAILED)

    def reopen(self, request_id: str) -> None:
        self.set_state(request_id, PENDING)

    # -- the facility --------------------------------------------------------------------------

    def sites(self) -> list[Site]:
        return [Site(code="sim", name="Simulated site", latitude=-30.0, longitude=-70.0, elevation=2000.0,
                     facility=self.name)]

    def watch_hours(self) -> float:
        return self.watch

    def observation_url(self, facility_id: str) -> str | None:
        return f"https://sim.invalid/requests/{facility_id}"

    def validate(self, target: Target, observation_type: str, params: Mapping[str, Any]) -> ValidationResult:
        errors: dict[str, list[str]] = {}
        if target.name in self.refuse:
            errors["request"] = [self.refuse[target.name]]
        end, start = params.get("end"), params.get("start") or self.clock()
        if end is not None and end <= start:
            errors.setdefault("end", []).append("is not after the start")
        duration = 60.0 + float(params.get("exposure_time", 0.0)) * len(params.get("filter", []))
        return ValidationResult(errors=errors, duration=duration, payload=self._payload(target, params))

    def _payload(self, target: Target, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"target": target.name, "ra": target.ra, "dec": target.dec,
                **{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in params.items()}}

    def submit(self, target: Target, observation_type: str, params: Mapping[str, Any], *, name: str) -> Submission:
        with self.lock:
            if self.failing_submit:
                self.failing_submit -= 1
                raise ServiceError(self.name, "submission failed (simulated)", status=503)
        result = self.validate(target, observation_type, params)
        if result.errors:
            raise ValidationError("refused", result.errors)
        with self.lock:
            request_id = str(next(self._ids))
            self.requests[request_id] = {"state": PENDING, "target": target.name, "params": dict(params), "name": name,
                                         "files": {}, "start": None}
            self.submissions.append({"id": request_id, "name": name, "target": target.name, "params": dict(params)})
        return Submission(facility_ids=[request_id], payload=result.payload, status=PENDING)

    def find_submission(self, name: str) -> Submission | None:
        with self.lock:
            for request_id, request in self.requests.items():
                if request["name"] == name:
                    return Submission(facility_ids=[request_id], payload=None, status=request["state"])
        return None

    def status(self, facility_ids: Sequence[str], *, since: datetime | None = None,
               known: Mapping[str, str] | None = None) -> dict[str, RequestStatus]:
        with self.lock:
            self.status_calls.append(list(facility_ids))
            if self.failing_status:
                self.failing_status -= 1
                raise ServiceError(self.name, "answered 500 after 2 retries (simulated)", status=500)
            result = {}
            for request_id in facility_ids:
                request = self.requests.get(str(request_id))
                if request is None:
                    continue
                result[str(request_id)] = RequestStatus(
                    facility_id=str(request_id), status=request["state"], scheduled_start=request["start"],
                    scheduled_end=request["start"], detail={"site": "sim"} if request["start"] else {},
                )
            return result

    def cancel(self, facility_ids: Sequence[str]) -> dict[str, str]:
        result = {}
        with self.lock:
            for request_id in facility_ids:
                request = self.requests[str(request_id)]
                if request["state"] == PENDING:
                    request["state"] = CANCELED
                result[str(request_id)] = request["state"]
        return result

    def data_products(self, facility_id: str) -> list[RemoteProduct]:
        with self.lock:
            files = dict(self.requests[str(facility_id)]["files"])
        return [
            RemoteProduct(facility_id=str(facility_id), key=key, name=f"frame-{key}.dat", data_type="other",
                          size=len(content), checksum="md5:" + hashlib.md5(content).hexdigest())
            for key, content in sorted(files.items())
        ]

    def open_product(self, product: RemoteProduct) -> IO[bytes]:
        with self.lock:
            return io.BytesIO(self.requests[product.facility_id]["files"][product.key])
