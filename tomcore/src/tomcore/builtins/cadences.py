"""Built-in cadence strategies.

``repeat``
    One observation every ``every_hours`` (windows ``window_hours`` long) while the target
    is observable: a window the planner says is not observable is skipped, and the cadence
    ends when the target has not been observable for ``unobservable_limit`` epochs in a row
    (the season is over). Windows that passed while the TOM was not running are skipped,
    never submitted into the past. ``max_rejections`` refusals in a row end it, with the
    facility's reason (tom_base #1593: a refused cadence needs a defined end).

``resume-after-failure``
    One observation at a time: when it succeeds, the next window starts ``every_hours``
    after the previous one (never in the past); when it fails, it is resubmitted at once
    with the same window length, then the cadence continues. ``max_failures`` failures in a
    row end it.

``retry-failed``
    One observation, retried when it fails with its window moved ``every_hours`` later (never
    into the past), at most ``max_retries`` times. It ends as completed when an attempt
    succeeds and as failed when the retries are spent (tom_base #1413: the TOM Toolkit's
    version never ends and resubmits the same failures on every run).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from tomcore import hookimpl
from tomcore.contracts.base import Param
from tomcore.contracts.cadences import SKIPPED, CadenceContext, CadenceDecision, CadenceStrategy

EVERY = Param("every_hours", "float", required=True, minimum=0.02, help="Hours between epochs.")
WINDOW = Param("window_hours", "float", minimum=0.02, help="Length of each epoch's window (default: every-hours).")
START = Param("start", "datetime", help="Start of the first window (default: now).")
COUNT = Param("count", "int", minimum=1, help="Stop after this many epochs.")
UNTIL = Param("until", "datetime", help="Stop when a window would start after this time.")

NOT_OBSERVABLE = "not observable"


def _window(context: CadenceContext) -> timedelta:
    params = context.params
    return timedelta(hours=float(params.get("window_hours") or params["every_hours"]))


def _every(context: CadenceContext) -> timedelta:
    return timedelta(hours=float(context.params["every_hours"]))


def _start(context: CadenceContext) -> datetime:
    start: datetime = context.params.get("start") or context.started
    return start


def _ended(context: CadenceContext, number: int, window_start: datetime) -> CadenceDecision | None:
    count, until = context.params.get("count"), context.params.get("until")
    if count is not None and number > int(count):
        return CadenceDecision.complete(f"all {count} epochs are done")
    if until is not None and window_start >= until:
        return CadenceDecision.complete(f"the next window would start after {until:%Y-%m-%d %H:%M} UTC")
    return None


def _last_reason(context: CadenceContext) -> str:
    last = context.last
    if last is None:
        return ""
    if last.observation is not None and last.observation.terminal:
        return f"{last.observation.facility} request {last.observation.facility_id} {last.observation.status}"
    return last.reason or last.state


class RepeatStrategy(CadenceStrategy):
    name = "repeat"
    title = "Repeat while observable"
    description = "One observation every N hours while the target is observable."
    params: ClassVar[tuple[Param, ...]] = (
        EVERY, WINDOW, START, COUNT, UNTIL,
        Param("min_observable_hours", "float", default=0.1, minimum=0.0,
              help="A window with less observable time than this is skipped."),
        Param("unobservable_limit", "int", default=3, minimum=1,
              help="End the cadence after this many unobservable epochs in a row."),
        Param("max_rejections", "int", default=3, minimum=1,
              help="End the cadence after the facility refuses this many epochs in a row."),
    )

    def next(self, context: CadenceContext) -> CadenceDecision:
        params, now = context.params, context.now
        rejected = context.trailing(lambda e: e.state == "rejected")
        if rejected >= int(params["max_rejections"]):
            return CadenceDecision.fail(f"the facility refused {rejected} epochs in a row ({_last_reason(context)})")
        unobservable = context.trailing(lambda e: e.state == SKIPPED and (e.reason or "").startswith(NOT_OBSERVABLE))
        if unobservable >= int(params["unobservable_limit"]):
            return CadenceDecision.complete(f"the target was not observable for {unobservable} epochs in a row")
        number = context.next_number
        start = _start(context) + (number - 1) * _every(context)
        end = start + _window(context)
        ended = _ended(context, number, start)
        if ended is not None:
            return ended
        if end <= now:
            return CadenceDecision.skip(number, start, end, "its window passed before it could be submitted")
        if start > now:
            return CadenceDecision.wait(start, f"epoch {number} starts then")
        start = max(start, now)
        hours = context.observable(start, end)
        if hours is not None and hours < float(params["min_observable_hours"]):
            return CadenceDecision.skip(number, start, end, f"{NOT_OBSERVABLE} in its window ({hours:.2f} h)")
        return CadenceDecision.submit(number, start, end)


class ResumeAfterFailureStrategy(CadenceStrategy):
    name = "resume-after-failure"
    title = "Resume after failure"
    description = "One observation at a time; a failed one is resubmitted at once, then the cadence goes on."
    params: ClassVar[tuple[Param, ...]] = (
        EVERY, WINDOW, START, COUNT, UNTIL,
        Param("max_failures", "int", default=3, minimum=1, help="End the cadence after this many failures in a row."),
    )

    def next(self, context: CadenceContext) -> CadenceDecision:
        now, last = context.now, context.last
        window = _window(context)
        if last is None:
            start = max(_start(context), now)
            return _ended(context, 1, start) or CadenceDecision.submit(1, start, start + window)
        if last.pending:
            return CadenceDecision.wait(reason=f"epoch {last.number} is not finished")
        if last.failed:
            failures = context.trailing(lambda e: e.failed)
            if failures >= int(context.params["max_failures"]):
                return CadenceDecision.fail(f"{failures} failures in a row ({_last_reason(context)})")
            return CadenceDecision.submit(last.number, now, now + window, attempt=last.attempt + 1,
                                          reason=f"resubmitted after {_last_reason(context)}")
        previous = last.window_start or now
        number = last.number + 1
        start = max(previous + _every(context), now)
        return _ended(context, number, start) or CadenceDecision.submit(number, start, start + window)


class RetryFailedStrategy(CadenceStrategy):
    name = "retry-failed"
    title = "Retry failed observations"
    description = "One observation, retried when it fails at most N times; ends when observed or when retries run out."
    params: ClassVar[tuple[Param, ...]] = (
        EVERY, WINDOW, START,
        Param("max_retries", "int", default=3, minimum=0, help="Retries allowed; the cadence fails when they are spent."),
    )

    def next(self, context: CadenceContext) -> CadenceDecision:
        now, last = context.now, context.last
        window = _window(context)
        if last is None:
            start = max(_start(context), now)
            return CadenceDecision.submit(1, start, start + window)
        if last.pending:
            return CadenceDecision.wait(reason="the observation is not finished")
        if last.succeeded:
            return CadenceDecision.complete(f"observed (attempt {last.attempt})")
        retries = last.attempt - 1
        if retries >= int(context.params["max_retries"]):
            return CadenceDecision.fail(f"still failing after {retries} retries ({_last_reason(context)})")
        start = max((last.window_start or now) + _every(context), now)
        return CadenceDecision.submit(last.number, start, start + window, attempt=last.attempt + 1,
                                      reason=f"retry {retries + 1} after {_last_reason(context)}")


@hookimpl
def register_cadence_strategies(register: Callable[[Any], None]) -> None:
    register(RepeatStrategy())
    register(ResumeAfterFailureStrategy())
    register(RetryFailedStrategy())
