"""The notifier contract: deliver a notification on a channel (email, webhook...).

A *notifier* is a kind of channel (``email``, ``webhook``); a *channel* is a configured use
of one (``[notify.channels.team]`` with ``notifier = "email"`` and its recipients). Rules in
``tom.toml`` route notifications to channels by event; :class:`tomcore.services.notify.
NotificationService` (``tom.notify``) does the routing, logging and retrying, and calls
:meth:`Notifier.send` with the channel's options.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from tomcore.contracts.base import Component, Param
from tomcore.errors import TomError

__all__ = ["Notification", "Notifier", "PartialDelivery"]


@attrs.define(kw_only=True)
class Notification:
    """A message for people.

    :param event: what happened, dotted (``observation.completed``, ``observation.failed``,
        ``observation.status_changed``, ``data.new``, ``alerts.new``, ``cadence.ended``...);
        rules match it with shell-style patterns (``observation.*``).
    :param subject: one line; ``text`` the body in plain text.
    :param data: the facts, JSON-able, for channels that send structured payloads.
    :param target, facility: what it is about, when it is about one (rules can filter on them).
    :param url: a page to look at (the request at the facility...).
    """

    event: str
    subject: str
    text: str = ""
    data: dict[str, Any] = attrs.Factory(dict)
    target: str | None = None
    facility: str | None = None
    url: str | None = None
    time: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able dict (datetimes as ISO 8601), the form the log and webhooks keep."""
        result = attrs.asdict(self, recurse=False)
        result["time"] = self.time.isoformat() if self.time else None
        return result

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        values: dict[str, Any] = {f.name: data.get(f.name) for f in attrs.fields(cls) if f.name in data}
        time = values.get("time")
        if isinstance(time, str):
            values["time"] = datetime.fromisoformat(time)
        values["data"] = values.get("data") or {}
        return cls(**values)


class Notifier(Component):
    """Base class of notification channels."""

    #: The options a channel of this kind takes in ``[notify.channels.NAME]`` (checked when
    #: the configuration is read, so a typo is reported before anything needs sending).
    options: ClassVar[tuple[Param, ...]] = ()

    def check(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`tomcore.errors.ValidationError` for options that cannot work
        together (called once when the configuration is read, after the types are checked)."""

    def send(self, notification: Notification, *, options: dict[str, Any]) -> None:
        """Deliver ``notification``; ``options`` are the channel's options, checked against
        :attr:`options` (recipients, URL...). Raise :class:`tomcore.errors.ServiceError`
        when delivery fails: the core logs it and retries later. Raise
        :class:`PartialDelivery` when some recipients got it and others were refused: it is
        logged as sent, with the reason, and not retried."""
        raise NotImplementedError


class PartialDelivery(TomError):
    """Delivered, but not to every recipient (an SMTP server refused some addresses).

    Not retried: sending again would repeat the notification to those who got it.
    """
