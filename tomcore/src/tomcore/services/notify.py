"""Notifications (``tom.notify``): route by the rules in ``tom.toml``, deliver on channels,
log every delivery, retry the failed ones.

Anything in the TOM (the built-in event routing, a cadence that ends, the runner, a plugin's
event hook) tells people something with::

    from tomcore.contracts.notifiers import Notification

    tom.notify.send(Notification(event="photometry.brightening", subject="SN2024abc rose 0.7 mag",
                                 text="...", target="SN2024abc"))

Configuration (``tom.toml``)::

    [notify]
    digest_after = 5              # more notifications than this for one channel at once: one digest

    [notify.channels.team]        # a channel: a notifier and its options
    notifier = "email"
    to = ["alice@example.org"]

    [notify.channels.slack]
    notifier = "webhook"
    url_env = "SLACK_WEBHOOK_URL" # the URL is a secret: read it from the environment
    format = "slack"

    [[notify.rules]]              # which events go where (shell patterns); optional filters
    events = ["observation.failed", "observation.completed", "cadence.*"]
    channels = ["team", "slack"]
    facilities = ["lco"]          # only these facilities (optional)
    targets = ["SN2024abc"]       # only these targets (optional)

A notification that matches no rule goes nowhere. A failed delivery is logged with its error
and retried by :meth:`NotificationService.retry_failed` (``tom run`` calls it each round).
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.contracts.base import validate_params
from tomcore.contracts.notifiers import Notification, Notifier, PartialDelivery
from tomcore.errors import ConfigError, NotFoundError, TomError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom

log = logging.getLogger("tomcore.notify")

#: A delivery that failed this many times is not retried again.
MAX_ATTEMPTS = 5


@attrs.frozen
class Channel:
    name: str
    notifier: str
    options: Mapping[str, Any]


@attrs.frozen
class Rule:
    events: tuple[str, ...]
    channels: tuple[str, ...]
    targets: tuple[str, ...] | None = None
    facilities: tuple[str, ...] | None = None

    def matches(self, notification: Notification) -> bool:
        if not any(fnmatch.fnmatchcase(notification.event, pattern) for pattern in self.events):
            return False
        if self.facilities is not None and (notification.facility or "").lower() not in self.facilities:
            return False
        if self.targets is not None:
            from tomcore.domain.targets import normalise_name

            if notification.target is None or normalise_name(notification.target) not in self.targets:
                return False
        return True


@attrs.define
class Delivery:
    """One message sent (or not) on one channel; ``count`` notifications went into it."""

    channel: str
    event: str
    subject: str
    ok: bool
    error: str | None = None
    count: int = 1
    log_id: int | None = None
    notification: Notification | None = attrs.field(default=None, repr=False)


@attrs.define
class NotifyReport:
    deliveries: list[Delivery] = attrs.Factory(list)

    @property
    def sent(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.ok]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.ok]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: expected a string or a list of strings, got {value!r}")


def digest(notifications: Sequence[Notification]) -> Notification:
    """Many notifications as one message (one email rather than fifty)."""
    events = sorted({n.event for n in notifications})
    counts: dict[str, int] = {}
    for n in notifications:
        counts[n.event] = counts.get(n.event, 0) + 1
    summary = ", ".join(f"{count} {event}" for event, count in sorted(counts.items()))
    lines = []
    for n in notifications:
        lines.append(f"- {n.subject}")
        lines.extend(f"  {line}" for line in n.text.splitlines() if line.strip())
    return Notification(
        event=events[0] if len(events) == 1 else "digest",
        subject=f"{len(notifications)} notifications: {summary}",
        text="\n".join(lines),
        data={"notifications": [n.as_dict() for n in notifications]},
        time=max((n.time for n in notifications if n.time), default=None),
    )


class NotificationService:
    """Route, deliver and log notifications of one TOM."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    # -- configuration -------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return bool(self.tom.settings.get("notify", "enabled"))

    @property
    def digest_after(self) -> int:
        return int(self.tom.settings.get("notify", "digest_after"))

    @cached_property
    def _config(self) -> tuple[dict[str, Channel], list[Rule]]:
        table = self.tom.settings.table("notify")
        raw_channels = table.get("channels", {}) or {}
        if not isinstance(raw_channels, Mapping):
            raise ConfigError("[notify.channels] must be a table of channels")
        channels: dict[str, Channel] = {}
        for name, spec in raw_channels.items():
            where = f"[notify.channels.{name}]"
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{where} must be a table")
            kind = spec.get("notifier")
            if not kind:
                known = ", ".join(self.tom.components.notifiers.names()) or "none installed"
                raise ConfigError(f"{where}: set notifier = one of {known}")
            notifier = self._notifier(str(kind), where)
            options = {k: v for k, v in spec.items() if k != "notifier"}
            try:
                options = validate_params(notifier.options, options, what=f"options of channel {name!r}")
                notifier.check(options)
            except ValidationError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            channels[str(name)] = Channel(str(name), notifier.name, options)
        raw_rules = table.get("rules", []) or []
        if not isinstance(raw_rules, list):
            raise ConfigError("notify.rules must be an array of tables ([[notify.rules]])")
        rules = []
        from tomcore.domain.targets import normalise_name

        for index, spec in enumerate(raw_rules, 1):
            where = f"[[notify.rules]] #{index}"
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{where} must be a table")
            unknown = set(spec) - {"events", "channels", "targets", "facilities"}
            if unknown:
                raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))} "
                                  "(allowed: events, channels, targets, facilities)")
            if "events" not in spec or "channels" not in spec:
                raise ConfigError(f"{where}: needs events = [...] and channels = [...]")
            names = _strings(spec["channels"], f"{where} channels")
            for channel in names:
                if channel not in channels:
                    known = ", ".join(sorted(channels)) or "none configured"
                    raise ConfigError(f"{where}: no channel named {channel!r} (channels: {known})")
            targets = spec.get("targets")
            facilities = spec.get("facilities")
            rules.append(Rule(
                events=_strings(spec["events"], f"{where} events"),
                channels=names,
                targets=tuple(normalise_name(t) for t in _strings(targets, f"{where} targets")) if targets is not None else None,
                facilities=tuple(f.lower() for f in _strings(facilities, f"{where} facilities")) if facilities is not None else None,
            ))
        return channels, rules

    def _notifier(self, kind: str, where: str) -> Notifier:
        try:
            notifier: Notifier = self.tom.components.notifiers.get(kind)
        except TomError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        return notifier

    def channels(self) -> list[Channel]:
        """The configured channels (the configuration is checked on first use)."""
        return list(self._config[0].values())

    def rules(self) -> list[Rule]:
        return list(self._config[1])

    def channel(self, name: str) -> Channel:
        try:
            return self._config[0][name]
        except KeyError:
            known = ", ".join(sorted(self._config[0])) or "none configured"
            raise NotFoundError(f"no notification channel named {name!r} (channels: {known})") from None

    def route(self, notification: Notification) -> list[str]:
        """The channels ``notification`` goes to, in rule order, each once."""
        names: dict[str, None] = {}
        for rule in self._config[1]:
            if rule.matches(notification):
                names.update(dict.fromkeys(rule.channels))
        return list(names)

    # -- sending -------------------------------------------------------------------------------

    def send(self, notification: Notification) -> NotifyReport:
        """Deliver one notification to every channel its rules name."""
        return self.send_many([notification])

    def send_many(self, notifications: Iterable[Notification]) -> NotifyReport:
        """Deliver a batch: each channel gets its notifications one by one, or one digest
        when there are more than ``notify.digest_after``."""
        report = NotifyReport()
        notifications = list(notifications)
        if not notifications or not self.enabled or not self._config[1]:
            return report
        per_channel: dict[str, list[Notification]] = {}
        for notification in notifications:
            if notification.time is None:
                notification.time = self.tom.now()
            for name in self.route(notification):
                per_channel.setdefault(name, []).append(notification)
        for name, items in per_channel.items():
            channel = self._config[0][name]
            if len(items) > self.digest_after:
                report.deliveries.append(self._deliver(channel, digest(items), count=len(items)))
            else:
                report.deliveries.extend(self._deliver(channel, item) for item in items)
        self._log(report)
        return report

    def _deliver(self, channel: Channel, notification: Notification, *, count: int = 1) -> Delivery:
        notifier = self._notifier(channel.notifier, f"[notify.channels.{channel.name}]")
        try:
            notifier.send(notification, options=dict(channel.options))
        except PartialDelivery as exc:  # sent, to some: kept as sent with the reason, not retried
            log.warning("notification %r on channel %s: %s", notification.subject, channel.name, exc)
            return Delivery(channel.name, notification.event, notification.subject, True, str(exc), count,
                            notification=notification)
        except Exception as exc:  # a broken notifier must not stop the others
            message = str(exc) if isinstance(exc, TomError) else f"{type(exc).__name__}: {exc}"
            from tomcore.config import mask_text

            message = mask_text(message)
            log.warning("notification %r on channel %s failed: %s", notification.subject, channel.name, message)
            return Delivery(channel.name, notification.event, notification.subject, False, message, count,
                            notification=notification)
        return Delivery(channel.name, notification.event, notification.subject, True, None, count,
                        notification=notification)

    def _log(self, report: NotifyReport) -> None:
        from tomcore.store.models import NotificationLogRow

        if not report.deliveries:
            return
        now = self.tom.now()
        try:
            with self.tom.db.session() as session:
                rows = []
                for delivery in report.deliveries:
                    notification = delivery.notification or Notification(event=delivery.event, subject=delivery.subject)
                    row = NotificationLogRow(
                        time=now, event=delivery.event[:100], channel=delivery.channel[:100],
                        subject=delivery.subject[:500], status="sent" if delivery.ok else "failed", attempts=1,
                        error=delivery.error, notification=notification.as_dict(), sent_at=now if delivery.ok else None,
                    )
                    session.add(row)
                    rows.append((delivery, row))
                session.flush()
                for delivery, row in rows:
                    delivery.log_id = row.id
        except Exception as exc:  # the log is a record, not a reason to lose the delivery report
            log.warning("could not write the notification log: %s", exc)

    def test(self, channel: str) -> Delivery:
        """Send a test message on one channel (ignores rules), logged like any other."""
        target = self.channel(channel)
        notification = Notification(
            event="notify.test", subject=f"Test notification from {self.tom.name}",
            text=f"This is a test of the channel {channel!r} ({target.notifier}).", time=self.tom.now(),
        )
        delivery = self._deliver(target, notification)
        report = NotifyReport([delivery])
        self._log(report)
        return delivery

    # -- the log -------------------------------------------------------------------------------

    def history(self, *, limit: int = 50, status: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """The latest deliveries, newest first."""
        from sqlalchemy import select

        from tomcore.store.models import NotificationLogRow

        query = select(NotificationLogRow).order_by(NotificationLogRow.id.desc()).limit(limit)
        if status:
            query = query.where(NotificationLogRow.status == status)
        if channel:
            query = query.where(NotificationLogRow.channel == channel)
        with self.tom.db.session(readonly=True) as session:
            return [
                {"id": r.id, "time": r.time, "event": r.event, "channel": r.channel, "subject": r.subject,
                 "status": r.status, "attempts": r.attempts, "error": r.error, "sent_at": r.sent_at}
                for r in session.execute(query).scalars()
            ]

    def retry_failed(self, *, max_attempts: int = MAX_ATTEMPTS) -> NotifyReport:
        """Send again every failed delivery tried fewer than ``max_attempts`` times."""
        from sqlalchemy import select

        from tomcore.store.models import NotificationLogRow

        report = NotifyReport()
        if not self.enabled:
            return report
        with self.tom.db.session(readonly=True) as session:
            pending = [
                (r.id, r.channel, dict(r.notification))
                for r in session.execute(
                    select(NotificationLogRow)
                    .where(NotificationLogRow.status == "failed", NotificationLogRow.attempts < max_attempts)
                    .order_by(NotificationLogRow.id)
                ).scalars()
            ]
        if not pending:
            return report
        outcomes = []
        for log_id, channel_name, data in pending:
            channel = self._config[0].get(channel_name)
            if channel is None:
                outcomes.append((log_id, Delivery(channel_name, data.get("event", ""), data.get("subject", ""), False,
                                                  f"channel {channel_name!r} is no longer configured")))
                continue
            delivery = self._deliver(channel, Notification.from_dict(data))
            delivery.log_id = log_id
            outcomes.append((log_id, delivery))
            report.deliveries.append(delivery)
        now = self.tom.now()
        with self.tom.db.session() as session:
            for log_id, delivery in outcomes:
                row = session.get(NotificationLogRow, log_id)
                if row is None:
                    continue
                row.attempts += 1
                row.status = "sent" if delivery.ok else "failed"
                row.error = delivery.error
                if delivery.ok:
                    row.sent_at = now
        return report
