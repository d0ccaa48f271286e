"""Alerts as brokers hand them to the core."""

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
