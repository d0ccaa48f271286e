"""Cadence planning: observability of a target in a window (from the planner), and dry runs
of a strategy with simulated outcomes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.contracts.cadences import (
    COMPLETE,
    FAIL,
    SKIPPED,
    SUBMIT,
    SUBMITTED,
    WAIT,
    CadenceContext,
    CadenceStrategy,
    Epoch,
)
from tomcore.domain.observations import ObservationInfo
from tomcore.errors import TomError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom

log = logging.getLogger("tomcore.cadences")


@attrs.define(kw_only=True)
class PlannedStep:
    """One step of a dry run: what the strategy would do, when."""

    action: str
    at: datetime
    number: int | None = None
    attempt: int = 1
    window_start: datetime | None = None
    window_end: datetime | None = None
    observable_hours: float | None = None
    reason: str = ""
    params: dict[str, Any] | None = None


def observability(tom: Tom, target: Any, facility: str, max_airmass: float | None) -> Callable[[datetime, datetime], float | None]:
    """``observable(start, end)``: hours the target is observable from the facility's
    sites in the window (the best site), from the planner; None when it cannot tell."""
    cache: dict[tuple[Any, ...], Any] = {}

    def hours(start: datetime, end: datetime) -> float | None:
        try:
            planning = tom.planning
            sites = planning.facility_sites(facility)
            constraints = planning.constraints(max_airmass=max_airmass)
        except (ImportError, AttributeError, TomError) as exc:
            log.debug("no observability check: %s", exc)
            return None
        best = 0.0
        day = (start - timedelta(days=1)).date()
        days = []
        while day <= end.date():
            days.append(day)
            day += timedelta(days=1)
        for site in sites:
            total = 0.0
            for night in days:
                key = (site.code, night)
                if key not in cache:
                    cache[key] = planning.plan([target], [site], night=night, constraints=constraints).rows
                for row in cache[key]:
                    if row.observable and row.start and row.end:
                        overlap = (min(row.end, end) - max(row.start, start)).total_seconds() / 3600
                        total += max(0.0, min(overlap, row.hours))
            best = max(best, total)
        return best

    return hours


def simulate(now: datetime, strategy: CadenceStrategy, params: Mapping[str, Any],
             observation_params: Mapping[str, Any], target: Any, facility: str, *,
             observable: Callable[[datetime, datetime], float | None], started: datetime,
             epochs: Sequence[Epoch] = (), steps: int = 10) -> list[PlannedStep]:
    """What the strategy would do from now, assuming every epoch it submits succeeds at
    the end of its window (a dry run: nothing is claimed or submitted)."""
    history = list(epochs)
    plan: list[PlannedStep] = []

    def simulated(status: str, terminal: bool, success: bool) -> ObservationInfo:
        return ObservationInfo(id=0, target_id=target.id or 0, target_name=target.name, facility=facility,
                               observation_type="", facility_id=None, status=status, terminal=terminal,
                               success=success)

    for _ in range(steps * 20):
        if sum(1 for s in plan if s.action == SUBMIT) >= steps:
            break
        context = CadenceContext(now=now, params=params, observation_params=observation_params, epochs=history,
                                 started=started, observable=observable)
        decision = strategy.next(context)
        if decision.action == WAIT:
            pending = [e for e in history if e.pending]
            if decision.until is not None and decision.until > now:
                now = decision.until
            elif pending:
                for epoch in pending:
                    epoch.observation = simulated("COMPLETED", True, True)
                now = max(now, max(e.window_end or now for e in pending))
            else:
                plan.append(PlannedStep(action=WAIT, at=now, reason=decision.reason or "waiting"))
                break
            continue
        if decision.action in (COMPLETE, FAIL):
            plan.append(PlannedStep(action=decision.action, at=now, reason=decision.reason))
            break
        hours = None
        if decision.window_start and decision.window_end:
            hours = observable(decision.window_start, decision.window_end) if decision.action == SUBMIT else None
        plan.append(PlannedStep(action=decision.action, at=now, number=decision.number, attempt=decision.attempt,
                                window_start=decision.window_start, window_end=decision.window_end,
                                observable_hours=hours, reason=decision.reason, params=decision.params))
        history.append(Epoch(
            number=decision.number or 0, attempt=decision.attempt,
            state=SUBMITTED if decision.action == SUBMIT else SKIPPED, due_at=now,
            window_start=decision.window_start, window_end=decision.window_end,
            observation=simulated("PENDING", False, False) if decision.action == SUBMIT else None,
            reason=decision.reason or None,
        ))
    return plan
