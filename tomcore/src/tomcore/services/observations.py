"""Observations (``tom.observations``): request them at facilities, record them, follow them.

:meth:`ObservationService.submit` checks the parameters against the facility's declaration
(every bad one reported at once), asks the facility for a dry run (its field-level errors
stop everything before anything is sent), then submits under a unique name. A placeholder
record is written *before* the request leaves (status ``SUBMITTING``) and completed after,
so a crash in between leaves a record that :meth:`update` resolves with
``Facility.find_submission`` instead of losing a request the facility accepted.

Records keep the exact payload submitted, the parameters as given, the status and its full
history; ``on_observation_status_changed`` fires once per batch (a submission, an update, a
cancel). Polling and data downloads live in :mod:`tomcore.services.observation_updates`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.contracts.base import validate_params
from tomcore.errors import NotFoundError, TomError, ValidationError
from tomcore.services.observation_records import (
    SUBMITTING,
    add_history,
    apply_status,
    changes_for,
    flags,
    group_id,
    jsonable,
    load_infos,
)

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.contracts.facilities import Facility, Submission
    from tomcore.domain.observations import ObservationInfo, StatusChange
    from tomcore.domain.targets import Target
    from tomcore.services.observation_updates import DownloadReport, UpdateReport
    from tomcore.services.templates import TemplateService

log = logging.getLogger("tomcore.observations")

#: Special values of ``list(status=...)``.
STATUS_GROUPS = ("open", "terminal", "failed", "completed")


@attrs.define(kw_only=True)
class PreparedRequest:
    """A request checked against the facility's declaration, ready to validate or submit."""

    facility: Facility
    target: Target
    observation_type: str
    params: dict[str, Any]
    template: str | None = None


@attrs.define(kw_only=True)
class ValidationOutcome:
    """What a dry run said: errors by parameter (empty when valid), duration, payload."""

    facility: str
    target: str
    observation_type: str
    params: dict[str, Any]
    errors: dict[str, list[str]] = attrs.Factory(dict)
    duration: float | None = None
    payload: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors


@attrs.define(kw_only=True)
class CancelReport:
    """The records after ``cancel``, and which of them this call cancelled. The others had
    already ended (COMPLETED, WINDOW_EXPIRED, an earlier CANCELED...) or were not cancelled
    by their facility: they keep the state it gave."""

    records: list[ObservationInfo] = attrs.Factory(list)
    cancelled: set[int] = attrs.Factory(set)

    @property
    def not_cancelled(self) -> list[ObservationInfo]:
        return [info for info in self.records if info.id not in self.cancelled]


def _cancelled(facility: Facility | None, was_terminal: bool, old: str, new: str) -> bool:
    """Whether ``old`` -> ``new`` is this cancel's doing: an open request that reached the
    facility's cancelled state (any failed state when it names none)."""
    if facility is None or was_terminal or old == new:
        return False
    named = {s for s in facility.failed_states if "CANCEL" in s.upper()}
    return new in (named or facility.failed_states)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


