"""The automation runner (``tom run``): saved broker queries, the light curves of broker
objects already in the TOM, observation statuses, cadences, downloads of new data and
retries of failed notifications, each at its own interval.

Each *step* is idempotent (running it twice does nothing new the second time) and is run on
its own: a step that fails is logged, recorded with its error (``runner_steps``), notified
once as ``runner.step_failed``, and tried again at its next turn, while the other steps go
on. A step is taken under a lease in the database, so two runners on the same database do
not run the same step at the same time (and the cadence step's epochs are claimed besides,
see :mod:`tomcore.services.cadences`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.errors import TomError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom

log = logging.getLogger("tomcore.runner")

#: The steps of a round, in order (statuses before cadences, so they decide on fresh ones).
STEPS = ("alerts", "lightcurves", "status", "cadences", "data", "notify")


@attrs.define
class StepResult:
    """One step of one round: ``ok``, or ``error``; ``skipped`` says why it did not run."""

    name: str
    ok: bool = True
    skipped: str | None = None
    summary: dict[str, Any] = attrs.Factory(dict)
    error: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        facts = ", ".join(f"{k} {v}" for k, v in self.summary.items() if v not in ({}, [], None))
        if not self.ok:
            return f"{self.name}: FAILED after {self.seconds:.1f} s: {self.error}" + (f" ({facts})" if facts else "")
        return f"{self.name}: ok in {self.seconds:.1f} s" + (f": {facts}" if facts else "")


class StepFailed(TomError):
    """A step did part of its work and failed on the rest (the summary says what)."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = summary


