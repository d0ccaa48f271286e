"""``tom notify``: notification channels, a test message, the delivery log."""

from __future__ import annotations

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_table


@click.group("notify")
def notify_group() -> None:
    """Notifications: the channels and rules of tom.toml, test messages, the delivery log."""


@notify_group.command("channels")
@json_option
def channels_command(as_json: bool) -> None:
    """The configured channels and the rules routing events to them (checked)."""
    tom = get_tom()
    channels = tom.notify.channels()
    rules = tom.notify.rules()
    routed = {c.name: [", ".join(r.events) for r in rules if c.name in r.channels] for c in channels}
    rows = [{"channel": c.name, "notifier": c.notifier, "events": routed[c.name],
             "options": {k: ("***" if k in ("url", "headers") else v) for k, v in c.options.items()
                         if v not in (None, [], {})}}
            for c in channels]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["channel", "notifier", "events", "options"],
                    empty="No channels: add [notify.channels.NAME] to tom.toml (see docs/observations.md).")


@notify_group.command("test")
@click.argument("channel")
def test_command(channel: str) -> None:
    """Send a test message on CHANNEL (whatever the rules say)."""
    delivery = get_tom().notify.test(channel)
    if not delivery.ok:
        from tomcore.errors import ServiceError

        raise ServiceError(f"channel {channel}", delivery.error or "failed")
    click.echo(f"Sent a test message on {channel}.")


@notify_group.command("log")
@click.option("--status", type=click.Choice(["sent", "failed"]), help="Only these deliveries.")
@click.option("--channel", help="Only this channel.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many deliveries.")
@json_option
def log_command(status: str | None, channel: str | None, limit: int, as_json: bool) -> None:
    """The latest deliveries, newest first."""
    rows = get_tom().notify.history(limit=limit, status=status, channel=channel)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "time", "event", "channel", "status", "attempts", "subject", "error"],
                    empty="Nothing was sent yet.")


@notify_group.command("retry")
def retry_command() -> None:
    """Send again the deliveries that failed (what `tom run` does each round)."""
    report = get_tom().notify.retry_failed()
    click.echo(f"{len(report.sent)} sent, {len(report.failed)} still failing.")
