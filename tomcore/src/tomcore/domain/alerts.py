"""Alerts as brokers hand them to the core, and what ingesting them did.

A broker yields :class:`AlertPage` objects of :class:`Alert`; the core turns each alert into
a target (through the one matcher) with its light curve, one page per transaction, and
reports each page as an :class:`AlertIngestReport` (the ``on_alerts_ingested`` event), a
whole ingest as an :class:`IngestSummary`, and a run of a saved query as a
:class:`QueryRunSummary`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from tomcore.domain.data import PhotometryPoint
from tomcore.domain.targets import Target


@attrs.define(kw_only=True)
class Alert:
    """One object found by a broker query.

    :param broker: the broker's name (``alerce``).
    :param object_id: the broker's id of the object (``ZTF21abcdefg``, an ANTARES locus id).
    :param name: the name a target created from it gets (often the survey id).
    :param mag: the latest magnitude; ``score`` the broker's score or probability.
    :param aliases: other names of the object (survey ids, locus ids).
    :param extras: typed values to store on the target (tags, classification...).
    :param light_curve: detections and upper limits, when the query returns them; None when
        they must be fetched with ``broker.light_curve(object_id)``.
    :param raw: the broker's record, untouched.
    """

    broker: str
    object_id: str
    name: str
    ra: float | None = None
    dec: float | None = None
    mag: float | None = None
    score: float | None = None
    classification: str | None = None
    discovery_time: datetime | None = None
    latest_time: datetime | None = None
    url: str | None = None
    aliases: list[str] = attrs.Factory(list)
    extras: dict[str, Any] = attrs.Factory(dict)
    light_curve: list[PhotometryPoint] | None = None
    raw: Any = attrs.field(default=None, repr=False)

    def to_target(self) -> Target:
        """The target this alert describes (not saved)."""
        aliases = [a for a in dict.fromkeys([self.object_id, *self.aliases]) if a and a != self.name]
        return Target(name=self.name, ra=self.ra, dec=self.dec, aliases=aliases, extras=dict(self.extras))


@attrs.define(kw_only=True)
class AlertPage:
    """One page of a broker query: the alerts it parsed and the records it had to skip.

    :param problems: one message per skipped record, naming its object id and the reason.
    """

    alerts: list[Alert] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)
    #: How many results the whole query has, when the broker says (for progress bars).
    total: int | None = None


@attrs.define(kw_only=True)
class AlertIngestReport:
    """What one ingested page did, for ``on_alerts_ingested`` and the CLI summary."""

    broker: str
    query_name: str | None
    alerts: list[Alert]
    created: list[Target] = attrs.Factory(list)
    updated: list[Target] = attrs.Factory(list)
    unchanged: list[Target] = attrs.Factory(list)
    points_added: int = 0
    problems: list[str] = attrs.Factory(list)
    #: The target each alert went to: object id -> target id (skipped alerts are absent).
    target_ids: dict[str, int] = attrs.Factory(dict)


@attrs.define(kw_only=True)
class IngestSummary:
    """What a whole ingest (every page of a query) did. ``targets_*`` count distinct
    targets: a target that got only new photometry counts as updated."""

    broker: str
    query_name: str | None = None
    pages: int = 0
    alerts: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    points_added: int = 0
    problems: list[str] = attrs.Factory(list)

    def add(self, report: AlertIngestReport, received: int, skipped: int) -> None:
        self.pages += 1
        self.alerts += received
        self.created += len(report.created)
        self.updated += len(report.updated)
        self.unchanged += len(report.unchanged)
        self.skipped += skipped
        self.points_added += report.points_added
        self.problems.extend(report.problems)

    def describe(self) -> str:
        """``"120 alerts: 100 created, 15 updated, 5 unchanged; 2400 new points"``."""
        text = (f"{self.alerts} alerts: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged; {self.points_added} new points")
        if self.skipped:
            text += f"; {self.skipped} skipped"
        return text


@attrs.define(kw_only=True)
class RefreshSummary:
    """What refreshing the light curves of stored broker objects did, for one broker
    (``tom alerts update``): objects asked for, targets that got new points, points added,
    and the objects the broker could not give (``problems``)."""

    broker: str
    objects: int = 0
    targets_updated: int = 0
    points_added: int = 0
    problems: list[str] = attrs.Factory(list)

    def describe(self) -> str:
        """``"40 objects: 12 targets updated; 37 new points"``."""
        text = f"{self.objects} objects: {self.targets_updated} targets updated; {self.points_added} new points"
        if self.problems:
            text += f"; {len(self.problems)} not refreshed"
        return text


@attrs.define(kw_only=True)
class SavedQuery:
    """A named broker query kept in the TOM, run by ``tom alerts run`` and ``tom run``.

    :param since: the time the next run asks for new data from (the start of the last run
        that finished, less the overlap), when the broker supports it.
    """

    id: int
    name: str
    broker: str
    parameters: dict[str, Any]
    target_list: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    last_run: datetime | None = None
    last_status: str | None = None
    last_success: datetime | None = None
    last_summary: str | None = None


@attrs.define(kw_only=True)
class QueryRunSummary:
    """One run of a saved query: when, what it asked for, what it ingested.

    :param status: ``ok``, ``failed`` (the broker gave up or the query was rejected; what
        was ingested before stays), or ``running`` (still going, or interrupted).
    :param since: the time filter sent, when the broker supports one.
    """

    name: str
    broker: str
    run_id: int | None = None
    status: str = "running"
    started: datetime | None = None
    finished: datetime | None = None
    since: datetime | None = None
    pages: int = 0
    alerts: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    points_added: int = 0
    problems: list[str] = attrs.Factory(list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"
