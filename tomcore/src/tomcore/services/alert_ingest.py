"""Alert ingestion: one page of broker alerts into targets and photometry, in one transaction.

For each page the :class:`PageIngester`

1. fetches the light curves the alerts lack (HTTP, concurrently, *outside* any
   transaction); an unreadable light curve is reported with its object id and skipped;
2. checks each alert's target (a NaN or out-of-range position is reported with the object
   id and the alert skipped);
3. in ONE transaction: saves the targets through the one matcher
   (``TargetService.save(on_duplicate="update", overwrite=False, overwrite_extras=True)``:
   an existing target matched by name, alias or position keeps its own fields (fills only
   empty ones) and gains the broker's id as an alias; the broker's extras (classification,
   score...) are set to the broker's latest values; otherwise a target is created), stores the light curves as
   typed photometry with provenance (source = broker, source_id = object id, the saved
   query's name, the ingest time; a point already stored is left out) and, for a saved
   query's run, what each alert did and the run's counts;
4. after the commit, fires ``on_targets_created``/``on_targets_updated``,
   ``on_alerts_ingested`` (once per page) and ``on_reduced_data_saved`` (the new points).

So an interrupted run loses no committed page, a rerun completes it, and running the same
query twice adds nothing the second time.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.alerts import Alert, AlertIngestReport, AlertPage
from tomcore.domain.data import PhotometryPoint, ReducedDataBatch

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.contracts.brokers import Broker
    from tomcore.services.targets import SaveReport


def _problem_text(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{field} {', '.join(reasons)}" if field != "_" else ", ".join(reasons)
                     for field, reasons in errors.items())


@attrs.define
class PreparedPage:
    """A page ready to be written: its alerts (one per object id, light curves fetched),
    the problems so far, how many records it had, how many the broker could not read."""

    alerts: list[Alert]
    problems: list[str]
    received: int
    unreadable: int


class PageIngester:
    """Ingest pages of one broker's alerts into a TOM.

    :param query_name: the saved query's name, recorded on every photometry point.
    :param run_id: the saved query's run to record each alert and the counts in.
    :param fetch_light_curves: fetch the light curves of alerts that come without one.
    :param target_list: add every target ingested to this target list (created if needed).
    """

    def __init__(self, tom: Tom, broker: Broker, *, query_name: str | None = None, run_id: int | None = None,
                 fetch_light_curves: bool = True, target_list: str | None = None) -> None:
        self.target_list = target_list
        self.tom = tom
        self.broker = broker
        self.query_name = query_name
        self.run_id = run_id
        self.fetch_light_curves = fetch_light_curves

    def ingest(self, page: AlertPage) -> tuple[AlertIngestReport, int, int]:
        """Ingest one page; return its report, how many records it had, and how many were
        skipped (records the broker could not read, alerts that could not become targets)."""
        return self.write(self.prepare(page))

    def prepare(self, page: AlertPage) -> PreparedPage:
        """Everything before the transaction: repeats dropped, light curves fetched (HTTP).
        Safe to run in another thread than :meth:`write`."""
        problems = list(page.problems)
        alerts: list[Alert] = list({a.object_id: a for a in reversed(page.alerts)}.values())[::-1]
        if self.fetch_light_curves:
            missing = [a.object_id for a in alerts if a.light_curve is None]
            if missing:
                curves = self.broker.light_curves(missing)
                problems.extend(curves.problems)
                for alert in alerts:
                    if alert.light_curve is None and alert.object_id in curves.points:
                        alert.light_curve = curves.points[alert.object_id]
        return PreparedPage(alerts, problems, received=len(page.alerts) + len(page.problems),
                            unreadable=len(page.problems))

    def write(self, prepared: PreparedPage) -> tuple[AlertIngestReport, int, int]:
        """The transaction of one prepared page, then the events."""
        alerts, received = prepared.alerts, prepared.received
        report = AlertIngestReport(broker=self.broker.name, query_name=self.query_name, alerts=[],
                                   problems=prepared.problems)
        if not alerts:
            self._record_empty(report, received, prepared.unreadable)
            self.tom.emit("on_alerts_ingested", report=report)
            return report, received, prepared.unreadable

        from tomcore.services.target_write import paused_gc

        with paused_gc(), self.tom.db.session() as session:
            # invalid targets (NaN or out-of-range positions) come back as errors, by object id
            targets = [a.to_target() for a in alerts]
            if self.target_list:
                for target in targets:
                    target.lists = [self.target_list]
            saved = self.tom.targets.save(
                targets, on_duplicate="update", overwrite=False, overwrite_extras=True, skip_invalid=True,
                source=self.broker.name, labels=[a.object_id for a in alerts], session=session,
            )
            target_of = self._targets_of(saved, alerts, report)
            report.alerts = [a for a in alerts if a.object_id in target_of]
            points: dict[int, list[PhotometryPoint]] = defaultdict(list)
            for alert in report.alerts:
                if alert.light_curve:
                    points[target_of[alert.object_id]].extend(alert.light_curve)
            added = self._insert_points(session, points, {t.id for t in saved.created if t.id is not None})
            self._classify(report, saved, target_of, added)
            report.target_ids = target_of
            skipped = prepared.unreadable + len(alerts) - len(target_of)
            if self.run_id is not None:
                self._record_run(session, report, received, skipped, added)
        self._emit(saved, report, added)
        return report, received, skipped

    # -- steps -----------------------------------------------------------------------------------

    @staticmethod
    def _targets_of(saved: SaveReport, alerts: list[Alert], report: AlertIngestReport) -> dict[str, int]:
        """Object id -> target id; alerts the save refused become problems."""
        result: dict[str, int] = {}
        outcomes = saved.outcomes
        for outcome, alert in zip(outcomes, alerts, strict=True):
            root = outcome
            seen = 0
            while root.target is None and root.duplicate_of is not None and seen < len(outcomes):
                root = outcomes[root.duplicate_of]
                seen += 1
            if root.target is not None and root.target.id is not None:
                result[alert.object_id] = root.target.id
            elif outcome.action == "error":
                report.problems.append(f"{alert.object_id}: skipped: {_problem_text(outcome.errors)}")
            else:
                report.problems.append(f"{alert.object_id}: skipped: not saved ({outcome.action})")
        return result

    def _insert_points(self, session: Session, points: dict[int, list[PhotometryPoint]],
                       new_targets: set[int]) -> dict[int, list[PhotometryPoint]]:
        from tomcore.services.photometry import insert_points

        if not points:
            return {}
        return insert_points(session, points, query_name=self.query_name, now=self.tom.now(), new_targets=new_targets)

    @staticmethod
    def _classify(report: AlertIngestReport, saved: SaveReport, target_of: dict[str, int],
                  added: dict[int, list[PhotometryPoint]]) -> None:
        """Distinct targets as created, updated (fields, names, extras or new points) or
        unchanged."""
        wanted = set(target_of.values())
        done: set[int] = set()
        for target in saved.created:
            if target.id in wanted and target.id not in done:
                report.created.append(target)
                done.add(target.id)
        for target in saved.updated:
            if target.id in wanted and target.id not in done:
                report.updated.append(target)
                done.add(target.id)
        for target in saved.unchanged:
            if target.id in wanted and target.id not in done:
                (report.updated if added.get(target.id) else report.unchanged).append(target)
                done.add(target.id)
        report.points_added = sum(len(p) for p in added.values())

    def _record_run(self, session: Session, report: AlertIngestReport, received: int, skipped: int,
                    added: dict[int, list[PhotometryPoint]]) -> None:
        from sqlalchemy import insert

        from tomcore.store.models import AlertQueryRunTargetRow

        action = {t.id: "created" for t in report.created}
        action.update({t.id: "updated" for t in report.updated})
        action.update({t.id: "unchanged" for t in report.unchanged})
        per_object: dict[str, int] = defaultdict(int)
        for points in added.values():
            for point in points:
                if point.source_id:
                    per_object[point.source_id] += 1
        rows = [{"run_id": self.run_id, "target_id": tid, "object_id": oid, "action": action.get(tid, "unchanged"),
                 "points_added": per_object.get(oid, 0)} for oid, tid in report.target_ids.items()]
        if rows:
            session.execute(insert(AlertQueryRunTargetRow), rows)
        self._add_counts(session, report, received, skipped)

    def _add_counts(self, session: Session, report: AlertIngestReport, received: int, skipped: int) -> None:
        from sqlalchemy import select

        from tomcore.store.models import AlertQueryRunRow

        run = session.execute(select(AlertQueryRunRow).where(AlertQueryRunRow.id == self.run_id)).scalar_one()
        run.pages += 1
        run.alerts += received
        run.created_count += len(report.created)
        run.updated_count += len(report.updated)
        run.unchanged_count += len(report.unchanged)
        run.skipped_count += skipped
        run.points_added += report.points_added
        if report.problems:
            run.problems = [*(run.problems or []), *report.problems][-200:]

    def _record_empty(self, report: AlertIngestReport, received: int, skipped: int) -> None:
        if self.run_id is None:
            return
        with self.tom.db.session() as session:
            self._add_counts(session, report, received, skipped)

    def _emit(self, saved: SaveReport, report: AlertIngestReport, added: dict[int, list[PhotometryPoint]]) -> None:
        self.tom.targets.emit(saved)
        self.tom.emit("on_alerts_ingested", report=report)
        if added:
            names = {t.id: t.name for t in (*report.created, *report.updated, *report.unchanged) if t.id is not None}
            batch = ReducedDataBatch(
                kind="photometry", counts={tid: len(p) for tid, p in added.items()},
                target_names={tid: names.get(tid, "") for tid in added}, source=self.broker.name,
                query_name=self.query_name, photometry=added,
            )
            self.tom.emit("on_reduced_data_saved", batch=batch)


_DONE = object()


@contextmanager
def prefetch(pages: Iterable[AlertPage], prepare: Callable[[AlertPage], PreparedPage],
             ahead: int = 1) -> Iterator[Iterator[PreparedPage]]:
    """Iterate ``prepare(page)`` for each page, computed in a background thread up to
    ``ahead`` pages in advance. An exception in the thread is raised by the iterator at the
    point it happened; leaving the block stops the thread."""
    if ahead <= 0:
        yield (prepare(page) for page in pages)
        return
    box: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if stop.is_set() or not put(prepare(page)):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Raised(exc))

    def consume() -> Iterator[PreparedPage]:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item

    thread = threading.Thread(target=produce, name="tom-alerts-prefetch", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join(timeout=30)
        close = getattr(pages, "close", None)
        if close is not None and not thread.is_alive():
            close()


@attrs.define
class _Raised:
    exc: BaseException


def summary_row(summary: Any) -> dict[str, Any]:
    """A flat row of an :class:`IngestSummary` or :class:`QueryRunSummary` for tables."""
    return {k: getattr(summary, k, None) for k in (
        "name", "broker", "status", "started", "since", "pages", "alerts", "created", "updated", "unchanged",
        "skipped", "points_added", "error")}
