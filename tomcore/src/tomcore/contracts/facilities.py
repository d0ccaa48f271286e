"""The facility contract: request observations, follow them, fetch their data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO, Any, ClassVar

import attrs

from tomcore.contracts.base import Component, Param
from tomcore.domain.observations import Site
from tomcore.domain.targets import Target


@attrs.frozen
class Instrument:
    """An instrument offered by a facility, with what users choose on it."""

    code: str
    name: str = ""
    kind: str = "IMAGING"  # IMAGING, SPECTRA, ...
    filters: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    min_exposure: float | None = None
    max_exposure: float | None = None


@attrs.define(kw_only=True)
class ValidationResult:
    """A dry run: ``errors`` by field (empty when valid) and the estimated duration."""

    errors: dict[str, list[str]] = attrs.Factory(dict)
    duration: float | None = None  # seconds
    payload: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors


@attrs.define(kw_only=True)
class Submission:
    """What a submission returned: the facility's ids and the exact payload sent."""

    facility_ids: list[str]
    payload: Any
    status: str = "PENDING"


@attrs.define(kw_only=True)
class RequestStatus:
    """The current state of one request at the facility."""

    facility_id: str
    status: str
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    raw: Any = None


@attrs.define(kw_only=True)
class RemoteProduct:
    """A file the facility has for a request (a frame in an archive)."""

    facility_id: str
    name: str
    url: str
    data_type: str = "fits"
    size: int | None = None
    checksum: str | None = None  # "md5:..." or "sha256:..."
    time: datetime | None = None
    raw: Any = None


class Facility(Component):
    """Base class of facilities."""

    #: False for facilities that only record observations made elsewhere.
    robotic: ClassVar[bool] = True
    #: Observation type name -> the parameters it takes.
    observation_types: ClassVar[Mapping[str, tuple[Param, ...]]] = {}
    #: States after which a request will not change (a reopened one is reported anew).
    terminal_states: ClassVar[frozenset[str]] = frozenset()
    #: Terminal states that mean the request failed.
    failed_states: ClassVar[frozenset[str]] = frozenset()

    def sites(self) -> list[Site]:
        """Where the facility observes from (used by the planner)."""
        return []

    def instruments(self) -> list[Instrument]:
        return []

    def validate(self, target: Target, observation_type: str, params: Mapping[str, Any]) -> ValidationResult:
        """Check a request without submitting it."""
        raise NotImplementedError

    def submit(self, target: Target, observation_type: str, params: Mapping[str, Any]) -> Submission:
        """Submit a request; raise :class:`tomcore.errors.ValidationError` when refused."""
        raise NotImplementedError

    def status(self, facility_ids: Sequence[str]) -> dict[str, RequestStatus]:
        """Current status of many requests, in as few calls as the facility allows."""
        raise NotImplementedError

    def cancel(self, facility_ids: Sequence[str]) -> None:
        raise NotImplementedError

    def data_products(self, facility_id: str) -> list[RemoteProduct]:
        """The files of a (completed) request."""
        return []

    def open_product(self, product: RemoteProduct) -> IO[bytes]:
        """A stream of the product's bytes (the core copies it into storage)."""
        raise NotImplementedError
