"""Cadences (``tom.cadences``): strategies submitting observations of a target over time.

:meth:`CadenceService.advance` (run by ``tom run`` each round) refreshes the status of every
active cadence's open records, then asks each cadence's strategy what to do, repeatedly,
until it waits or ends. An epoch to submit is first *claimed*: a row of ``cadence_epochs``
unique per (cadence, number, attempt) is inserted and committed, and only the runner whose
insert succeeded submits it. Two runners on the same database therefore never submit the
same epoch twice. A claim whose runner died is resolved from the records (the submission's
unique name) after :data:`CLAIM_LEASE`.

A refusal by the facility is recorded on the epoch (``rejected``, with the reason) and the
strategy decides (skip it, retry later, end the cadence); a service failure releases the
claim and is retried next round, and ``cadences.max_errors`` failing rounds in a row end
the cadence. Ended cadences notify ``cadence.ended``.
"""

from __future__ import annotations

import builtins
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.contracts.base import validate_params
from tomcore.contracts.cadences import (
    CLAIMED,
    COMPLETE,
    FAIL,
    REJECTED,
    SKIP,
    SKIPPED,
    SUBMIT,
    SUBMITTED,
    WAIT,
    CadenceContext,
    CadenceDecision,
    CadenceStrategy,
    Epoch,
)
from tomcore.errors import NotFoundError, TomError, ValidationError
from tomcore.services.cadence_planning import PlannedStep, observability, simulate
from tomcore.services.observation_records import jsonable, load_infos

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.domain.observations import ObservationInfo

log = logging.getLogger("tomcore.cadences")

ACTIVE, COMPLETED, FAILED, STOPPED = "active", "completed", "failed", "stopped"
STATES = (ACTIVE, COMPLETED, FAILED, STOPPED)
#: A claim older than this whose runner did not finish is resolved by another runner.
CLAIM_LEASE = timedelta(minutes=15)
#: Decisions taken for one cadence in one round at most (skipping missed windows included).
MAX_STEPS = 200


@attrs.define(kw_only=True)
class CadenceInfo:
    id: int
    name: str
    target_id: int
    target_name: str
    facility: str
    observation_type: str
    strategy: str
    strategy_params: dict[str, Any]
    observation_params: dict[str, Any]
    state: str
    reason: str | None = None
    next_at: datetime | None = None
    group: str | None = None
    error_count: int = 0
    last_error: str | None = None
    created: datetime | None = None
    ended: datetime | None = None
    epochs: list[Epoch] = attrs.Factory(list)

    def counts(self) -> dict[str, int]:
        latest: dict[int, Epoch] = {}
        for epoch in self.epochs:
            latest[epoch.number] = epoch
        return {
            "epochs": len(latest),
            "submitted": sum(1 for e in self.epochs if e.state == SUBMITTED),
            "completed": sum(1 for e in latest.values() if e.succeeded),
            "failed": sum(1 for e in self.epochs if e.failed),
            "skipped": sum(1 for e in latest.values() if e.state == SKIPPED),
            "pending": sum(1 for e in latest.values() if e.pending),
        }


@attrs.define
class AdvanceReport:
    submitted: list[ObservationInfo] = attrs.Factory(list)
    skipped: int = 0
    rejected: list[str] = attrs.Factory(list)
    ended: list[CadenceInfo] = attrs.Factory(list)
    errors: dict[str, str] = attrs.Factory(dict)

    def summary(self) -> dict[str, Any]:
        return {"submitted": len(self.submitted), "skipped": self.skipped, "rejected": list(self.rejected),
                "ended": [c.name for c in self.ended], "errors": dict(self.errors)}


@attrs.define
class StartResult:
    cadence: CadenceInfo | None
    plan: list[PlannedStep]
    report: AdvanceReport | None = None


