"""Alerts: the brokers, their queries, ingestion, and saved queries (``tom.alerts``).

:class:`AlertService` is what the CLI, the runner (``tom run``) and scripts use::

    pages = tom.alerts.query("alerce", {"classifier": "lc_classifier", "class_name": "SNIa"}, limit=50)
    summary = tom.alerts.ingest("alerce", {"oid": ["ZTF24abcdxyz"]})
    tom.alerts.save_query("nightly-snia", "alerce", {...})
    runs = tom.alerts.run_saved(all=True)

Parameters are validated against the broker's declared ``params`` (every bad one named)
before the broker sees them. Ingestion is in :mod:`tomcore.services.alert_ingest`, saved
queries in :mod:`tomcore.services.saved_queries`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tomcore.domain.alerts import (
    Alert,
    AlertIngestReport,
    AlertPage,
    IngestSummary,
    QueryRunSummary,
    RefreshSummary,
    SavedQuery,
)
from tomcore.errors import TomError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.contracts.brokers import Broker, Choice
    from tomcore.services.saved_queries import SavedQueries


class IngestInterrupted(TomError):
    """An ingest stopped part-way (the broker gave up, the query was rejected). What was
    committed before stays; ``summary`` says what that was and ``cause`` is the error."""

    def __init__(self, cause: TomError, summary: IngestSummary) -> None:
        self.cause = cause
        self.summary = summary
        kept = f"kept what was ingested before: {summary.describe()}" if summary.pages else "nothing was ingested"
        super().__init__(f"{cause} ({kept})")


class AlertService:
    """Brokers, queries, ingestion and saved queries of one TOM."""

    #: Pages fetched ahead (in a thread) while the current one is written; 0 for none.
    prefetch_pages = 1

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    # -- brokers -------------------------------------------------------------------------------

    def brokers(self) -> list[Broker]:
        """Every registered broker, by name."""
        return [broker for _, broker in self.tom.components.brokers.items()]

    def broker(self, name: str) -> Broker:
        """The broker called ``name`` (:class:`UnknownComponentError` listing the others)."""
        return self.tom.components.brokers.get(name)

    def validate(self, broker: str | Broker, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check query parameters; return them converted (:class:`ValidationError` lists
        every bad one)."""
        return self._broker(broker).validate(params)

    def choices(self, broker: str | Broker, param: str) -> list[Choice]:
        """The live allowed values of a parameter (ALeRCE classifiers, ANTARES tags)."""
        return self._broker(broker).choices(param)

    def _broker(self, broker: str | Broker) -> Broker:
        return self.broker(broker) if isinstance(broker, str) else broker

    # -- querying ------------------------------------------------------------------------------

    def query(self, broker: str | Broker, params: Mapping[str, Any], *, limit: int | None = None,
              since: datetime | None = None) -> Iterator[AlertPage]:
        """Validate ``params`` then yield the broker's pages of alerts (no light curves)."""
        found = self._broker(broker)
        checked = found.validate(params)
        if limit is not None and limit <= 0:
            return iter(())
        return found.query(checked, limit=limit, since=since if found.supports_since else None)

    def show(self, broker: str | Broker, object_id: str) -> Alert:
        """One object from the broker, with its light curve."""
        return self._broker(broker).fetch(object_id.strip())

    # -- ingesting -----------------------------------------------------------------------------

    def ingest(self, broker: str | Broker, params: Mapping[str, Any], *, limit: int | None = None,
               since: datetime | None = None, query_name: str | None = None,
               progress: Callable[[int], None] | None = None,
               on_page: Callable[[AlertIngestReport], None] | None = None,
               target_list: str | None = None) -> IngestSummary:
        """Run a query and ingest every page (one transaction each) with light curves;
        ``target_list`` names a target list every ingested target joins.

        Raises :class:`IngestInterrupted` (keeping what was committed) when the broker gives
        up part-way.
        """
        found = self._broker(broker)
        pages = self.query(found, params, limit=limit, since=since)
        return self.ingest_pages(found, pages, query_name=query_name, progress=progress, on_page=on_page,
                                 target_list=target_list)

    def ingest_pages(self, broker: str | Broker, pages: Iterable[AlertPage], *, query_name: str | None = None,
                     run_id: int | None = None, fetch_light_curves: bool = True,
                     progress: Callable[[int], None] | None = None,
                     on_page: Callable[[AlertIngestReport], None] | None = None,
                     target_list: str | None = None) -> IngestSummary:
        """Ingest pages of alerts (from :meth:`query`, or built by hand), one transaction
        per page; ``progress(n)`` after each page with the alerts it had."""
        from tomcore.services.alert_ingest import PageIngester, prefetch

        found = self._broker(broker)
        ingester = PageIngester(self.tom, found, query_name=query_name, run_id=run_id,
                                fetch_light_curves=fetch_light_curves, target_list=target_list)
        summary = IngestSummary(broker=found.name, query_name=query_name)
        # Pages are fetched (with their light curves) one ahead in a thread while the current
        # one is written: HTTP waits and parsing overlap the database work.
        with prefetch(pages, ingester.prepare, ahead=self.prefetch_pages) as prepared_pages:
            while True:
                try:
                    prepared = next(prepared_pages)
                    report, received, skipped = ingester.write(prepared)
                except StopIteration:
                    break
                except TomError as exc:
                    raise IngestInterrupted(exc, summary) from exc
                summary.add(report, received, skipped)
                if progress is not None:
                    progress(received)
                if on_page is not None:
                    on_page(report)
        return summary

    def ingest_alerts(self, broker: str | Broker, alerts: Sequence[Alert], *, query_name: str | None = None,
                      fetch_light_curves: bool = True) -> AlertIngestReport:
        """Ingest alerts you already have (from :meth:`show`, a stream...) as one page."""
        from tomcore.services.alert_ingest import PageIngester

        ingester = PageIngester(self.tom, self._broker(broker), query_name=query_name,
                                fetch_light_curves=fetch_light_curves)
        return ingester.ingest(AlertPage(alerts=list(alerts)))[0]

    def refresh(self, brokers: Sequence[str] | None = None, *, targets: Sequence[str] | None = None,
                progress: Callable[[int], None] | None = None) -> list[RefreshSummary]:
        """Fetch again the light curves of the broker objects already in the TOM (those
        some photometry came from) and add the new points to their targets; ``brokers``
        (default: every broker) and ``targets`` (names or aliases) narrow it. One
        transaction per chunk of objects; a :class:`ServiceError` when a broker gives up
        (the chunks finished before stay)."""
        from tomcore.services.alert_refresh import refresh

        chosen = [self.broker(name) for name in dict.fromkeys(brokers)] if brokers else self.brokers()
        target_ids: list[int] | None = None
        if targets:
            with self.tom.db.session(readonly=True) as session:
                target_ids = list(self.tom.targets.resolve_ids(session, list(targets)).values())
        return [refresh(self.tom, broker, target_ids=target_ids, progress=progress) for broker in chosen]

    # -- saved queries -------------------------------------------------------------------------

    @cached_property
    def saved_queries(self) -> SavedQueries:
        from tomcore.services.saved_queries import SavedQueries

        return SavedQueries(self.tom)

    def save_query(self, name: str, broker: str | Broker, params: Mapping[str, Any], *,
                   replace: bool = False, target_list: str | None = None) -> SavedQuery:
        """Validate and save a query under ``name`` (``replace`` an existing one);
        ``target_list`` names a target list every target its runs ingest joins."""
        found = self._broker(broker)
        return self.saved_queries.save(name, found, found.validate(params), replace=replace, target_list=target_list)

    def saved(self) -> list[SavedQuery]:
        """Every saved query with its last run."""
        return self.saved_queries.listing()

    def get_saved(self, name: str) -> SavedQuery:
        return self.saved_queries.get(name)

    def delete_saved(self, name: str) -> None:
        self.saved_queries.delete(name)

    def history(self, name: str, *, limit: int = 20) -> list[QueryRunSummary]:
        """The latest runs of a saved query, newest first."""
        return self.saved_queries.history(name, limit=limit)

    def run_saved(self, names: Sequence[str] | None = None, *, all: bool = False,
                  progress: Callable[[int], None] | None = None) -> list[QueryRunSummary]:
        """Run saved queries by name, or ``all`` of them, each on its own: one that fails is
        recorded (``status="failed"``, ``error``) and the others still run. Idempotent:
        running again adds only what is new. Unknown names raise :class:`NotFoundError`
        before anything runs."""
        return self.saved_queries.run(names, all=all, progress=progress)
