"""The notifier contract: deliver a notification on a channel (email, webhook...)."""

from __future__ import annotations

from typing import Any

import attrs

from tomcore.contracts.base import Component


@attrs.define(kw_only=True)
class Notification:
    """A message for people.

    :param event: what happened (``observation.completed``, ``alerts.new``...).
    :param subject: one line; ``text`` the body in plain text.
    :param data: the facts, for channels that send structured payloads.
    """

    event: str
    subject: str
    text: str
    data: dict[str, Any] = attrs.Factory(dict)


class Notifier(Component):
    """Base class of notification channels."""

    def send(self, notification: Notification, *, options: dict[str, Any]) -> None:
        """Deliver ``notification``; ``options`` are the channel's settings from the rule
        that routed it (recipients, URL...). Raise :class:`tomcore.errors.ServiceError`
        when delivery fails."""
        raise NotImplementedError
