"""Saved broker queries and their runs.

A saved query is a broker and validated parameters under a name. :meth:`SavedQueries.run`
runs some or all of them, each on its own: a query that fails (the broker gave up, its
parameters no longer validate) is recorded as failed with one message and the others still
run. Each run is recorded (``alert_query_runs``) with when it started and finished, the
time filter it sent, its counts and what each alert did; where the broker supports a time
filter, a run asks only for data newer than the start of the last successful run (less
``alerts.since_overlap_hours``, since brokers publish late alerts; ingestion is idempotent,
so the overlap costs nothing twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tomcore.domain.alerts import QueryRunSummary, SavedQuery
from tomcore.errors import NotFoundError, TomError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.contracts.brokers import Broker

log = logging.getLogger("tomcore.alerts")


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validated parameters as stored (datetimes as ISO 8601 text)."""
    result: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list):
            value = [v.isoformat() if isinstance(v, datetime) else v for v in value]
        result[key] = value
    return result


def _row_to_saved(row: Any, summary: str | None = None) -> SavedQuery:
    return SavedQuery(id=row.id, name=row.name, broker=row.broker, parameters=dict(row.parameters or {}),
                      target_list=row.target_list,
                      created=row.created, modified=row.modified, last_run=row.last_run,
                      last_status=row.last_status, last_success=row.last_success, last_summary=summary)


def _run_to_summary(name: str, broker: str, run: Any) -> QueryRunSummary:
    return QueryRunSummary(
        name=name, broker=broker, run_id=run.id, status=run.status, started=run.started, finished=run.finished,
        since=run.since, pages=run.pages, alerts=run.alerts, created=run.created_count,
        updated=run.updated_count, unchanged=run.unchanged_count, skipped=run.skipped_count,
        points_added=run.points_added, problems=list(run.problems or []), error=run.error,
    )


def describe_run(run: QueryRunSummary) -> str:
    """``"ok: 12 alerts: 3 created, 9 unchanged; 40 new points"``."""
    text = (f"{run.status}: {run.alerts} alerts: {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged; {run.points_added} new points")
    if run.skipped:
        text += f"; {run.skipped} skipped"
    if run.error:
        text += f" ({run.error})"
    return text


