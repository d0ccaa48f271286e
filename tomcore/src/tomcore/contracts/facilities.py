"""The facility contract: request observations, follow them, fetch their data.

A facility plugin subclasses :class:`Facility` and registers an instance through
``register_facilities``. It declares:

* its ``sites()`` (code, latitude, longitude, elevation), which the planner uses, offline;
* its ``instruments()`` and their options (filters, modes, exposure limits);
* its ``observation_types``: for each type the :class:`~tomcore.contracts.base.Param`\\ s it
  takes. ``tom observe FACILITY`` builds its options from them and the core checks values
  before the facility sees them;
* which states are terminal, which of those are failures and which mean success.

and implements ``validate`` (a dry run: field-level errors and the estimated duration),
``submit`` (returns the facility's ids), ``status`` of many requests in one call,
``cancel``, and the ``data_products`` of a completed request with ``open_product`` to stream
one. Everything else (records, history, events, cadences, downloads into storage) is the
core's job.

Errors: a facility raises :class:`tomcore.errors.ValidationError` (with fields) when it
refuses a request, :class:`tomcore.errors.AuthenticationError` for bad credentials and
:class:`tomcore.errors.ServiceError` when the service fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import IO, Any, ClassVar

import attrs

from tomcore.contracts.base import Component, Param
from tomcore.domain.observations import Site
from tomcore.domain.targets import Target

__all__ = [
    "Facility",
    "Instrument",
    "RemoteProduct",
    "RequestStatus",
    "Site",
    "Submission",
    "ValidationResult",
]


@attrs.frozen
class Instrument:
    """An instrument offered by a facility, with what users choose on it.

    :param code: what requests name it by (``1M0-SCICAM-SINISTRO``).
    :param kind: ``IMAGING`` or ``SPECTRA`` (facilities may use others).
    :param filters: filter codes (``gp``, ``rp``...).
    :param modes: readout modes; the first is the default unless ``default_mode`` says.
    :param optical_elements: every optical-element group (``filters``, ``slits``...) with its codes.
    :param telescope: the telescope class or name it is mounted on (``1m0``).
    """

    code: str
    name: str = ""
    kind: str = "IMAGING"
    filters: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    default_mode: str | None = None
    optical_elements: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    min_exposure: float | None = None
    max_exposure: float | None = None
    telescope: str | None = None


@attrs.define(kw_only=True)
class ValidationResult:
    """A dry run: ``errors`` by field (empty when valid) and the estimated duration.

    Field names are the observation parameters' names where the facility can tell
    (``filter``, ``max_airmass``), else a path into its own request (``requests.0.windows``).
    """

    errors: dict[str, list[str]] = attrs.Factory(dict)
    duration: float | None = None  # seconds
    payload: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors


@attrs.define(kw_only=True)
class Submission:
    """What a submission returned: the facility's ids and the exact payload sent.

    :param facility_ids: one id per request the facility made (the core keeps one record each).
    :param payload: the exact body submitted.
    :param status: the requests' initial state.
    :param response: what the facility answered (kept with the record).
    """

    facility_ids: list[str]
    payload: Any
    status: str = "PENDING"
    response: Any = None


@attrs.define(kw_only=True)
class RequestStatus:
    """The current state of one request at the facility.

    :param detail: anything worth keeping in the history (site, telescope, reason...).
    """

    facility_id: str
    status: str
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    detail: dict[str, Any] = attrs.Factory(dict)
    raw: Any = attrs.field(default=None, repr=False)


@attrs.define(kw_only=True)
class RemoteProduct:
    """A file the facility has for a request (a frame in an archive).

    :param key: the facility's id of the file (stable; ``url`` may be short-lived).
    :param checksum: ``md5:<hex>`` or ``sha256:<hex>`` when the facility publishes one; the
        core checks the download against it.
    """

    facility_id: str
    key: str
    name: str
    url: str | None = None
    data_type: str = "fits"
    size: int | None = None
    checksum: str | None = None
    time: datetime | None = None
    raw: Any = attrs.field(default=None, repr=False)


class Facility(Component):
    """Base class of facilities."""

    #: False for facilities that only record observations made elsewhere (no polling).
    robotic: ClassVar[bool] = True
    #: Observation type name -> the parameters it takes (the first type is the default).
    observation_types: ClassVar[Mapping[str, tuple[Param, ...]]] = {}
    #: The state a new request is in.
    initial_state: ClassVar[str] = "PENDING"
    #: Every state the facility reports, for ``--status`` choices and docs.
    states: ClassVar[tuple[str, ...]] = ()
    #: States after which a request normally does not change.
    terminal_states: ClassVar[frozenset[str]] = frozenset()
    #: Terminal states that mean the request failed (cadences react to these).
    failed_states: ClassVar[frozenset[str]] = frozenset()
    #: Terminal states that mean it was observed (its data are then downloaded).
    success_states: ClassVar[frozenset[str]] = frozenset()
    #: The parameters holding the observing window: a cadence sets them for each epoch.
    window_params: ClassVar[tuple[str, str] | None] = ("start", "end")
    #: How many requests one :meth:`status` call should be given (None: the core's
    #: ``observations.batch_size``). A facility that answers for any number of requests with
    #: one listing (LCO) asks for all of them at once.
    status_batch: ClassVar[int | None] = None

    # -- description ---------------------------------------------------------------------------

    def sites(self) -> list[Site]:
        """Where the facility observes from (used by the planner; must work offline)."""
        return []

    def instruments(self) -> list[Instrument]:
        """The instruments users can request (may ask the facility; cache it)."""
        return []

    def parameters(self, observation_type: str) -> tuple[Param, ...]:
        """The parameters of one observation type."""
        from tomcore.errors import ValidationError

        try:
            return tuple(self.observation_types[observation_type])
        except KeyError:
            known = ", ".join(self.observation_types) or "none"
            raise ValidationError("unknown observation type", {"type": [f"{observation_type!r} is not one of {known}"]}) from None

    def all_parameters(self) -> tuple[Param, ...]:
        """Every parameter of every observation type, once (for building CLI options)."""
        seen: dict[str, Param] = {}
        for params in self.observation_types.values():
            for param in params:
                seen.setdefault(param.name, param)
        return tuple(seen.values())

    def default_observation_type(self, params: Mapping[str, Any]) -> str:
        """The type to use when the user names none (default: the first declared)."""
        for name in self.observation_types:
            return name
        return "OBSERVATION"

    def is_terminal(self, status: str) -> bool:
        return status in self.terminal_states

    def is_failed(self, status: str) -> bool:
        return status in self.failed_states

    def is_success(self, status: str) -> bool:
        return status in self.success_states

    def watch_hours(self) -> float:
        """How long to keep polling a request after a terminal state, because the facility
        can reopen it (LCO: a late completion, or BAD_DATA sending COMPLETED back to
        PENDING). 0 stops at the first terminal state."""
        return 0.0

    def observation_url(self, facility_id: str) -> str | None:
        """The request's page on the facility's website, if any."""
        return None

    # -- requests ------------------------------------------------------------------------------

    def validate(self, target: Target, observation_type: str, params: Mapping[str, Any]) -> ValidationResult:
        """Check a request without submitting it. ``params`` are already converted and
        checked against :meth:`parameters`."""
        raise NotImplementedError

    def submit(self, target: Target, observation_type: str, params: Mapping[str, Any], *, name: str) -> Submission:
        """Submit a request; raise :class:`tomcore.errors.ValidationError` when refused.

        ``name`` is unique per submission (the core makes it); a facility that can look
        requests up by name uses it to avoid submitting twice after a timeout.
        """
        raise NotImplementedError

    def find_submission(self, name: str) -> Submission | None:
        """The submission made under ``name``, if the facility can tell (used to recover
        when a submission's outcome is unknown). ``None``: not found or cannot tell."""
        return None

    def status(self, facility_ids: Sequence[str], *, since: datetime | None = None,
               known: Mapping[str, str] | None = None) -> dict[str, RequestStatus]:
        """Current status of many requests, in as few calls as the facility allows.

        ``since`` is the earliest submission time among them (a hint for listing requests
        in bulk); ``known`` the status the TOM has for each (a facility may skip extra
        calls, such as reading the schedule, for requests that did not change). Requests
        missing from the answer are asked again next time.
        """
        raise NotImplementedError

    def cancel(self, facility_ids: Sequence[str]) -> dict[str, str]:
        """Cancel requests; return the new state of each (a request already terminal
        keeps its state)."""
        raise NotImplementedError

    # -- data ----------------------------------------------------------------------------------

    def data_products(self, facility_id: str) -> list[RemoteProduct]:
        """The files of a (completed) request, every page of them."""
        return []

    def open_product(self, product: RemoteProduct) -> IO[bytes]:
        """A binary stream of the product's bytes (the core copies it into storage in
        chunks and closes it)."""
        raise NotImplementedError
