"""The ``lco`` facility: the Las Cumbres Observatory network through its Observation Portal
and Science Archive."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import IO, Any, ClassVar

from tom_facility_lco.client import LCOClient, parse_time
from tom_facility_lco.params import DEFAULT_INSTRUMENT, MUSCAT_CHANNELS, MUSCAT_IMAGING, OBSERVATION_TYPES, SPECTRA
from tom_facility_lco.sites import SITES
from tomcore.config import Setting
from tomcore.contracts.facilities import (
    Facility,
    Instrument,
    RemoteProduct,
    RequestStatus,
    Submission,
    ValidationResult,
)
from tomcore.domain.observations import Site
from tomcore.domain.targets import Target
from tomcore.errors import ServiceError, ValidationError

log = logging.getLogger("tom_facility_lco")

PENDING = "PENDING"
COMPLETED = "COMPLETED"
WINDOW_EXPIRED = "WINDOW_EXPIRED"
CANCELED = "CANCELED"
FAILURE_LIMIT_REACHED = "FAILURE_LIMIT_REACHED"
#: Not a request state of the current portal (observations only); accepted as a failure.
NOT_ATTEMPTED = "NOT_ATTEMPTED"

#: Submissions are tried at most this many times, with a look-up by name before each retry.
SUBMIT_ATTEMPTS = 2


def _reduction_level(frame: Mapping[str, Any]) -> int | None:
    value = frame.get("reduction_level", frame.get("RLEVEL"))
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _data_type(frame: Mapping[str, Any], filename: str) -> str:
    lower = filename.lower()
    config = str(frame.get("configuration_type") or frame.get("OBSTYPE") or "").upper()
    if lower.endswith((".tar.gz", ".tgz", ".zip")):
        return "other"
    if "SPECTRUM" in config:
        return "spectroscopy"
    if config in ("EXPOSE", "REPEAT_EXPOSE", "STANDARD"):
        return "image"
    return "fits"


class _Download:
    """A file-like stream over a streaming ``requests`` response; closing it releases the
    connection."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._raw = response.raw
        self._raw.decode_content = True

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(None if size is None or size < 0 else size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> _Download:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LCOFacility(Facility):
    """Imaging (MuSCAT's four channels at once too) and spectroscopy on the LCO 0.4 m, 1 m and
    2 m telescopes."""

    name = "lco"
    title = "LCO"
    description = "Las Cumbres Observatory global telescope network (Observation Portal and Science Archive)."
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("api_key", None, secret=True, help="API token from your LCO Observation Portal profile."),
        Setting("portal_url", "https://observe.lco.global", help="Observation Portal base URL."),
        Setting("archive_url", "https://archive-api.lco.global", help="Science Archive base URL."),
        Setting("proposal", None, help="Proposal requests are charged to by default."),
        Setting("watch_hours", 72.0, "float", help="Hours to keep polling a request after it ends (a "
                "completed request can reopen when its data are marked bad)."),
        Setting("reduction_levels", ["91", "90"], "list", help="Archive reduction levels to download "
                "(91: BANZAI images, 90: spectra, 0: raw); empty for every frame."),
        Setting("instruments_cache_seconds", 300, "int", help="How long the instrument list is cached."),
    )
    observation_types = OBSERVATION_TYPES
    initial_state = PENDING
    states = (PENDING, COMPLETED, WINDOW_EXPIRED, CANCELED, FAILURE_LIMIT_REACHED)
    terminal_states = frozenset({COMPLETED, WINDOW_EXPIRED, CANCELED, FAILURE_LIMIT_REACHED, NOT_ATTEMPTED})
    failed_states = frozenset({WINDOW_EXPIRED, CANCELED, FAILURE_LIMIT_REACHED, NOT_ATTEMPTED})
    success_states = frozenset({COMPLETED})
    window_params = ("start", "end")
    status_batch = 20000  # one listing of the groups answers for all of them

    _client: LCOClient | None = None

    # -- configuration -------------------------------------------------------------------------

    def bind(self, config: Any, plugin_name: str) -> None:
        super().bind(config, plugin_name)
        if self._client is not None:
            self._client.close()
        self._client = None

    @property
    def client(self) -> LCOClient:
        if self._client is None:
            key = self.config.get("api_key")
            headers = {"Authorization": f"Token {key}"} if key else {}
            portal = self.http_client(self.config["portal_url"], service="LCO portal", headers=headers)
            archive = self.http_client(self.config["archive_url"], service="LCO archive", headers=headers)
            downloads = self.http_client(self.config["archive_url"], service="LCO archive download")
            self._client = LCOClient(portal, archive, downloads, has_token=bool(key),
                                     instruments_ttl=float(self.config.get("instruments_cache_seconds") or 0))
        return self._client

    def _require_token(self) -> None:
        self.config.require("api_key")

    # -- description ---------------------------------------------------------------------------

    def sites(self) -> list[Site]:
        return list(SITES)

    def instruments(self) -> list[Instrument]:
        result = []
        for code, info in sorted(self.client.instruments().items()):
            groups = {
                group: tuple(str(e.get("code")) for e in elements if e.get("schedulable", True))
                for group, elements in (info.get("optical_elements") or {}).items()
            }
            readout = (info.get("modes") or {}).get("readout") or {}
            result.append(Instrument(
                code=code,
                name=str(info.get("name") or code),
                kind="SPECTRA" if str(info.get("type", "")).upper() == "SPECTRA" else "IMAGING",
                filters=groups.get("filters", ()),
                modes=tuple(str(m.get("code")) for m in readout.get("modes", []) if m.get("schedulable", True)),
                default_mode=readout.get("default"),
                optical_elements=groups,
                telescope=info.get("class"),
            ))
        return result

    def default_observation_type(self, params: Mapping[str, Any]) -> str:
        from tom_facility_lco.muscat import is_muscat

        instrument = str(params.get("instrument") or "").upper()
        if params.get("slit") or "FLOYDS" in instrument:
            return SPECTRA
        if "MUSCAT" in instrument or any(params.get(f"exposure_time_{band}") is not None for band in MUSCAT_CHANNELS):
            return MUSCAT_IMAGING
        if params.get("instrument"):
            info = self.client.instruments().get(str(params["instrument"]))
            if info and str(info.get("type", "")).upper() == "SPECTRA":
                return SPECTRA
            if info and is_muscat(info):
                return MUSCAT_IMAGING
        return "IMAGING"

    def watch_hours(self) -> float:
        return float(self.config.get("watch_hours") or 0.0)

    def observation_url(self, facility_id: str) -> str | None:
        return f"{str(self.config['portal_url']).rstrip('/')}/requests/{facility_id}"

    # -- building requests ---------------------------------------------------------------------

    def _proposal(self, params: Mapping[str, Any]) -> str:
        proposal = params.get("proposal") or self.config.get("proposal")
        if proposal:
            return str(proposal)
        current = self.client.current_proposals()
        if len(current) == 1:
            return current[0]
        reason = (f"choose one of your current proposals: {', '.join(current)}" if current
                  else "your profile lists no current proposal")
        raise ValidationError("no proposal", {"proposal": [f"is not set (TOM_LCO_PROPOSAL or --proposal); {reason}"]})

    def _instrument(self, observation_type: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        code = str(params.get("instrument") or DEFAULT_INSTRUMENT.get(observation_type, ""))
        instruments = self.client.instruments()
        by_upper = {c.upper(): c for c in instruments}
        if code.upper() not in by_upper:
            raise ValidationError("unknown instrument", {"instrument": [
                f"{code!r} is not an instrument of the portal (available: {', '.join(sorted(instruments))})"]})
        code = by_upper[code.upper()]
        return code, instruments[code]

    def build(self, target: Target, observation_type: str, params: Mapping[str, Any], name: str) -> dict[str, Any]:
        """The exact request group that would be sent (raises ValidationError per field)."""
        from tom_facility_lco.payload import build_request_group

        self.parameters(observation_type)
        errors: dict[str, list[str]] = {}
        try:
            code, instrument = self._instrument(observation_type, params)
        except ValidationError as exc:
            errors.update(exc.errors)
            code, instrument = str(params.get("instrument") or ""), {}
        try:
            proposal = self._proposal(params)
        except ValidationError as exc:
            errors.update(exc.errors)
            proposal = ""
        if errors:
            raise ValidationError("the request is not valid", errors)
        return build_request_group(target, observation_type, params, instrument_code=code, instrument=instrument,
                                   proposal=proposal, name=name)

    def _name(self, target: Target, observation_type: str, params: Mapping[str, Any]) -> str:
        return str(params.get("name") or f"{target.name} {observation_type.lower()}")[:50]

    # -- requests ------------------------------------------------------------------------------

    def validate(self, target: Target, observation_type: str, params: Mapping[str, Any]) -> ValidationResult:
        from tom_facility_lco.payload import flatten_errors

        self._require_token()
        try:
            body = self.build(target, observation_type, params, self._name(target, observation_type, params))
        except ValidationError as exc:
            return ValidationResult(errors=exc.errors)
        answer = self.client.validate(body)
        errors = answer.get("errors") or {}
        if errors:
            return ValidationResult(errors=flatten_errors(errors), payload=body)
        durations = answer.get("request_durations") or {}
        duration = durations.get("duration")
        return ValidationResult(duration=float(duration) if duration is not None else None, payload=body)

    def _submission(self, group: Mapping[str, Any], payload: Any) -> Submission:
        requests = group.get("requests") or []
        return Submission(
            facility_ids=[str(r["id"]) for r in requests if "id" in r],
            payload=payload,
            status=str(requests[0].get("state") or group.get("state") or PENDING) if requests else PENDING,
            response=dict(group),
        )

    def submit(self, target: Target, observation_type: str, params: Mapping[str, Any], *, name: str) -> Submission:
        from tom_facility_lco.payload import flatten_errors

        self._require_token()
        body = self.build(target, observation_type, params, name)
        last: ServiceError | None = None
        for attempt in range(SUBMIT_ATTEMPTS):
            if attempt:
                # The previous POST may have been accepted before it failed: never submit twice.
                found = self.find_submission(name)
                if found is not None:
                    log.info("request group %r was created by the failed attempt; not submitting again", name)
                    found.payload = body
                    return found
            try:
                status, answer = self.client.submit(body)
            except ServiceError as exc:
                if exc.status is not None and exc.status < 500 and exc.status != 429:
                    raise
                last = exc
                continue
            if status == 400:
                raise ValidationError("LCO refused the request", flatten_errors(answer))
            return self._submission(answer, body)
        found = self.find_submission(name)
        if found is not None:
            found.payload = body
            return found
        assert last is not None
        raise ServiceError("LCO portal", f"the request was not submitted ({last}); nothing named {name!r} was created, "
                           "so it is safe to try again", status=last.status)

    def find_submission(self, name: str) -> Submission | None:
        groups = self.client.find_groups(name)
        if not groups:
            return None
        group = max(groups, key=lambda g: (str(g.get("created") or ""), g.get("id") or 0))
        return self._submission(group, None)

    def _status_of(self, request: Mapping[str, Any]) -> RequestStatus:
        return RequestStatus(facility_id=str(request.get("id")), status=str(request.get("state") or ""), raw=request)

    def status(self, facility_ids: Sequence[str], *, since: datetime | None = None,
               known: Mapping[str, str] | None = None) -> dict[str, RequestStatus]:
        self._require_token()
        wanted = {str(i) for i in facility_ids}
        found: dict[str, RequestStatus] = {}
        if since is not None and len(wanted) > 2:
            # One listing of every group created since the oldest request covers all of them.
            for group in self.client.groups_created_since(since - timedelta(hours=1)):
                for request in group.get("requests") or []:
                    rid = str(request.get("id"))
                    if rid in wanted:
                        found[rid] = self._status_of(request)
                if len(found) == len(wanted):
                    break
        for rid in sorted(wanted - set(found)):
            request = self.client.request(rid)
            if request is not None:
                found[rid] = self._status_of(request)
        known = known or {}
        for rid, status in found.items():
            if known.get(rid) != status.status:
                self._add_schedule(status)
        return found

    def _add_schedule(self, status: RequestStatus) -> None:
        """Scheduled start and end from the request's blocks: the first COMPLETED block,
        else the last PENDING one (asked only when the state changed)."""
        blocks = self.client.blocks(status.facility_id)
        chosen = next((b for b in blocks if b.get("state") == COMPLETED), None)
        if chosen is None:
            pending = [b for b in blocks if b.get("state") in (PENDING, "IN_PROGRESS")]
            chosen = pending[-1] if pending else None
        if chosen is None:
            return
        status.scheduled_start = parse_time(chosen.get("start"))
        status.scheduled_end = parse_time(chosen.get("end"))
        status.detail = {k: chosen[k] for k in ("site", "enclosure", "telescope", "state") if chosen.get(k)}
        status.detail["block"] = chosen.get("id")

    def cancel(self, facility_ids: Sequence[str]) -> dict[str, str]:
        self._require_token()
        result: dict[str, str] = {}
        groups: dict[Any, dict[str, Any]] = {}
        for rid in facility_ids:
            group = self.client.group_of_request(str(rid))
            if group is None:
                raise ServiceError("LCO portal", f"no request group holds request {rid} (unknown id, or another proposal)")
            groups[group.get("id")] = group
        for group_id, group in groups.items():
            status, answer = self.client.cancel_group(group_id)
            if status == 400:
                log.info("LCO refused to cancel group %s: %s", group_id, answer)
                answer = group  # already terminal: its requests keep their state
            for request in (answer or {}).get("requests") or []:
                result[str(request.get("id"))] = str(request.get("state"))
        return {str(rid): result.get(str(rid), "") for rid in facility_ids}

    # -- data ----------------------------------------------------------------------------------

    def data_products(self, facility_id: str) -> list[RemoteProduct]:
        self._require_token()
        levels = {int(x) for x in (self.config.get("reduction_levels") or []) if str(x).strip()}
        products = []
        for frame in self.client.frames(str(facility_id)):
            filename = frame.get("filename")
            if not filename:
                continue  # a frame without versions has no file
            if levels and _reduction_level(frame) not in levels:
                continue
            versions = frame.get("version_set") or []
            version = next((v for v in versions if v.get("url") == frame.get("url")), None)
            if version is None and versions:
                version = max(versions, key=lambda v: str(v.get("created") or ""))
            md5 = (version or {}).get("md5")
            products.append(RemoteProduct(
                facility_id=str(facility_id),
                key=str(frame.get("id")),
                name=str(filename),
                url=frame.get("url"),
                data_type=_data_type(frame, str(filename)),
                checksum=f"md5:{md5}" if md5 else None,
                time=parse_time(frame.get("observation_date") or frame.get("DATE_OBS")),
                raw=frame,
            ))
        return products

    def open_product(self, product: RemoteProduct) -> IO[bytes]:
        url = product.url
        for attempt in range(2):
            if not url or attempt:
                # Download URLs are signed and expire (~48 h): ask the archive for a fresh one.
                url = self.client.frame(product.key).get("url")
                if not url:
                    raise ServiceError("LCO archive", f"frame {product.key} ({product.name}) has no download URL")
            try:
                return _Download(self.client.open_download(url))  # type: ignore[return-value]
            except ServiceError as exc:
                if attempt or exc.status not in (401, 403, 404, 410):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