class CadenceService:
    def __init__(self, tom: Tom) -> None:
        self.tom = tom
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    # -- strategies ----------------------------------------------------------------------------

    def strategies(self) -> list[CadenceStrategy]:
        return [s for _name, s in self.tom.components.cadence_strategies.items()]

    def strategy(self, name: str) -> CadenceStrategy:
        strategy: CadenceStrategy = self.tom.components.cadence_strategies.get(name)
        return strategy

    # -- starting ------------------------------------------------------------------------------

    def start(
        self,
        target: str | int,
        facility: str | None,
        strategy: str,
        *,
        strategy_params: Mapping[str, Any] | None = None,
        observation_params: Mapping[str, Any] | None = None,
        observation_type: str | None = None,
        template: str | None = None,
        name: str | None = None,
        dry_run: bool = False,
        steps: int = 10,
        advance: bool = True,
    ) -> StartResult:
        """Check everything, show the plan (``dry_run``), or create the cadence and submit
        what is due now (``advance=False`` leaves that to the runner). Every bad option is
        reported before anything is created."""
        chosen = self.strategy(strategy)
        errors: dict[str, list[str]] = {}
        try:
            cadence_params = validate_params(chosen.params, dict(strategy_params or {}), what=f"{chosen.name} parameters")
        except ValidationError as exc:
            errors.update(exc.errors)
            cadence_params = {}
        observations = self.tom.observations
        try:
            request = observations.prepare(facility, target, observation_params, observation_type=observation_type,
                                           template=template, partial=True)
        except ValidationError as exc:
            errors.update(exc.errors)
            raise ValidationError("the cadence cannot start", errors) from None
        component = request.facility
        if not component.robotic or not component.window_params:
            raise ValidationError("no window", {"facility": [
                f"{component.name} has no observing window to set for each epoch: cadences need a robotic facility"]})
        for key in component.window_params:
            if key in request.params and key in (observation_params or {}):
                errors.setdefault(key, []).append("is set by the cadence for each epoch (use the strategy's --start)")
        base = {k: v for k, v in request.params.items() if k not in component.window_params}
        now = self.tom.now()
        try:  # every epoch needs what its window does not give
            observations.check(component.name, {**base, **self._window(component, now, now + timedelta(hours=1))},
                               observation_type=request.observation_type)
        except ValidationError as exc:
            for key, reasons in exc.errors.items():
                errors.setdefault(key, []).extend(r for r in reasons if r not in errors.get(key, []))
        if errors:
            raise ValidationError("the cadence cannot start", errors)
        plan = self.simulate(chosen, cadence_params, base, request.target, component.name, started=now, steps=steps)
        first = next((s for s in plan if s.action == SUBMIT), None)
        if first is not None:
            # The first epoch must pass the facility's declaration in full (its window included).
            observations.check(component.name, {**base, **self._window(component, first.window_start, first.window_end),
                                                **(first.params or {})}, observation_type=request.observation_type)
        if dry_run:
            return StartResult(None, plan)
        info = self._create(request, chosen, cadence_params, base, name, now)
        report = self.advance([info.id]) if advance else None
        return StartResult(self.get(info.id), plan, report)

    def _window(self, facility: Any, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        first, last = facility.window_params
        return {first: start, last: end}

    def _create(self, request: Any, strategy: CadenceStrategy, params: dict[str, Any], base: dict[str, Any],
                name: str | None, now: datetime) -> CadenceInfo:
        from sqlalchemy import select

        from tomcore.services.observation_records import group_id
        from tomcore.store.models import CadenceRow

        given = name is not None
        base_name = (name or f"{request.target.name} {strategy.name} {now:%Y%m%d-%H%M%S}").strip()
        with self.tom.db.session() as session:
            name = base_name
            for suffix in range(2, 1000):
                if session.execute(select(CadenceRow.id).where(CadenceRow.name == name)).first() is None:
                    break
                if given:
                    raise ValidationError("name taken", {"name": [f"a cadence named {name!r} exists"]})
                name = f"{base_name} ({suffix})"
            row = CadenceRow(
                name=name, target_id=request.target.id, facility=request.facility.name,
                observation_type=request.observation_type, strategy=strategy.name, strategy_params=jsonable(params),
                observation_params=jsonable(base), state=ACTIVE, group_id=group_id(session, f"cadence: {name}"),
                error_count=0, created=now, modified=now,
            )
            session.add(row)
            session.flush()
            return self._info(session, row)

    # -- reading -------------------------------------------------------------------------------

    def _row(self, session: Session, ref: int | str) -> Any:
        from sqlalchemy import select

        from tomcore.store.models import CadenceRow

        row = None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = session.get(CadenceRow, int(ref))
        if row is None and isinstance(ref, str):
            row = session.execute(select(CadenceRow).where(CadenceRow.name == ref)).scalar()
        if row is None:
            raise NotFoundError(f"no cadence {ref!r} (see `tom cadence list`)")
        return row

    def _epochs(self, session: Session, cadence_id: int) -> list[Epoch]:
        from sqlalchemy import select

        from tomcore.store.models import CadenceEpochRow, ObservationRecordRow

        rows = list(session.execute(select(CadenceEpochRow).where(CadenceEpochRow.cadence_id == cadence_id)
                                    .order_by(CadenceEpochRow.number, CadenceEpochRow.attempt)).scalars())
        ids = [r.observation_id for r in rows if r.observation_id is not None]
        records = {}
        if ids:
            found = session.execute(select(ObservationRecordRow).where(ObservationRecordRow.id.in_(ids))).scalars()
            records = {info.id: info for info in load_infos(session, found)}
        return [
            Epoch(number=r.number, attempt=r.attempt, state=r.state, due_at=r.due_at, window_start=r.window_start,
                  window_end=r.window_end, observation=records.get(r.observation_id) if r.observation_id else None,
                  reason=r.reason)
            for r in rows
        ]

    def _info(self, session: Session, row: Any, *, epochs: bool = True) -> CadenceInfo:
        from tomcore.store.models import ObservationGroupRow, TargetRow

        target = session.get(TargetRow, row.target_id)
        group = session.get(ObservationGroupRow, row.group_id) if row.group_id else None
        return CadenceInfo(
            id=row.id, name=row.name, target_id=row.target_id, target_name=target.name if target else "?",
            facility=row.facility, observation_type=row.observation_type, strategy=row.strategy,
            strategy_params=dict(row.strategy_params or {}), observation_params=dict(row.observation_params or {}),
            state=row.state, reason=row.reason, next_at=row.next_at, group=group.name if group else None,
            error_count=row.error_count or 0, last_error=row.last_error, created=row.created, ended=row.ended,
            epochs=self._epochs(session, row.id) if epochs else [],
        )

    def get(self, ref: int | str) -> CadenceInfo:
        with self.tom.db.session(readonly=True) as session:
            return self._info(session, self._row(session, ref))

    def list(self, *, state: str | None = None, target: str | None = None) -> list[CadenceInfo]:
        from sqlalchemy import select

        from tomcore.store.models import CadenceRow

        query = select(CadenceRow).order_by(CadenceRow.id)
        if state:
            query = query.where(CadenceRow.state == state)
        with self.tom.db.session(readonly=True) as session:
            if target:
                query = query.where(CadenceRow.target_id == self.tom.targets.resolve_id(session, target))
            return [self._info(session, row) for row in session.execute(query).scalars()]

    def stop(self, ref: int | str, reason: str = "stopped by the user") -> CadenceInfo:
        """End a cadence; its submitted requests are left as they are (cancel them with
        ``tom observations cancel``)."""
        with self.tom.db.session() as session:
            row = self._row(session, ref)
            if row.state != ACTIVE:
                raise TomError(f"cadence {row.name!r} is already {row.state}")
            self._end(row, STOPPED, reason)
            info = self._info(session, row)
        self._announce([info])
        return info

    def _end(self, row: Any, state: str, reason: str) -> None:
        now = self.tom.now()
        row.state, row.reason, row.ended, row.next_at, row.modified = state, reason, now, None, now

    def _announce(self, ended: Sequence[CadenceInfo]) -> None:
        from tomcore.contracts.notifiers import Notification

        notes = []
        for info in ended:
            counts = info.counts()
            notes.append(Notification(
                event="cadence.ended",
                subject=f"{info.target_name}: cadence {info.name!r} {info.state} ({info.reason})",
                text=(f"Target: {info.target_name}\nFacility: {info.facility} ({info.observation_type})\n"
                      f"Strategy: {info.strategy} {info.strategy_params}\nState: {info.state}: {info.reason}\n"
                      f"Epochs: {counts['epochs']}, completed {counts['completed']}, failed {counts['failed']}, "
                      f"skipped {counts['skipped']}"),
                data={"cadence_id": info.id, "name": info.name, "state": info.state, "reason": info.reason, **counts},
                target=info.target_name, facility=info.facility,
            ))
        if notes:
            self.tom.notify.send_many(notes)

    # -- planning --------------------------------------------------------------------------------

    def observable(self, target: Any, facility: str, max_airmass: float | None) -> Callable[[datetime, datetime], float | None]:
        """``observable(start, end)``: hours the target is observable from the facility's
        sites in the window (the best site), from the planner; None when it cannot tell."""
        return observability(self.tom, target, facility, max_airmass)

    def simulate(self, strategy: CadenceStrategy, params: Mapping[str, Any], observation_params: Mapping[str, Any],
                 target: Any, facility: str, *, started: datetime, epochs: Sequence[Epoch] = (),
                 steps: int = 10) -> builtins.list[PlannedStep]:
        """What the strategy would do from now, assuming every epoch it submits succeeds at
        the end of its window (a dry run: nothing is claimed or submitted)."""
        return simulate(self.tom.now(), strategy, params, observation_params, target, facility,
                        observable=self.observable(target, facility, observation_params.get("max_airmass")),
                        started=started, epochs=epochs, steps=steps)

    def plan(self, ref: int | str, steps: int = 10) -> builtins.list[PlannedStep]:
        """A dry run of an existing cadence from its current state."""
        with self.tom.db.session(readonly=True) as session:
            info = self._info(session, self._row(session, ref))
        target = self.tom.targets.get_by_id(info.target_id)
        strategy = self.strategy(info.strategy)
        params = validate_params(strategy.params, info.strategy_params)
        return self.simulate(strategy, params, info.observation_params, target, info.facility, started=info.created
                             or self.tom.now(), epochs=info.epochs, steps=steps)

    # -- advancing -----------------------------------------------------------------------------

    def advance(self, refs: Sequence[int | str] | None = None) -> AdvanceReport:
        """Move every active cadence (or those named) along; see the module's docstring."""
        from sqlalchemy import or_, select

        from tomcore.store.models import CadenceRow, ObservationRecordRow

        report = AdvanceReport()
        with self.tom.db.session(readonly=True) as session:
            query = select(CadenceRow.id).where(CadenceRow.state == ACTIVE).order_by(CadenceRow.id)
            if refs is not None:
                query = query.where(CadenceRow.id.in_([self._row(session, r).id for r in refs]))
            else:  # a cadence waiting until a known time is not looked at before then
                query = query.where(or_(CadenceRow.next_at.is_(None), CadenceRow.next_at <= self.tom.now()))
            ids = list(session.execute(query).scalars())
            open_records = list(session.execute(select(ObservationRecordRow.id).where(
                ObservationRecordRow.cadence_id.in_(ids), ObservationRecordRow.terminal.is_(False),
                ObservationRecordRow.facility_id.is_not(None))).scalars()) if ids else []
        if open_records:
            # Decide on fresh statuses (the TOM Toolkit's retry strategy never refreshed them).
            update = self.tom.observations.update(open_records)
            for facility, message in update.errors.items():
                report.errors[f"status of {facility}"] = message
        for cadence_id in ids:
            try:
                self._advance_one(cadence_id, report)
            except TomError as exc:
                report.errors[str(cadence_id)] = str(exc)
                log.warning("cadence %s: %s", cadence_id, exc)
        self._announce(report.ended)
        return report

    def _recover_claims(self, cadence_id: int, now: datetime) -> None:
        from sqlalchemy import select

        from tomcore.store.models import CadenceEpochRow, ObservationRecordRow

        with self.tom.db.session() as session:
            stale = session.execute(select(CadenceEpochRow).where(
                CadenceEpochRow.cadence_id == cadence_id, CadenceEpochRow.state == CLAIMED,
                CadenceEpochRow.claimed_at < now - CLAIM_LEASE)).scalars().all()
            for epoch in stale:
                record = session.execute(select(ObservationRecordRow.id).where(
                    ObservationRecordRow.name == epoch.submission_name)).scalar() if epoch.submission_name else None
                if record is not None:
                    epoch.state, epoch.observation_id = SUBMITTED, record
                else:  # the submission never started (its placeholder record comes first): free the epoch
                    session.delete(epoch)

    def _advance_one(self, cadence_id: int, report: AdvanceReport) -> None:
        from tomcore.store.models import CadenceRow

        now = self.tom.now()
        self._recover_claims(cadence_id, now)
        with self.tom.db.session(readonly=True) as session:
            info = self._info(session, session.get(CadenceRow, cadence_id))
        if info.state != ACTIVE:
            return
        strategy = self.strategy(info.strategy)
        params = validate_params(strategy.params, info.strategy_params)
        target = self.tom.targets.get_by_id(info.target_id)
        observable = self.observable(target, info.facility, info.observation_params.get("max_airmass"))
        epochs = info.epochs
        for _ in range(MAX_STEPS):
            now = self.tom.now()
            context = CadenceContext(now=now, params=params, observation_params=info.observation_params, epochs=epochs,
                                     started=info.created or now, observable=observable)
            decision = strategy.next(context)
            if decision.action == WAIT:
                self._set_next(cadence_id, decision.until)
                return
            if decision.action in (COMPLETE, FAIL):
                self._finish(cadence_id, COMPLETED if decision.action == COMPLETE else FAILED, decision.reason, report)
                return
            epoch = self._claim(info, decision, now)
            if epoch is None:
                return  # another runner holds this epoch
            if decision.action == SKIP:
                report.skipped += 1
                epochs = [*epochs, epoch]
                continue
            outcome = self._submit(info, target, decision, epoch, report)
            if outcome is None:
                return  # a service failure: released, tried again next round
            epochs = [*epochs, outcome]
            if outcome.state == REJECTED:
                # The strategy may end the cadence now; anything else waits for the next round
                # rather than hammering the facility with the same request.
                context = CadenceContext(now=now, params=params, observation_params=info.observation_params,
                                         epochs=epochs, started=info.created or now, observable=observable)
                decision = strategy.next(context)
                if decision.action in (COMPLETE, FAIL):
                    self._finish(cadence_id, COMPLETED if decision.action == COMPLETE else FAILED, decision.reason,
                                 report)
                else:
                    self._set_next(cadence_id, None)
                return
        log.warning("cadence %s took %d decisions in one round; going on next round", info.name, MAX_STEPS)

    def _set_next(self, cadence_id: int, when: datetime | None) -> None:
        from tomcore.store.models import CadenceRow

        with self.tom.db.session() as session:
            row = session.get(CadenceRow, cadence_id)
            if row is not None and row.next_at != when:
                row.next_at = when

    def _finish(self, cadence_id: int, state: str, reason: str, report: AdvanceReport) -> None:
        from tomcore.store.models import CadenceRow

        with self.tom.db.session() as session:
            row = session.get(CadenceRow, cadence_id)
            if row is None or row.state != ACTIVE:
                return
            self._end(row, state, reason)
            report.ended.append(self._info(session, row))

    def _claim(self, info: CadenceInfo, decision: CadenceDecision, now: datetime) -> Epoch | None:
        """Insert the epoch row (unique per cadence, number and attempt) and commit: only
        the runner whose insert succeeds goes on."""
        from sqlalchemy.exc import IntegrityError

        from tomcore.store.models import CadenceEpochRow

        number = decision.number or 0
        state = CLAIMED if decision.action == SUBMIT else SKIPPED
        name = None
        if decision.action == SUBMIT:
            suffix = f" c{info.id} e{number}.{decision.attempt} {secrets.token_hex(3)}"
            name = f"{info.target_name[:max(8, 50 - len(suffix))].rstrip()}{suffix}"  # facilities limit names (LCO: 50)
        try:
            with self.tom.db.session() as session:
                session.add(CadenceEpochRow(
                    cadence_id=info.id, number=number, attempt=decision.attempt, state=state, due_at=now,
                    window_start=decision.window_start, window_end=decision.window_end,
                    params=jsonable(decision.params) if decision.params else None, submission_name=name,
                    claimed_by=self.owner, claimed_at=now, reason=decision.reason or None, created=now,
                ))
        except IntegrityError:
            log.info("cadence %s epoch %s.%s is claimed by another runner", info.name, number, decision.attempt)
            return None
        return Epoch(number=number, attempt=decision.attempt, state=state, due_at=now,
                     window_start=decision.window_start, window_end=decision.window_end, reason=decision.reason or None)

    def _submit(self, info: CadenceInfo, target: Any, decision: CadenceDecision, epoch: Epoch,
                report: AdvanceReport) -> Epoch | None:
        from sqlalchemy import select

        from tomcore.store.models import CadenceEpochRow, CadenceRow

        facility = self.tom.observations.facility(info.facility)
        params = {**info.observation_params, **self._window(facility, decision.window_start, decision.window_end),
                  **(decision.params or {})}
        where = (CadenceEpochRow.cadence_id == info.id, CadenceEpochRow.number == epoch.number,
                 CadenceEpochRow.attempt == epoch.attempt)
        with self.tom.db.session(readonly=True) as session:
            name = session.execute(select(CadenceEpochRow.submission_name).where(*where)).scalar()
        try:
            [record, *_] = self.tom.observations.submit(
                info.facility, target, params, observation_type=info.observation_type, cadence_id=info.id,
                group=info.group, name=name,
            )
        except ValidationError as exc:
            reason = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()) or exc.summary
            with self.tom.db.session() as session:
                row = session.execute(select(CadenceEpochRow).where(*where)).scalar_one()
                row.state, row.reason = REJECTED, f"refused by {info.facility}: {reason}"
            report.rejected.append(f"{info.name} epoch {epoch.number}: {reason}")
            return attrs.evolve(epoch, state=REJECTED, reason=f"refused by {info.facility}: {reason}")
        except TomError as exc:
            limit = int(self.tom.settings.get("cadences", "max_errors"))
            with self.tom.db.session() as session:
                claim = session.execute(select(CadenceEpochRow).where(*where)).scalar_one_or_none()
                if claim is not None and claim.state == CLAIMED:
                    session.delete(claim)  # released: submitted again next round
                cadence = session.get(CadenceRow, info.id)
                assert cadence is not None
                cadence.error_count = (cadence.error_count or 0) + 1
                cadence.last_error = str(exc)
                if cadence.error_count >= limit:
                    self._end(cadence, FAILED, f"could not submit for {cadence.error_count} rounds in a row: {exc}")
                    report.ended.append(self._info(session, cadence))
            report.errors[info.name] = str(exc)
            return None
        with self.tom.db.session() as session:
            row = session.execute(select(CadenceEpochRow).where(*where)).scalar_one()
            row.state, row.observation_id = SUBMITTED, record.id
            cadence = session.get(CadenceRow, info.id)
            if cadence is not None:
                cadence.error_count, cadence.last_error = 0, None
        report.submitted.append(record)
        return attrs.evolve(epoch, state=SUBMITTED, observation=record)
