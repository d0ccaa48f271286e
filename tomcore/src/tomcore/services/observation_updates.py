"""Keeping records current: polling facilities in batches, and downloading the data of
completed requests into the TOM's storage.

:class:`StatusUpdater` asks each facility for the status of all its open records (and of
those it ended recently, since a facility may reopen them: ``Facility.watch_hours``) in
batches of ``observations.batch_size``, one call per batch. Each batch is written in one
transaction that re-reads the rows under a lock and changes only what is still different,
so two runners polling together never record a change twice. One failing facility is
reported and the others are still polled. ``on_observation_status_changed`` fires once,
with every change.

:class:`DataDownloader` lists the files of completed records (for
``observations.data_hours`` after completion, and at least once), streams the new ones
into storage through ``tom.data.store`` (checksummed, skipped when already there) and
fires ``on_data_product_saved`` once for the batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.errors import TomError
from tomcore.services.observation_records import (
    NOT_SUBMITTED,
    SUBMITTING,
    apply_status,
    changes_for,
)

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.contracts.facilities import Facility, RemoteProduct
    from tomcore.domain.data import DataProductInfo
    from tomcore.domain.observations import StatusChange
    from tomcore.services.observations import ObservationService

log = logging.getLogger("tomcore.observations")

#: A placeholder record older than this is an interrupted submission (a live one finishes
#: within the HTTP timeouts and retries).
SUBMIT_GRACE = timedelta(minutes=10)
CHUNK_BYTES = 1 << 20


@attrs.define
class UpdateReport:
    """What an update did: records asked about, the changes, and what went wrong."""

    checked: int = 0
    changes: list[StatusChange] = attrs.Factory(list)
    errors: dict[str, str] = attrs.Factory(dict)
    missing: list[str] = attrs.Factory(list)
    recovered: int = 0

    def summary(self) -> dict[str, Any]:
        return {"checked": self.checked, "changed": len(self.changes), "errors": dict(self.errors),
                "missing": len(self.missing), "recovered": self.recovered}


@attrs.define
class DownloadReport:
    """What a download run stored, skipped (already there) and could not get."""

    records: int = 0
    stored: list[DataProductInfo] = attrs.Factory(list)
    skipped: int = 0
    errors: list[str] = attrs.Factory(list)

    def summary(self) -> dict[str, Any]:
        return {"records": self.records, "stored": len(self.stored), "skipped": self.skipped,
                "errors": list(self.errors)}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class StatusUpdater:
    def __init__(self, tom: Tom, observations: ObservationService) -> None:
        self.tom = tom
        self.observations = observations

    @property
    def batch_size(self) -> int:
        return max(1, int(self.tom.settings.get("observations", "batch_size")))

    def run(self, records: Sequence[int | str] | None = None, *, facility: str | None = None,
            target: str | None = None, progress: Callable[[int], None] | None = None) -> UpdateReport:
        from sqlalchemy import or_, select

        from tomcore.store.models import ObservationRecordRow as Row

        report = UpdateReport()
        now = self.tom.now()
        report.recovered, recovered_changes = self._recover(now, records)
        report.changes.extend(recovered_changes)
        query = select(Row.id, Row.facility, Row.facility_id, Row.status, Row.created, Row.terminal, Row.terminal_at,
                       Row.scheduled_start, Row.scheduled_end).where(
            Row.facility_id.is_not(None), Row.status != SUBMITTING)
        with self.tom.db.session(readonly=True) as session:
            if records is not None:
                ids = [self.observations._row(session, r).id for r in records]
                query = query.where(Row.id.in_(ids))
            else:
                longest = max((f.watch_hours() for f in self.observations.facilities()), default=0.0)
                query = query.where(or_(Row.terminal.is_(False), Row.terminal_at >= now - timedelta(hours=longest)))
            if facility:
                query = query.where(Row.facility == facility.lower())
            if target:
                query = query.where(Row.target_id == self.tom.targets.resolve_id(session, target))
            rows = session.execute(query.order_by(Row.id)).all()
        by_facility: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_facility[row.facility].append(row)
        try:
            for name, items in sorted(by_facility.items()):
                component = self.observations._facility_or_none(name)
                if component is None:
                    report.errors[name] = (f"facility {name!r} is not installed: {len(items)} record(s) not updated "
                                           "(install its plugin)")
                    continue
                if not component.robotic:
                    continue
                if records is None:
                    watch = timedelta(hours=component.watch_hours())
                    items = [r for r in items if not r.terminal or (r.terminal_at and r.terminal_at >= now - watch)]
                self._poll(component, items, report, progress)
        finally:
            self.observations.emit(report.changes)
        return report

    def _poll(self, component: Facility, items: list[Any], report: UpdateReport,
              progress: Callable[[int], None] | None) -> None:
        from sqlalchemy import select, update

        from tomcore.store.models import ObservationRecordRow as Row

        for chunk in _chunks(items, component.status_batch or self.batch_size):
            known = {str(r.facility_id): r.status for r in chunk}
            try:
                statuses = component.status(list(known), since=min(r.created for r in chunk), known=known)
            except TomError as exc:
                report.errors[component.name] = str(exc)
                log.info("status update of %s failed: %s", component.name, exc)  # in report.errors
                return  # this facility is failing: try again next time, the others go on
            report.checked += len(chunk)
            now = self.tom.now()
            report.missing.extend(str(r.facility_id) for r in chunk if str(r.facility_id) not in statuses)
            # Only rows whose status or schedule differs are read (under a lock) and written.
            different = [r.id for r in chunk if (remote := statuses.get(str(r.facility_id))) is not None and (
                remote.status != r.status
                or (remote.scheduled_start is not None and remote.scheduled_start != r.scheduled_start)
                or (remote.scheduled_end is not None and remote.scheduled_end != r.scheduled_end))]
            with self.tom.db.session() as session:
                for ids in _chunks([r.id for r in chunk], 900):
                    session.execute(update(Row).where(Row.id.in_(ids)).values(last_checked=now)
                                    .execution_options(synchronize_session=False))
                applied = []
                for ids in _chunks(different, 900):
                    query = select(Row).where(Row.id.in_(ids)).order_by(Row.id)
                    if self.tom.db.dialect == "postgresql":
                        query = query.with_for_update()
                    for row in session.execute(query).scalars():
                        remote = statuses[str(row.facility_id)]
                        result = apply_status(session, row, component, remote.status, now, source="update",
                                              remote=remote)
                        if result is not None:
                            applied.append((row, result[0], result[1]))
                report.changes.extend(changes_for(session, applied, now))
            if progress is not None:
                progress(len(chunk))

    def _recover(self, now: Any, records: Sequence[int | str] | None) -> tuple[int, list[StatusChange]]:
        """Resolve submissions interrupted between the placeholder and the facility's answer."""
        from sqlalchemy import select

        from tomcore.store.models import ObservationRecordRow as Row

        with self.tom.db.session(readonly=True) as session:
            stale = session.execute(
                select(Row.id, Row.facility, Row.name).where(Row.status == SUBMITTING, Row.created < now - SUBMIT_GRACE)
            ).all()
        count, changes = 0, []
        for record_id, facility, name in stale:
            component = self.observations._facility_or_none(facility)
            if component is None:
                continue
            try:
                found = component.find_submission(name) if name else None
            except TomError as exc:
                log.warning("could not ask %s about submission %r: %s", facility, name, exc)
                continue
            if found is not None and found.facility_ids:
                with self.tom.db.session() as session:
                    existing = session.execute(select(Row.id).where(
                        Row.facility == facility, Row.facility_id == str(found.facility_ids[0]))).first()
                    if existing is None:
                        _infos, made = self.observations.record_submission(record_id, component, found, session=session)
                        changes.extend(made)
                        count += 1
                        continue
            with self.tom.db.session() as session:
                row = session.get(Row, record_id)
                if row is not None and row.status == SUBMITTING:
                    reason = (f"the submission was interrupted and {facility} has no request named {name!r}"
                              if found is None else "the submission was interrupted; its request is already recorded")
                    result = apply_status(session, row, component, NOT_SUBMITTED, now, source="update",
                                          detail={"reason": reason})
                    if result is not None:
                        changes.extend(changes_for(session, [(row, result[0], result[1])], now))
                    count += 1
        return count, changes