class SavedQueries:
    """The saved queries of one TOM (``tom.alerts.saved_queries``)."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    # -- keeping them ------------------------------------------------------------------------------

    def save(self, name: str, broker: Broker, params: dict[str, Any], *, replace: bool = False,
             target_list: str | None = None) -> SavedQuery:
        """Save validated ``params`` of ``broker`` as ``name``; ``replace`` an existing one
        (its run history is kept) or refuse with a :class:`ValidationError`."""
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow

        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationError("a saved query needs a name of 1 to 200 characters", {"name": [repr(name)]})
        stored = jsonable_params(params)
        now = self.tom.now()
        with self.tom.db.session() as s:
            row = s.execute(select(AlertQueryRow).where(AlertQueryRow.name == name)).scalar_one_or_none()
            if row is not None and not replace:
                raise ValidationError(f"a saved query named {name!r} exists",
                                      {"name": ["use --replace to change it, or pick another name"]})
            if row is None:
                row = AlertQueryRow(name=name, broker=broker.name, parameters=stored, target_list=target_list or None,
                                    created=now, modified=now)
                s.add(row)
            else:
                if row.broker != broker.name:
                    row.last_success = None  # another broker: the time filter starts again
                row.broker, row.parameters, row.modified = broker.name, stored, now
                row.target_list = target_list or None
            s.flush()
            return _row_to_saved(row)

    def listing(self) -> list[SavedQuery]:
        """Every saved query, by name, with a description of its last run."""
        from sqlalchemy import func, select

        from tomcore.store.models import AlertQueryRow, AlertQueryRunRow

        with self.tom.db.session(readonly=True) as s:
            rows = s.execute(select(AlertQueryRow).order_by(AlertQueryRow.name)).scalars().all()
            latest = dict(s.execute(
                select(AlertQueryRunRow.query_id, func.max(AlertQueryRunRow.id)).group_by(AlertQueryRunRow.query_id)
            ).all())
            runs = {r.query_id: r for r in s.execute(
                select(AlertQueryRunRow).where(AlertQueryRunRow.id.in_(list(latest.values())))).scalars()} if latest else {}
            return [_row_to_saved(r, describe_run(_run_to_summary(r.name, r.broker, runs[r.id])) if r.id in runs else None)
                    for r in rows]

    def get(self, name: str) -> SavedQuery:
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow

        with self.tom.db.session(readonly=True) as s:
            row = s.execute(select(AlertQueryRow).where(AlertQueryRow.name == name)).scalar_one_or_none()
            if row is None:
                raise NotFoundError(self._unknown([name]))
            return _row_to_saved(row)

    def delete(self, name: str) -> None:
        """Delete a saved query and its run history (targets and photometry stay)."""
        from sqlalchemy import delete

        from tomcore.store.models import AlertQueryRow

        with self.tom.db.session() as s:
            result: Any = s.execute(delete(AlertQueryRow).where(AlertQueryRow.name == name))
            if result.rowcount == 0:
                raise NotFoundError(self._unknown([name]))

    def history(self, name: str, *, limit: int = 20) -> list[QueryRunSummary]:
        """The latest runs of a saved query, newest first."""
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow, AlertQueryRunRow

        with self.tom.db.session(readonly=True) as s:
            query = s.execute(select(AlertQueryRow).where(AlertQueryRow.name == name)).scalar_one_or_none()
            if query is None:
                raise NotFoundError(self._unknown([name]))
            runs = s.execute(select(AlertQueryRunRow).where(AlertQueryRunRow.query_id == query.id)
                             .order_by(AlertQueryRunRow.id.desc()).limit(limit)).scalars().all()
            return [_run_to_summary(query.name, query.broker, r) for r in runs]

    def ingested(self, run_id: int) -> list[dict[str, Any]]:
        """What one run ingested: object id, target, action and new points per alert."""
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRunTargetRow, TargetRow

        with self.tom.db.session(readonly=True) as s:
            rows = s.execute(
                select(AlertQueryRunTargetRow.object_id, TargetRow.name, AlertQueryRunTargetRow.action,
                       AlertQueryRunTargetRow.points_added)
                .join(TargetRow, TargetRow.id == AlertQueryRunTargetRow.target_id)
                .where(AlertQueryRunTargetRow.run_id == run_id).order_by(AlertQueryRunTargetRow.id)
            ).all()
        return [{"object_id": o, "target": t, "action": a, "points_added": p} for o, t, a, p in rows]

    def _unknown(self, names: Sequence[str]) -> str:
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow

        with self.tom.db.session(readonly=True) as s:
            known = s.execute(select(AlertQueryRow.name).order_by(AlertQueryRow.name)).scalars().all()
        which = ", ".join(repr(n) for n in names)
        return (f"no saved query named {which} (saved: {', '.join(known)})" if known
                else f"no saved query named {which}; save one with `tom alerts save NAME BROKER ...`")

    # -- running them ------------------------------------------------------------------------------

    def run(self, names: Sequence[str] | None = None, *, all: bool = False,
            progress: Callable[[int], None] | None = None) -> list[QueryRunSummary]:
        """Run saved queries by name (or ``all``), each independently; return one summary
        each, in order. Unknown names raise :class:`NotFoundError` before anything runs."""
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow

        if not names and not all:
            raise ValidationError("say which saved queries to run", {"names": ["give names or --all"]})
        with self.tom.db.session(readonly=True) as s:
            if all:
                chosen = list(s.execute(select(AlertQueryRow.name).order_by(AlertQueryRow.name)).scalars())
            else:
                wanted = list(dict.fromkeys(names or ()))
                found = set(s.execute(select(AlertQueryRow.name).where(AlertQueryRow.name.in_(wanted))).scalars())
                missing = [n for n in wanted if n not in found]
                if missing:
                    raise NotFoundError(self._unknown(missing))
                chosen = wanted
        return [self.run_one(name, progress=progress) for name in chosen]

    def run_one(self, name: str, *, progress: Callable[[int], None] | None = None) -> QueryRunSummary:
        """Run one saved query; failures are recorded and returned, never raised."""
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow, AlertQueryRunRow

        now = self.tom.now()
        with self.tom.db.session() as s:
            query = s.execute(select(AlertQueryRow).where(AlertQueryRow.name == name)).scalar_one_or_none()
            if query is None:
                raise NotFoundError(self._unknown([name]))
            broker_name, stored, last_success = query.broker, dict(query.parameters or {}), query.last_success
            target_list = query.target_list
            summary = QueryRunSummary(name=name, broker=broker_name, started=now)
            try:
                broker = self.tom.alerts.broker(broker_name)
                params = broker.validate(stored)
                if broker.supports_since and last_success is not None:
                    overlap = float(self.tom.settings.get("alerts", "since_overlap_hours"))
                    summary.since = last_success - timedelta(hours=overlap)
            except TomError as exc:
                broker, params = None, {}
                summary.status, summary.error = "failed", str(exc)
            run = AlertQueryRunRow(query_id=query.id, started=now, since=summary.since, status="running")
            s.add(run)
            query.last_run, query.last_status = now, "running"
            s.flush()
            summary.run_id = run.id
        if broker is not None:
            try:
                self.tom.alerts.ingest_pages(
                    broker, broker.query(params, since=summary.since), query_name=name, run_id=summary.run_id,
                    progress=progress, target_list=target_list,
                )
                summary.status = "ok"
            except TomError as exc:
                summary.status, summary.error = "failed", str(getattr(exc, "cause", None) or exc)
            except Exception as exc:  # a plugin bug must not stop the other queries
                log.exception("saved query %r failed", name)
                summary.status, summary.error = "failed", f"unexpected {type(exc).__name__}: {exc}"
        return self._finish(name, summary)

    def _finish(self, name: str, summary: QueryRunSummary) -> QueryRunSummary:
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRow, AlertQueryRunRow

        with self.tom.db.session() as s:
            run = s.execute(select(AlertQueryRunRow).where(AlertQueryRunRow.id == summary.run_id)).scalar_one()
            query = s.execute(select(AlertQueryRow).where(AlertQueryRow.name == name)).scalar_one()
            run.status, run.finished, run.error = summary.status, self.tom.now(), summary.error
            query.last_status = summary.status
            if summary.status == "ok":
                query.last_success = run.started
            s.flush()
            return _run_to_summary(name, summary.broker, run)
