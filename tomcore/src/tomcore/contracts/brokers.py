"""The broker contract: what an alert-broker plugin implements.

A broker declares its query parameters (:class:`tomcore.contracts.base.Param`); the CLI
builds ``tom alerts query BROKER`` options from them and the core validates values before
the broker sees them. Ingestion (matching alerts to targets, storing light curves, saved
queries, idempotence) is the core's job, not the plugin's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from tomcore.contracts.base import Component, Param
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint


class Broker(Component):
    """Base class of alert brokers."""

    #: The parameters ``query`` accepts.
    params: ClassVar[tuple[Param, ...]] = ()
    #: True when ``query`` honours ``since`` (only objects changed since then), so saved
    #: queries ask only for what changed since their last run.
    supports_since: ClassVar[bool] = False

    def query(self, params: Mapping[str, Any], *, limit: int | None = None, since: datetime | None = None) -> Iterator[AlertPage]:
        """Run a query; yield pages of alerts until the results (or ``limit`` alerts) end.

        ``params`` are already validated against :attr:`params`. Records that cannot be
        parsed are not raised: they go to the page's ``problems`` with their object id.
        """
        raise NotImplementedError

    def fetch(self, object_id: str) -> Alert:
        """One object by its broker id, with its light curve when the broker has one.

        Raises :class:`tomcore.errors.NotFoundError` when the broker does not know it.
        """
        raise NotImplementedError

    def light_curve(self, object_id: str) -> list[PhotometryPoint]:
        """Detections and upper limits of an object, with ``source`` set to the broker."""
        raise NotImplementedError

    def web_url(self, object_id: str) -> str | None:
        """The object's page on the broker's website, if it has one."""
        return None
