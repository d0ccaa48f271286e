"""``tom observations``: the records of requested observations, their history and status."""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.observe import observation_row
from tomcore.cli.output import confirm, json_option, print_json, print_record, print_table, progress

COLUMNS = ["id", "target", "facility", "type", "request", "status", "scheduled_start", "created"]


@click.group("observations")
def observations_group() -> None:
    """Observation records: list, show with history, cancel, update from the facilities,
    download their data, record observations made elsewhere."""


@observations_group.command("list")
@click.option("--status", multiple=True, metavar="STATUS",
              help="A facility state (PENDING...), or open, terminal, failed, completed. Repeatable.")
@click.option("--target", metavar="NAME", help="Only this target (name or alias).")
@click.option("--facility", metavar="NAME", help="Only this facility.")
@click.option("--cadence", type=int, metavar="ID", help="Only this cadence's records.")
@click.option("--group", metavar="NAME", help="Only this observation group.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N records (newest first).")
@json_option
def list_command(status: tuple[str, ...], target: str | None, facility: str | None, cadence: int | None,
                 group: str | None, limit: int | None, as_json: bool) -> None:
    """List observation records, newest first."""
    tom = get_tom()
    infos = tom.observations.list(status=list(status) or None, target=target, facility=facility, cadence=cadence,
                                  group=group, limit=limit)
    rows = [observation_row(i) for i in infos]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, COLUMNS, empty="No observation records.")


@observations_group.command("show")
@click.argument("record")
@json_option
def show_command(record: str, as_json: bool) -> None:
    """Show one record (its id, or FACILITY:REQUEST_ID) with its parameters, payload and
    full status history."""
    info = get_tom().observations.get(record)
    history = [{"time": h.time, "status": h.status, "source": h.source, "detail": h.detail} for h in info.history or []]
    if as_json:
        print_json(observation_row(info) | {
            "name": info.name, "url": info.url, "terminal": info.terminal, "failed": info.failed,
            "completed": info.success, "template": info.template, "note": info.note, "data_products": info.data_count,
            "parameters": info.parameters, "payload": info.payload, "history": history,
        })
        return
    print_record(observation_row(info) | {
        "name": info.name, "url": info.url, "terminal": info.terminal, "failed": info.failed, "template": info.template,
        "note": info.note, "data products": info.data_count, "parameters": info.parameters,
    }, title=f"Observation record {info.id}")
    print_table(history, ["time", "status", "source", "detail"], title="History")