class Runner:
    """Runs the steps of one TOM. ``owner`` names this runner in leases and claims."""

    def __init__(self, tom: Tom, *, owner: str | None = None) -> None:
        self.tom = tom
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.steps: dict[str, Callable[[], dict[str, Any]]] = {
            "alerts": self.step_alerts,
            "lightcurves": self.step_lightcurves,
            "status": self.step_status,
            "cadences": self.step_cadences,
            "data": self.step_data,
            "notify": self.step_notify,
        }

    # -- settings ------------------------------------------------------------------------------

    def interval(self, step: str) -> float:
        return float(self.tom.settings.get("runner", f"{step}_interval"))

    def enabled_steps(self, only: Sequence[str] | None = None) -> list[str]:
        configured = self.tom.settings.get("runner", "steps") or list(STEPS)
        wanted = list(only) if only else list(configured)
        unknown = sorted(set(wanted) - set(self.steps))
        if unknown:
            raise ValidationError("unknown step", {"steps": [f"{', '.join(unknown)}: not one of {', '.join(STEPS)}"]})
        return [s for s in STEPS if s in wanted] + [s for s in wanted if s not in STEPS]

    # -- the steps -----------------------------------------------------------------------------

    def step_alerts(self) -> dict[str, Any]:
        try:
            runs = self.tom.alerts.run_saved(all=True)
        except ModuleNotFoundError:  # a TOM without the alerts side
            return {"queries": 0}
        summary = {"queries": len(runs), "created": sum(r.created for r in runs),
                   "updated": sum(r.updated for r in runs), "points": sum(r.points_added for r in runs)}
        failed = [f"{r.name}: {r.error}" for r in runs if r.status == "failed"]
        if failed:
            raise StepFailed("; ".join(failed), summary)
        return summary

    def step_lightcurves(self) -> dict[str, Any]:
        """``tom alerts update``: the new points of every broker object already in the TOM,
        broker by broker; a broker that gives up fails the step after the others are done."""
        try:
            brokers = self.tom.alerts.brokers()
        except ModuleNotFoundError:  # a TOM without the alerts side
            return {"brokers": 0}
        summary = {"brokers": 0, "objects": 0, "targets": 0, "points": 0, "not_refreshed": 0}
        failed = []
        for broker in brokers:
            try:
                (done,) = self.tom.alerts.refresh([broker.name])
            except TomError as exc:  # the chunks written before the failure stay
                failed.append(f"{broker.name}: {exc}")
                continue
            summary["brokers"] += 1
            summary["objects"] += done.objects
            summary["targets"] += done.targets_updated
            summary["points"] += done.points_added
            summary["not_refreshed"] += len(done.problems)
            for problem in done.problems:
                log.info("lightcurves: %s: %s", broker.name, problem)
        if failed:
            raise StepFailed("; ".join(failed), summary)
        return summary

    def step_status(self) -> dict[str, Any]:
        report = self.tom.observations.update()
        summary = {"checked": report.checked, "changed": len(report.changes), "recovered": report.recovered}
        if report.errors:
            raise StepFailed("; ".join(report.errors.values()), summary)
        return summary

    def step_cadences(self) -> dict[str, Any]:
        report = self.tom.cadences.advance()
        summary = {"submitted": len(report.submitted), "skipped": report.skipped, "refused": len(report.rejected),
                   "ended": len(report.ended)}
        if report.errors:
            raise StepFailed("; ".join(f"{k}: {v}" for k, v in report.errors.items()), summary)
        return summary

    def step_data(self) -> dict[str, Any]:
        report = self.tom.observations.download()
        summary = {"records": report.records, "stored": len(report.stored), "skipped": report.skipped}
        if report.errors:
            raise StepFailed("; ".join(report.errors), summary)
        return summary

    def step_notify(self) -> dict[str, Any]:
        report = self.tom.notify.retry_failed()
        summary = {"resent": len(report.sent), "still_failing": len(report.failed)}
        return summary

    # -- leases --------------------------------------------------------------------------------

    def _acquire(self, step: str, now: datetime, force: bool) -> str | None:
        """Take the step's lease; None when taken, else why it is not run now."""
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError

        from tomcore.store.models import RunnerStepRow

        lease = timedelta(seconds=float(self.tom.settings.get("runner", "lease")))
        try:
            with self.tom.db.session() as session:
                query = select(RunnerStepRow).where(RunnerStepRow.name == step)
                if self.tom.db.dialect == "postgresql":
                    query = query.with_for_update()
                row = session.execute(query).scalar()
                if row is None:
                    row = RunnerStepRow(name=step, runs=0, failures=0)
                    session.add(row)
                if row.lease_owner and row.lease_owner != self.owner and row.lease_until and row.lease_until > now:
                    return f"running in {row.lease_owner}"
                if not force and row.last_started is not None:
                    due = row.last_started + timedelta(seconds=self.interval(step))
                    if due > now:
                        return f"next at {due:%H:%M:%S}"
                row.lease_owner, row.lease_until, row.last_started = self.owner, now + lease, now
        except IntegrityError:  # another runner created the row at the same moment
            return "being started by another runner"
        return None

    def _release(self, result: StepResult, now: datetime) -> bool:
        """Record the outcome; return True when the step just started failing."""
        from tomcore.services.observation_records import jsonable
        from tomcore.store.models import RunnerStepRow

        with self.tom.db.session() as session:
            row = session.get(RunnerStepRow, result.name)
            if row is None:  # pragma: no cover - the row was made by _acquire
                return False
            was_ok = row.last_error is None
            row.last_finished = now
            row.runs = (row.runs or 0) + 1
            row.summary = jsonable(result.summary)
            if result.ok:
                row.last_ok, row.last_error = now, None
            else:
                row.failures = (row.failures or 0) + 1
                row.last_error = result.error
            if row.lease_owner == self.owner:
                row.lease_owner, row.lease_until = None, None
            return was_ok and not result.ok

    # -- running -------------------------------------------------------------------------------

    def run_step(self, step: str, *, force: bool = False) -> StepResult:
        """Run one step if it is due (``force``: now) and no other runner holds it."""
        now = self.tom.now()
        reason = self._acquire(step, now, force)
        if reason is not None:
            return StepResult(step, skipped=reason)
        started = time.perf_counter()
        result = StepResult(step)
        try:
            result.summary = self.steps[step]()
        except StepFailed as exc:
            result.ok, result.error, result.summary = False, str(exc), exc.summary
        except TomError as exc:
            result.ok, result.error = False, str(exc)
        except Exception as exc:  # a bug in a step or a plugin: keep the runner going
            result.ok, result.error = False, f"unexpected {type(exc).__name__}: {exc}"
            log.error("step %s crashed:\n%s", step, traceback.format_exc())
        result.seconds = time.perf_counter() - started
        if self._release(result, self.tom.now()):
            self._alarm(result)
        log.info("%s", result.line())  # the caller reports it (tom run prints every result)
        return result

    def _alarm(self, result: StepResult) -> None:
        from tomcore.contracts.notifiers import Notification

        try:
            self.tom.notify.send(Notification(
                event="runner.step_failed", subject=f"tom run: the {result.name} step failed",
                text=f"{result.error}\n\nIt is tried again at its next turn; this is sent once until it works again.",
                data={"step": result.name, "error": result.error, "summary": result.summary},
            ))
        except TomError as exc:
            log.warning("could not notify the failure of %s: %s", result.name, exc)

    def round(self, *, force: bool = False, only: Sequence[str] | None = None) -> list[StepResult]:
        """Every enabled step that is due (all of them with ``force``), in order."""
        return [self.run_step(step, force=force) for step in self.enabled_steps(only)]

    def run_forever(self, *, only: Sequence[str] | None = None, should_stop: Callable[[], bool] = lambda: False,
                    sleep: Callable[[float], None] = time.sleep,
                    on_result: Callable[[StepResult], None] | None = None) -> None:
        """Loop: run the due steps, sleep ``runner.tick`` seconds, again, until ``should_stop``."""
        tick = float(self.tom.settings.get("runner", "tick"))
        steps = self.enabled_steps(only)
        while not should_stop():
            for step in steps:
                if should_stop():
                    return
                result = self.run_step(step)
                if on_result is not None and not result.skipped:
                    on_result(result)
            deadline = time.monotonic() + tick
            while not should_stop() and (left := deadline - time.monotonic()) > 0:
                sleep(min(left, 1.0))  # short naps: a stop request is seen within a second

    def status(self) -> list[dict[str, Any]]:
        """Each step's last run, outcome and lease, for ``tom run --status``."""
        from sqlalchemy import select

        from tomcore.store.models import RunnerStepRow

        with self.tom.db.session(readonly=True) as session:
            rows = {r.name: r for r in session.execute(select(RunnerStepRow)).scalars()}
        result = []
        for step in self.enabled_steps():
            row = rows.get(step)
            result.append({
                "step": step, "interval_s": self.interval(step),
                "last_started": row.last_started if row else None, "last_ok": row.last_ok if row else None,
                "runs": row.runs if row else 0, "failures": row.failures if row else 0,
                "last_error": row.last_error if row else None, "summary": row.summary if row else None,
                "running_in": row.lease_owner if row and row.lease_owner else None,
            })
        return result