class ObservationService:
    """Observation records of one TOM."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    # -- components ----------------------------------------------------------------------------

    def facility(self, name: str) -> Facility:
        facility: Facility = self.tom.components.facilities.get(name)
        return facility

    def facilities(self) -> list[Facility]:
        return [facility for _name, facility in self.tom.components.facilities.items()]

    @cached_property
    def templates(self) -> TemplateService:
        from tomcore.services.templates import TemplateService

        return TemplateService(self.tom)

    def _target(self, target: Target | str | int) -> Target:
        if isinstance(target, bool):
            raise ValidationError("no target", {"target": [f"{target!r} is not a target"]})
        if isinstance(target, int):
            found: Target = self.tom.targets.get_by_id(target)
            return found
        if isinstance(target, str):
            found = self.tom.targets.get(target)
            return found
        if getattr(target, "id", None) is None:
            raise ValidationError("unsaved target", {"target": [f"{target.name!r} is not saved in this TOM"]})
        return target

    # -- preparing and validating --------------------------------------------------------------

    def check(
        self,
        facility: str | None,
        params: Mapping[str, Any] | None = None,
        *,
        observation_type: str | None = None,
        template: str | None = None,
        partial: bool = False,
    ) -> tuple[Facility, str, dict[str, Any]]:
        """Merge a template's parameters under ``params``, pick the observation type, and
        check every value against the facility's declaration (all problems at once).
        Returns the facility, the type and the converted parameters.

        ``partial`` skips the required check (templates and cadences fill the rest later).
        """
        values: dict[str, Any] = {}
        if template is not None:
            saved = self.templates.get(template)
            if facility is not None and facility.lower() != saved.facility:
                raise ValidationError("template of another facility", {"template": [
                    f"{template!r} is a template for {saved.facility}, not {facility}"]})
            facility = saved.facility
            observation_type = observation_type or saved.observation_type
            values.update(saved.parameters)
        if facility is None:
            raise ValidationError("no facility", {"facility": ["name a facility or a template"]})
        component = self.facility(facility)
        values.update({k: v for k, v in (params or {}).items() if v is not None and v != [] and v != ()})
        chosen = observation_type or component.default_observation_type(values)
        if chosen not in component.observation_types and chosen.upper() in component.observation_types:
            chosen = chosen.upper()
        declared = component.parameters(chosen)
        if partial:
            declared = tuple(attrs.evolve(p, required=False) for p in declared)
        checked = validate_params(declared, values, what=f"{component.name} {chosen} parameters")
        return component, chosen, checked

    def prepare(
        self,
        facility: str | None,
        target: Target | str | int,
        params: Mapping[str, Any] | None = None,
        *,
        observation_type: str | None = None,
        template: str | None = None,
        partial: bool = False,
    ) -> PreparedRequest:
        """:meth:`check` the parameters and resolve the target."""
        component, chosen, checked = self.check(facility, params, observation_type=observation_type,
                                                template=template, partial=partial)
        resolved = self._target(target)
        return PreparedRequest(facility=component, target=resolved, observation_type=chosen, params=checked,
                               template=template)

    def validate(self, facility: str | None, target: Target | str | int, params: Mapping[str, Any] | None = None, *,
                 observation_type: str | None = None, template: str | None = None) -> ValidationOutcome:
        """A dry run at the facility. Bad parameters raise :class:`ValidationError`; what
        the facility refuses comes back in ``errors``."""
        request = self.prepare(facility, target, params, observation_type=observation_type, template=template)
        return self._dry_run(request)

    def _dry_run(self, request: PreparedRequest) -> ValidationOutcome:
        result = request.facility.validate(request.target, request.observation_type, request.params)
        return ValidationOutcome(
            facility=request.facility.name, target=request.target.name, observation_type=request.observation_type,
            params=request.params, errors=dict(result.errors), duration=result.duration, payload=result.payload,
        )

    # -- submitting ----------------------------------------------------------------------------

    def unique_name(self, request: PreparedRequest) -> str:
        """The name a submission goes under: the user's ``name`` (or target and type) and a
        random suffix, so the facility can be asked for it after a lost answer."""
        base = str(request.params.get("name") or f"{request.target.name} {request.observation_type.lower()}")
        return f"{base[:41].rstrip()} {secrets.token_hex(4)}"

    def submit(
        self,
        facility: str | None,
        target: Target | str | int,
        params: Mapping[str, Any] | None = None,
        *,
        observation_type: str | None = None,
        template: str | None = None,
        group: str | None = None,
        cadence_id: int | None = None,
        note: str | None = None,
        name: str | None = None,
        validate: bool = True,
        prepared: PreparedRequest | None = None,
    ) -> list[ObservationInfo]:
        """Validate and submit one request; return its records (one per facility id).

        Nothing is submitted when a parameter is bad or the facility's dry run refuses it:
        :class:`ValidationError` lists every field at fault.
        """
        request = prepared or self.prepare(facility, target, params, observation_type=observation_type,
                                           template=template)
        component = request.facility
        if not component.robotic:
            raise TomError(f"{component.name} records observations made elsewhere: use `tom observations add`")
        if validate:
            outcome = self._dry_run(request)
            if not outcome.ok:
                raise ValidationError(f"{component.name} refused the request; nothing was submitted", outcome.errors)
        name = name or self.unique_name(request)
        placeholder = self._placeholder(request, name, group=group, cadence_id=cadence_id, note=note)
        try:
            submission = component.submit(request.target, request.observation_type, request.params, name=name)
        except BaseException:
            self._drop(placeholder)
            raise
        infos, changes = self.record_submission(placeholder, component, submission)
        self.emit(changes)
        return infos

    def _placeholder(self, request: PreparedRequest, name: str, *, group: str | None, cadence_id: int | None,
                     note: str | None) -> int:
        from tomcore.store.models import ObservationRecordRow

        now = self.tom.now()
        with self.tom.db.session() as session:
            row = ObservationRecordRow(
                target_id=request.target.id, facility=request.facility.name, observation_type=request.observation_type,
                facility_id=None, name=name, parameters=jsonable(request.params), payload=None, status=SUBMITTING,
                terminal=False, failed=False, success=False, group_id=group_id(session, group), cadence_id=cadence_id,
                template=request.template, note=note, data_count=0, created=now, modified=now,
            )
            session.add(row)
            session.flush()
            add_history(session, row, SUBMITTING, now, "submit", {"name": name})
            return row.id

    def _drop(self, record_id: int) -> None:
        from tomcore.store.models import ObservationRecordRow

        with self.tom.db.session() as session:
            row = session.get(ObservationRecordRow, record_id)
            if row is not None and row.status == SUBMITTING:
                session.delete(row)

    def record_submission(self, record_id: int, facility: Facility, submission: Submission, *,
                          session: Session | None = None) -> tuple[list[ObservationInfo], list[StatusChange]]:
        """Complete a placeholder record with what the facility answered (one more record
        per extra facility id, all in one group). Returns the records and their events."""
        from tomcore.store.models import ObservationRecordRow

        if not submission.facility_ids:
            raise TomError(f"{facility.name} accepted the request but returned no id")
        now = self.tom.now()

        def write(session: Session) -> tuple[list[ObservationInfo], list[StatusChange]]:
            row = session.get(ObservationRecordRow, record_id)
            if row is None:
                raise NotFoundError(f"no observation record with id {record_id}")
            rows = [row]
            if len(submission.facility_ids) > 1 and row.group_id is None:
                row.group_id = group_id(session, row.name)
            for extra in submission.facility_ids[1:]:
                clone = ObservationRecordRow(
                    target_id=row.target_id, facility=row.facility, observation_type=row.observation_type,
                    facility_id=str(extra), name=row.name, parameters=row.parameters, payload=None, status=SUBMITTING,
                    terminal=False, failed=False, success=False, group_id=row.group_id, cadence_id=row.cadence_id,
                    template=row.template, note=row.note, data_count=0, created=now, modified=now,
                )
                session.add(clone)
                rows.append(clone)
            row.facility_id = str(submission.facility_ids[0])
            session.flush()
            applied = []
            payload = jsonable(submission.payload)
            for each in rows:
                each.payload = payload
                each.url = facility.observation_url(each.facility_id) if each.facility_id else None
                apply_status(session, each, facility, submission.status, now, source="submit",
                             detail={"name": each.name, "facility_ids": list(submission.facility_ids)})
                applied.append((each, None, False))
            changes = changes_for(session, applied, now)
            return [c.observation for c in changes], changes

        if session is not None:
            return write(session)
        with self.tom.db.session() as own:
            return write(own)

    def emit(self, changes: Sequence[StatusChange]) -> None:
        """Fire ``on_observation_status_changed`` once for a committed batch."""
        if changes:
            self.tom.emit("on_observation_status_changed", changes=list(changes))

    # -- records of observations made elsewhere ------------------------------------------------

    def add(
        self,
        target: Target | str | int,
        *,
        facility: str = "manual",
        facility_id: str | None = None,
        status: str | None = None,
        observation_type: str | None = None,
        params: Mapping[str, Any] | None = None,
        scheduled_start: datetime | None = None,
        scheduled_end: datetime | None = None,
        note: str | None = None,
        group: str | None = None,
    ) -> ObservationInfo:
        """Record an observation made elsewhere (``manual``), or link a request already made
        at a robotic facility by its id (then ``update`` follows it)."""
        from tomcore.store.models import ObservationRecordRow

        component = self.facility(facility)
        resolved = self._target(target)
        if component.robotic and not facility_id:
            raise ValidationError("no request id", {"facility_id": [f"give the {component.name} request id to follow"]})
        kind = observation_type or component.default_observation_type(params or {})
        values = dict(params or {})
        if kind in component.observation_types:
            declared = tuple(attrs.evolve(p, required=False) for p in component.parameters(kind))
            values = validate_params(declared, values, what=f"{component.name} {kind} parameters")
        if component.robotic and status is None:
            # Follow what the facility has: its current state and schedule (an id it does not
            # know is refused, not followed as PENDING for ever).
            remote = component.status([str(facility_id)]).get(str(facility_id))
            if remote is None:
                raise NotFoundError(f"{component.name} has no request {facility_id} (or it belongs to another "
                                    "account or proposal)")
            status = remote.status
            scheduled_start = scheduled_start or remote.scheduled_start
            scheduled_end = scheduled_end or remote.scheduled_end
        status = status or component.initial_state
        if component.states and status not in component.states:
            raise ValidationError("unknown status", {"status": [f"{status!r} is not one of {', '.join(component.states)}"]})
        now = self.tom.now()
        with self.tom.db.session() as session:
            if facility_id and session.execute(
                _select_record(component.name, str(facility_id))
            ).first() is not None:
                raise ValidationError("already recorded", {"facility_id": [
                    f"{component.name} request {facility_id} is already recorded"]})
            terminal, failed, success = flags(component, status)
            row = ObservationRecordRow(
                target_id=resolved.id, facility=component.name, observation_type=kind,
                facility_id=str(facility_id) if facility_id else None, name=None, parameters=jsonable(values),
                payload=None, status=status, terminal=terminal, failed=failed, success=success,
                terminal_at=now if terminal else None, scheduled_start=scheduled_start, scheduled_end=scheduled_end,
                group_id=group_id(session, group), note=note, data_count=0, created=now, modified=now,
                url=component.observation_url(str(facility_id)) if facility_id else None,
            )
            session.add(row)
            session.flush()
            add_history(session, row, status, now, "add", {"note": note} if note else None)
            changes = changes_for(session, [(row, None, False)], now)
        self.emit(changes)
        return changes[0].observation

    def set_status(self, record: int | str, status: str, *, note: str | None = None) -> ObservationInfo:
        """Set the status of a record by hand (observations made elsewhere)."""
        from tomcore.store.models import ObservationRecordRow

        now = self.tom.now()
        with self.tom.db.session() as session:
            row = self._row(session, record)
            component = self._facility_or_none(row.facility)
            if component is not None and component.robotic:
                raise TomError(f"record {row.id} is followed at {row.facility}: its status comes from there "
                               "(`tom observations update`)")
            if component is not None and component.states and status not in component.states:
                raise ValidationError("unknown status", {"status": [
                    f"{status!r} is not one of {', '.join(component.states)}"]})
            result = apply_status(session, row, component, status, now, source="manual",
                                  detail={"note": note} if note else None)
            if note:
                row.note = note
            changes = changes_for(session, [(row, result[0], result[1])], now) if result else []
            info = changes[0].observation if changes else load_infos(session, [row])[0]
            assert isinstance(row, ObservationRecordRow)
        self.emit(changes)
        return info

    # -- reading -------------------------------------------------------------------------------

    def _facility_or_none(self, name: str) -> Facility | None:
        try:
            return self.facility(name)
        except TomError:
            return None

    def _row(self, session: Session, record: int | str) -> Any:
        """A record by id, or by ``facility:facility_id`` (``lco:3800001``)."""
        from tomcore.store.models import ObservationRecordRow

        if isinstance(record, str) and ":" in record:
            facility, _, facility_id = record.partition(":")
            row = session.execute(_select_record(facility.lower(), facility_id)).scalar()
            if row is None:
                raise NotFoundError(f"no observation record for {facility} request {facility_id}")
            return row
        try:
            record_id = int(record)
        except (TypeError, ValueError):
            raise NotFoundError(f"{record!r} is not a record id (a number, or FACILITY:REQUEST_ID)") from None
        row = session.get(ObservationRecordRow, record_id)
        if row is None:
            raise NotFoundError(f"no observation record with id {record_id}")
        return row

    def get(self, record: int | str) -> ObservationInfo:
        """One record with its full status history."""
        with self.tom.db.session(readonly=True) as session:
            return load_infos(session, [self._row(session, record)], with_history=True)[0]

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        target: str | int | None = None,
        facility: str | None = None,
        cadence: int | None = None,
        group: str | None = None,
        ids: Sequence[int] | None = None,
        limit: int | None = None,
    ) -> list[ObservationInfo]:
        """Records, newest first. ``status`` may be facility states or ``open``,
        ``terminal``, ``failed``, ``completed``."""
        from sqlalchemy import or_, select

        from tomcore.store.models import ObservationGroupRow, ObservationRecordRow

        query = select(ObservationRecordRow)
        if status:
            wanted = _as_list(status)
            conditions = []
            plain = [s for s in wanted if s.lower() not in STATUS_GROUPS]
            if plain:
                conditions.append(ObservationRecordRow.status.in_(plain))
            for special in {s.lower() for s in wanted} & set(STATUS_GROUPS):
                conditions.append({
                    "open": ObservationRecordRow.terminal.is_(False),
                    "terminal": ObservationRecordRow.terminal.is_(True),
                    "failed": ObservationRecordRow.failed.is_(True),
                    "completed": ObservationRecordRow.success.is_(True),
                }[special])
            query = query.where(or_(*conditions))
        if facility:
            query = query.where(ObservationRecordRow.facility == facility.lower())
        if cadence is not None:
            query = query.where(ObservationRecordRow.cadence_id == cadence)
        if ids is not None:
            query = query.where(ObservationRecordRow.id.in_(list(ids)))
        with self.tom.db.session(readonly=True) as session:
            if target is not None:
                target_id = target if isinstance(target, int) else self.tom.targets.resolve_id(session, target)
                query = query.where(ObservationRecordRow.target_id == target_id)
            if group:
                query = query.join(ObservationGroupRow, ObservationGroupRow.id == ObservationRecordRow.group_id).where(
                    ObservationGroupRow.name == group)
            query = query.order_by(ObservationRecordRow.created.desc(), ObservationRecordRow.id.desc())
            if limit:
                query = query.limit(limit)
            return load_infos(session, session.execute(query).scalars())

    # -- cancelling ----------------------------------------------------------------------------

    def cancel(self, records: Sequence[int | str]) -> CancelReport:
        """Cancel requests at their facilities (records of observations made elsewhere are
        set to their facility's cancelled state). Returns the records after, and which of
        them were cancelled (not those that had already ended: they keep their state)."""
        with self.tom.db.session(readonly=True) as session:
            rows = [self._row(session, r) for r in records]
            targets = [(row.id, row.facility, row.facility_id, row.status) for row in rows]
        by_facility: dict[str, list[tuple[int, str | None, str]]] = {}
        for record_id, facility, facility_id, status in targets:
            by_facility.setdefault(facility, []).append((record_id, facility_id, status))
        outcome: dict[int, str] = {}
        for name, items in by_facility.items():
            component = self.facility(name)
            if component.robotic:
                ids = [fid for _rid, fid, _s in items if fid]
                new = component.cancel(ids) if ids else {}
                for record_id, facility_id, status in items:
                    outcome[record_id] = new.get(str(facility_id)) or status
            else:
                cancelled = next((s for s in component.failed_states if "CANCEL" in s), "CANCELED")
                for record_id, _fid, status in items:
                    outcome[record_id] = status if component.is_terminal(status) else cancelled
        from tomcore.store.models import ObservationRecordRow

        now = self.tom.now()
        done: set[int] = set()
        with self.tom.db.session() as session:
            applied = []
            rows = []
            for record_id, status in outcome.items():
                row = session.get(ObservationRecordRow, record_id)
                if row is None:
                    continue
                rows.append(row)
                known = self._facility_or_none(row.facility)
                if _cancelled(known, bool(row.terminal), row.status, status):
                    done.add(record_id)
                result = apply_status(session, row, known, status, now, source="cancel")
                if result is not None:
                    applied.append((row, result[0], result[1]))
            changes = changes_for(session, applied, now)
            infos = load_infos(session, rows)
        self.emit(changes)
        return CancelReport(records=infos, cancelled=done)

    # -- following -----------------------------------------------------------------------------

    def update(self, records: Sequence[int | str] | None = None, *, facility: str | None = None,
               target: str | None = None, progress: Any = None) -> UpdateReport:
        """Poll the facilities for every open record (or those given); see
        :class:`tomcore.services.observation_updates.StatusUpdater`."""
        from tomcore.services.observation_updates import StatusUpdater

        return StatusUpdater(self.tom, self).run(records, facility=facility, target=target, progress=progress)

    def download(self, records: Sequence[int | str] | None = None, *, progress: Any = None) -> DownloadReport:
        """Store the new files of completed records; see
        :class:`tomcore.services.observation_updates.DataDownloader`."""
        from tomcore.services.observation_updates import DataDownloader

        return DataDownloader(self.tom, self).run(records, progress=progress)


def _select_record(facility: str, facility_id: str) -> Any:
    from sqlalchemy import select

    from tomcore.store.models import ObservationRecordRow

    return select(ObservationRecordRow).where(ObservationRecordRow.facility == facility,
                                              ObservationRecordRow.facility_id == facility_id)