class DataDownloader:
    def __init__(self, tom: Tom, observations: ObservationService) -> None:
        self.tom = tom
        self.observations = observations

    def run(self, records: Sequence[int | str] | None = None, *,
            progress: Callable[[int], None] | None = None) -> DownloadReport:
        from sqlalchemy import or_, select

        from tomcore.store.models import ObservationRecordRow as Row

        report = DownloadReport()
        now = self.tom.now()
        hours = float(self.tom.settings.get("observations", "data_hours"))
        query = select(Row.id, Row.target_id, Row.facility, Row.facility_id).where(
            Row.success.is_(True), Row.facility_id.is_not(None))
        with self.tom.db.session(readonly=True) as session:
            if records is not None:
                query = query.where(Row.id.in_([self.observations._row(session, r).id for r in records]))
            else:
                query = query.where(or_(Row.data_checked.is_(None), Row.terminal_at >= now - timedelta(hours=hours)))
            rows = session.execute(query.order_by(Row.id)).all()
        with self.tom.data.collect():
            for row in rows:
                component = self.observations._facility_or_none(row.facility)
                if component is None or not component.robotic:
                    continue
                report.records += 1
                self._one(component, row, report)
                if progress is not None:
                    progress(1)
        return report

    def _one(self, component: Facility, row: Any, report: DownloadReport) -> None:
        from sqlalchemy import func, select

        from tomcore.store.models import DataProductRow
        from tomcore.store.models import ObservationRecordRow as Row

        try:
            products = component.data_products(str(row.facility_id))
        except TomError as exc:
            report.errors.append(f"record {row.id} ({component.name} {row.facility_id}): {exc}")
            return
        complete = True
        for product in products:
            if self.tom.data.find(row.target_id, product_id=product.key, source=component.name) is not None:
                report.skipped += 1
                continue
            try:
                stored = self.tom.data.store(
                    row.target_id, self._opener(component, product), name=product.name,
                    data_type=self._data_type(product.data_type), provenance="facility", source=component.name,
                    observation_id=row.id, checksum=product.checksum, size=product.size, product_id=product.key,
                    metadata={"facility_id": product.facility_id, "time": product.time.isoformat() if product.time else None},
                )
            except TomError as exc:
                complete = False
                report.errors.append(f"record {row.id}: {product.name}: {exc}")
                continue
            if stored.existing:
                report.skipped += 1
            else:
                report.stored.append(stored)
        with self.tom.db.session() as session:
            record = session.get(Row, row.id)
            if record is not None:
                if complete:
                    record.data_checked = self.tom.now()
                record.data_count = session.execute(
                    select(func.count()).select_from(DataProductRow).where(DataProductRow.observation_id == row.id)
                ).scalar_one()

    def _data_type(self, data_type: str) -> str:
        try:
            return str(self.tom.data.check_type(data_type))
        except TomError:
            return "other"

    @staticmethod
    def _opener(component: Facility, product: RemoteProduct) -> Callable[[], Iterator[bytes]]:
        """Open the download only when the file must be stored; close it when read."""

        def chunks() -> Iterator[bytes]:
            stream = component.open_product(product)
            try:
                while chunk := stream.read(CHUNK_BYTES):
                    yield chunk
            finally:
                stream.close()

        return chunks
