"""``tom alerts``: brokers, queries, ingestion and saved queries (a face over ``tom.alerts``).

Each broker's declared parameters become the options of ``tom alerts query BROKER`` and
``tom alerts save NAME BROKER`` (``tom alerts query BROKER --help`` lists them).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from tomcore.cli.context import get_state, get_tom
from tomcore.cli.output import json_option, print_json, print_record, print_table, progress

ALERT_COLUMNS = ["object_id", "name", "ra", "dec", "mag", "score", "classification", "latest"]
POINT_COLUMNS = ["mjd", "date", "band", "mag", "error", "limit", "telescope"]
RUN_COLUMNS = ["name", "status", "since", "alerts", "created", "updated", "unchanged", "points"]


def _warn(problems: list[str], limit: int = 20) -> None:
    for text in problems[:limit]:
        click.echo(f"warning: {text}", err=True)
    if len(problems) > limit:
        click.echo(f"warning: ... and {len(problems) - limit} more problems", err=True)


def _shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 3].rsplit(", ", 1)[0] + ", ..."


def _broker_names() -> list[str]:
    return get_state().plugin_host().registry("brokers").names()


def _broker(name: str) -> Any:
    return get_state().plugin_host().registry("brokers").get(name)


class BrokerGroup(click.Group):
    """A group with one sub-command per registered broker, built from its parameters.

    ``make(broker)`` returns the click command for one broker.
    """

    def __init__(self, *args: Any, make: Callable[[Any], click.Command], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.make = make

    def list_commands(self, ctx: click.Context) -> list[str]:
        return _broker_names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in get_state().plugin_host().registry("brokers"):
            return None
        return self.make(_broker(name))

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in get_state().plugin_host().registry("brokers") and not args[0].startswith("-"):
            known = ", ".join(_broker_names()) or "none installed"
            raise click.UsageError(f"no broker named {args[0]!r} (available: {known})", ctx)
        return super().resolve_command(ctx, args)


def _broker_command(broker: Any, callback: Callable[..., None], extra: list[click.Option], help_text: str) -> click.Command:
    from tomcore.cli.params import param_options

    return click.Command(
        broker.name, callback=callback, params=[*param_options(broker.params), *extra],
        help=f"{help_text}\n\n{broker.display_name}: {broker.description}",
        short_help=broker.description or broker.display_name, context_settings={"max_content_width": 100},
    )


@click.group("alerts")
def alerts_group() -> None:
    """Alert brokers: query them, ingest alerts as targets with light curves, saved queries."""


# -- brokers ----------------------------------------------------------------------------------


@alerts_group.command("brokers")
@json_option
def brokers_command(as_json: bool) -> None:
    """List the brokers and their query parameters."""
    brokers = get_tom(check_schema=False).alerts.brokers()
    described = [b.describe() for b in brokers]
    if as_json:
        print_json(described)
        return
    if not described:
        click.echo("No broker installed (pip install tom-broker-alerce, tom-broker-antares ...).")
        return
    print_table([{"broker": d["name"], "title": d["title"], "plugin": d["plugin"],
                  "time filter": "yes" if d["supports_since"] else "no", "description": d["description"]}
                 for d in described])
    for d in described:
        rows = [{"option": p["option"], "type": p["type"] + ("..." if p["multiple"] else ""),
                 "values": _shorten(", ".join(map(str, p["choices"]))) if p["choices"] else
                 (f"tom alerts choices {d['name']} {p['name']}" if p["live_choices"] else ""),
                 "help": p["help"]} for p in d["params"]]
        print_table(rows, title=f"{d['title']} parameters (tom alerts query {d['name']} ...)")


@alerts_group.command("choices")
@click.argument("broker")
@click.argument("param")
@json_option
def choices_command(broker: str, param: str, as_json: bool) -> None:
    """List the allowed values of a broker parameter, live from the broker
    (ALeRCE classifiers and classes, ANTARES tags)."""
    choices = get_tom(check_schema=False).alerts.choices(broker, param.replace("-", "_").lstrip("_"))
    rows = [{"value": c.value, "description": c.description} for c in choices]
    if as_json:
        print_json(rows)
    else:
        print_table(rows)


# -- query ----------------------------------------------------------------------------------


def _alert_row(alert: Any) -> dict[str, Any]:
    return {"object_id": alert.object_id, "name": alert.name, "ra": alert.ra, "dec": alert.dec, "mag": alert.mag,
            "score": alert.score, "classification": alert.classification, "latest": alert.latest_time,
            "discovery": alert.discovery_time, "url": alert.url, "aliases": alert.aliases, "extras": alert.extras}


def _make_query_command(broker: Any) -> click.Command:
    from tomcore.cli.params import collect

    def run(**values: Any) -> None:
        tom = get_tom()
        params = collect(broker.params, values)
        limit, as_json, ingest = values["limit"], values["as_json"], values["ingest"]
        if values["target_list"] and not ingest:
            raise click.UsageError("--list needs --ingest")
        if ingest:
            _ingest(tom, broker, params, limit, as_json, values["target_list"])
            return
        alerts, problems = [], []
        with progress(limit, f"Querying {broker.display_name}", enabled=not as_json) as advance:
            for page in tom.alerts.query(broker.name, params, limit=limit):
                alerts.extend(page.alerts)
                problems.extend(page.problems)
                advance(len(page.alerts))
        _warn(problems)
        if as_json:
            print_json([{**_alert_row(a), "raw": a.raw} for a in alerts])
        else:
            print_table([_alert_row(a) for a in alerts], ALERT_COLUMNS, empty="No alerts match.")

    extra = [
        click.Option(["--limit"], type=click.IntRange(min=1), help="At most this many alerts."),
        click.Option(["--ingest"], is_flag=True, help="Create or update targets with their light curves."),
        click.Option(["--list", "target_list"], metavar="LIST", help="With --ingest: add the targets to this list."),
        click.Option(["--json", "as_json"], is_flag=True, help="Print JSON for scripts."),
    ]
    return _broker_command(broker, run, extra, f"Query {broker.display_name}; --ingest makes targets of the results.")


def _ingest(tom: Any, broker: Any, params: dict[str, Any], limit: int | None, as_json: bool,
            target_list: str | None) -> None:
    from tomcore.services.alerts import IngestInterrupted

    try:
        with progress(limit, f"Ingesting from {broker.display_name}", enabled=not as_json) as advance:
            summary = tom.alerts.ingest(broker.name, params, limit=limit, progress=advance, target_list=target_list)
    except IngestInterrupted as exc:
        _warn(exc.summary.problems)
        raise
    _warn(summary.problems)
    if as_json:
        print_json(summary)
    else:
        click.echo(f"Ingested {summary.describe()}.")


@alerts_group.group("query", cls=BrokerGroup, make=_make_query_command)
def query_group() -> None:
    """Query a broker: tom alerts query BROKER [OPTIONS] (tom alerts query BROKER --help)."""


# -- show -----------------------------------------------------------------------------------


def _point_row(point: Any) -> dict[str, Any]:
    from tomcore.domain.times import mjd_to_datetime

    return {"mjd": point.time, "date": mjd_to_datetime(point.time), "band": point.band, "mag": point.mag,
            "error": point.mag_err, "limit": point.limit, "telescope": point.telescope}


@alerts_group.command("show")
@click.argument("broker")
@click.argument("object_id")
@json_option
def show_command(broker: str, object_id: str, as_json: bool) -> None:
    """Show one object from a broker with its light curve (detections and upper limits)."""
    alert = get_tom(check_schema=False).alerts.show(broker, object_id)
    points = sorted(alert.light_curve or [], key=lambda p: (p.time, p.band))
    if as_json:
        print_json({**_alert_row(alert), "broker": alert.broker, "light_curve": points, "raw": alert.raw})
        return
    row = _alert_row(alert)
    extras = row.pop("extras")
    print_record({"broker": alert.broker, **row, **extras}, title=f"{alert.name} ({alert.broker})")
    detections = sum(1 for p in points if p.mag is not None)
    print_table([_point_row(p) for p in points], POINT_COLUMNS,
                title=f"Light curve: {detections} detections, {len(points) - detections} upper limits",
                empty="No light curve.")


@alerts_group.command("update")
@click.argument("brokers", nargs=-1)
@click.option("--target", "targets", multiple=True, metavar="NAME",
              help="Only this target (name or alias); repeat for more.")
@json_option
def update_command(brokers: tuple[str, ...], targets: tuple[str, ...], as_json: bool) -> None:
    """Fetch again the light curves of the broker objects already in the TOM and add the
    new points (every broker, or BROKERS; every target with photometry from them, or
    --target). Objects a broker no longer gives are listed; the others are updated."""
    tom = get_tom()
    with progress(None, "Updating light curves", enabled=not as_json) as advance:
        summaries = tom.alerts.refresh(list(brokers) or None, targets=list(targets) or None, progress=advance)
    for summary in summaries:
        _warn([f"{summary.broker}: {p}" for p in summary.problems])
    if as_json:
        print_json(summaries)
        return
    print_table([{"broker": s.broker, "objects": s.objects, "targets updated": s.targets_updated,
                  "new points": s.points_added, "not refreshed": len(s.problems)} for s in summaries],
                empty="No broker.")


# -- saved queries ----------------------------------------------------------------------------


def _make_save_command(broker: Any) -> click.Command:
    from tomcore.cli.params import collect

    def run(**values: Any) -> None:
        ctx = click.get_current_context()
        name = ctx.parent.params["name"] if ctx.parent is not None else None
        saved = get_tom().alerts.save_query(name, broker.name, collect(broker.params, values), replace=values["replace"],
                                            target_list=values["target_list"])
        click.echo(f"Saved query {saved.name!r} ({saved.broker}); run it with `tom alerts run {saved.name}`.")

    extra = [click.Option(["--replace"], is_flag=True, help="Replace a saved query of that name."),
             click.Option(["--list", "target_list"], metavar="LIST",
                          help="Add every target its runs ingest to this target list.")]
    return _broker_command(broker, run, extra, f"Save a query of {broker.display_name} under NAME.")


@alerts_group.group("save", cls=BrokerGroup, make=_make_save_command)
@click.argument("name")
def save_group(name: str) -> None:
    """Save a query: tom alerts save NAME BROKER [OPTIONS]."""


def _saved_row(q: Any) -> dict[str, Any]:
    return {"name": q.name, "broker": q.broker, "parameters": q.parameters, "list": q.target_list, "last run": q.last_run,
            "status": q.last_status, "last result": q.last_summary}


@alerts_group.command("saved")
@json_option
def saved_command(as_json: bool) -> None:
    """List saved queries with when they last ran and what they ingested."""
    saved = get_tom().alerts.saved()
    if as_json:
        print_json(saved)
    else:
        print_table([_saved_row(q) for q in saved], empty="No saved query; save one with `tom alerts save NAME BROKER ...`.")


def _run_row(run: Any) -> dict[str, Any]:
    return {"name": run.name, "run": run.run_id, "status": run.status, "started": run.started, "since": run.since,
            "alerts": run.alerts, "created": run.created, "updated": run.updated, "unchanged": run.unchanged,
            "skipped": run.skipped, "points": run.points_added, "error": run.error}


@alerts_group.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every saved query.")
@json_option
def run_command(names: tuple[str, ...], run_all: bool, as_json: bool) -> None:
    """Run saved queries and ingest what they find (only what is new since their last run
    where the broker has a time filter). One failing query does not stop the others."""
    from tomcore.errors import TomError

    if bool(names) == run_all:
        raise click.UsageError("give saved query NAMES or --all (not both)")
    tom = get_tom()
    with progress(None, "Running saved queries", enabled=not as_json) as advance:
        runs = tom.alerts.run_saved(list(names), all=run_all, progress=advance)
    for run in runs:
        _warn([f"{run.name}: {p}" for p in run.problems])
    if as_json:
        print_json(runs)
    else:
        print_table([_run_row(r) for r in runs], RUN_COLUMNS, empty="No saved query to run.")
    failed = [r for r in runs if not r.ok]
    if failed:
        raise TomError(f"{len(failed)} of {len(runs)} saved queries failed: "
                       + "; ".join(f"{r.name}: {r.error}" for r in failed))


@alerts_group.command("history")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Runs to show.")
@click.option("--run", "run_id", type=int, help="List what this run ingested, alert by alert.")
@json_option
def history_command(name: str, limit: int, run_id: int | None, as_json: bool) -> None:
    """Show the runs of a saved query (or, with --run, what one run ingested)."""
    tom = get_tom()
    if run_id is not None:
        runs = {r.run_id for r in tom.alerts.history(name, limit=sys.maxsize)}
        if run_id not in runs:
            from tomcore.errors import NotFoundError

            raise NotFoundError(f"saved query {name!r} has no run {run_id}")
        items = tom.alerts.saved_queries.ingested(run_id)
        if as_json:
            print_json(items)
        else:
            print_table(items, empty="That run ingested nothing.")
        return
    runs = tom.alerts.history(name, limit=limit)
    if as_json:
        print_json(runs)
    else:
        print_table([_run_row(r) for r in runs], ["run", "status", "started", *RUN_COLUMNS[2:]], empty="Never run.")


@alerts_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete_command(name: str, yes: bool) -> None:
    """Delete a saved query and its run history (targets and photometry stay)."""
    from tomcore.cli.output import confirm

    tom = get_tom()
    tom.alerts.get_saved(name)
    confirm(f"Delete saved query {name!r}?", yes)
    tom.alerts.delete_saved(name)
    click.echo(f"Deleted saved query {name!r}.")