@observations_group.command("cancel")
@click.argument("records", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def cancel_command(records: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Cancel requests at their facilities (ids, or FACILITY:REQUEST_ID)."""
    confirm(f"Cancel {len(records)} observation request(s)?", yes)
    report = get_tom().observations.cancel(list(records))
    rows = [observation_row(i) | {"cancelled": i.id in report.cancelled} for i in report.records]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "target", "facility", "request", "status"])
    for info in report.not_cancelled:  # it had already ended (or the facility did not cancel it)
        click.echo(f"Not cancelled: record {info.id} is {info.status}.", err=True)


def _report_errors(errors: dict[str, str] | list[str]) -> None:
    items = errors.items() if isinstance(errors, dict) else ((None, e) for e in errors)
    for name, message in items:
        click.echo(f"Error: {message}" if name is None or message.startswith(name) else f"Error: {name}: {message}",
                   err=True)


@observations_group.command("update")
@click.argument("records", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every open record (the default when no record is named).")
@click.option("--facility", metavar="NAME", help="Only this facility's records.")
@click.option("--target", metavar="NAME", help="Only this target's records.")
@json_option
def update_command(records: tuple[str, ...], all_: bool, facility: str | None, target: str | None,
                   as_json: bool) -> None:
    """Ask the facilities for the status of open records (in batches) and record every
    change in the history. Exits 1 when a facility could not be asked."""
    if records and all_:
        raise click.UsageError("give record ids or --all, not both")
    tom = get_tom()
    with progress(None, "Updating", enabled=not as_json) as advance:
        report = tom.observations.update(list(records) or None, facility=facility, target=target, progress=advance)
    changes = [{"id": c.observation.id, "target": c.observation.target_name, "facility": c.observation.facility,
                "request": c.observation.facility_id, "old": c.old_status, "new": c.new_status,
                "scheduled_start": c.observation.scheduled_start} for c in report.changes]
    if as_json:
        print_json(report.summary() | {"changes": changes})
    else:
        print_table(changes, ["id", "target", "facility", "request", "old", "new", "scheduled_start"],
                    empty="No status changed.")
        click.echo(f"Checked {report.checked} request(s): {len(report.changes)} changed"
                   + (f", {report.recovered} interrupted submission(s) resolved" if report.recovered else "")
                   + (f", {len(report.missing)} not found at the facility" if report.missing else "") + ".")
    if report.errors:
        _report_errors(report.errors)
        raise click.exceptions.Exit(1)


@observations_group.command("download")
@click.argument("records", nargs=-1)
@json_option
def download_command(records: tuple[str, ...], as_json: bool) -> None:
    """Store the new files of completed records (all recently completed ones by default):
    streamed, checksummed, skipped when already stored, then processed."""
    tom = get_tom()
    with progress(None, "Downloading", enabled=not as_json) as advance:
        report = tom.observations.download(list(records) or None, progress=advance)
    rows = [{"id": p.id, "target": p.target_name, "observation": p.observation_id, "name": p.original_name,
             "type": p.data_type, "size": p.size, "status": p.status} for p in report.stored]
    if as_json:
        print_json(report.summary() | {"products": rows})
    else:
        print_table(rows, ["id", "target", "observation", "name", "type", "size", "status"], empty="No new files.")
        click.echo(f"{len(report.stored)} file(s) stored, {report.skipped} already there, "
                   f"from {report.records} completed record(s).")
    if report.errors:
        _report_errors(report.errors)
        raise click.exceptions.Exit(1)


def _key_values(values: tuple[str, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--param")
        key = key.strip().replace("-", "_")
        if key in result:
            existing = result[key]
            result[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            result[key] = value
    return result


@observations_group.command("add")
@click.argument("target")
@click.option("--facility", default="manual", show_default=True, help="The facility (manual for observations "
              "made elsewhere; a robotic one to follow a request made outside the TOM).")
@click.option("--id", "facility_id", metavar="REQUEST_ID", help="The facility's id of the request.")
@click.option("--status", help="Its status (default: asked from the facility; COMPLETED for manual).")
@click.option("--type", "observation_type", help="Observation type.")
@click.option("--start", "scheduled_start", metavar="TIME", help="When it started or is scheduled (ISO 8601, UTC).")
@click.option("--end", "scheduled_end", metavar="TIME", help="When it ended.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="An observation parameter (telescope=NOT, filter=r...). Repeatable.")
@click.option("--note", help="A note kept with the record.")
@click.option("--group", metavar="NAME", help="Put the record in this observation group.")
@json_option
def add_command(target: str, facility: str, facility_id: str | None, status: str | None, observation_type: str | None,
                scheduled_start: str | None, scheduled_end: str | None, params: tuple[str, ...], note: str | None,
                group: str | None, as_json: bool) -> None:
    """Record an observation of TARGET made elsewhere, or follow a request made outside the TOM."""
    from tomcore.contracts.base import Param
    from tomcore.errors import ValidationError

    times = {}
    for key, value in (("start", scheduled_start), ("end", scheduled_end)):
        if value:
            try:
                times[key] = Param(key, "datetime").convert(value)
            except ValueError as exc:
                raise ValidationError("bad time", {f"--{key}": [str(exc)]}) from None
    info = get_tom().observations.add(
        target, facility=facility, facility_id=facility_id, status=status, observation_type=observation_type,
        params=_key_values(params), scheduled_start=times.get("start"), scheduled_end=times.get("end"), note=note,
        group=group,
    )
    if as_json:
        print_json(observation_row(info) | {"parameters": info.parameters, "note": info.note})
    else:
        print_record(observation_row(info) | {"note": info.note}, title=f"Recorded: observation record {info.id}")


@observations_group.command("set-status")
@click.argument("record")
@click.argument("status")
@click.option("--note", help="Why (kept in the history).")
@json_option
def set_status_command(record: str, status: str, note: str | None, as_json: bool) -> None:
    """Set the status of a record of an observation made elsewhere."""
    info = get_tom().observations.set_status(record, status.upper(), note=note)
    if as_json:
        print_json(observation_row(info))
    else:
        print_record(observation_row(info), title=f"Observation record {info.id}")
