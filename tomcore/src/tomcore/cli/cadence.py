"""``tom cadence``: start, show, stop and dry-run cadences."""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_state, get_tom
from tomcore.cli.facility_options import FacilityGroup, collect_params, option_errors
from tomcore.cli.output import confirm, json_option, print_json, print_record, print_table


@click.group("cadence")
def cadence_group() -> None:
    """Cadences: a strategy submitting observations of a target over time (advanced by
    `tom run`)."""


def _strategy_params() -> list[Any]:
    seen: dict[str, Any] = {}
    for _name, strategy in get_state().plugin_host().registry("cadence_strategies").items():
        for param in strategy.params:
            seen.setdefault(param.name, param)
    return list(seen.values())


def _plan_rows(plan: list[Any]) -> list[dict[str, Any]]:
    return [{"action": s.action, "at": s.at, "epoch": s.number, "attempt": s.attempt if s.number else None,
             "window_start": s.window_start, "window_end": s.window_end,
             "observable_h": round(s.observable_hours, 2) if s.observable_hours is not None else None,
             "reason": s.reason} for s in plan]


def _epoch_rows(info: Any) -> list[dict[str, Any]]:
    return [{"epoch": e.number, "attempt": e.attempt, "state": e.state, "window_start": e.window_start,
             "window_end": e.window_end, "record": e.observation.id if e.observation else None,
             "status": e.observation.status if e.observation else None, "reason": e.reason} for e in info.epochs]


def cadence_row(info: Any) -> dict[str, Any]:
    counts = info.counts()
    return {"id": info.id, "name": info.name, "target": info.target_name, "facility": info.facility,
            "strategy": info.strategy, "state": info.state, "epochs": counts["epochs"],
            "completed": counts["completed"], "failed": counts["failed"], "next": info.next_at, "reason": info.reason}


def _make_start(facility: Any) -> click.Command:
    from tomcore.cli.params import param_options

    strategy_params = _strategy_params()
    strategy_names = {p.name for p in strategy_params}
    window = set(facility.window_params or ())
    reserved = {"strategy", "cadence_name", "template", "dry_run", "steps", "observation_type", "as_json", "target"}
    facility_params = [p for p in facility.all_parameters()
                       if p.name not in window and p.name not in strategy_names and p.name not in reserved]
    types = list(facility.observation_types)

    def callback(strategy: str, cadence_name: str | None, template: str | None, dry_run: bool, steps: int,
                 observation_type: str | None, as_json: bool, **values: Any) -> None:
        from tomcore.cli.params import collect
        from tomcore.errors import ValidationError

        target = click.get_current_context().parent.params["target"]  # type: ignore[union-attr]
        tom = get_tom()
        chosen = tom.cadences.strategy(strategy)
        given = collect(strategy_params, values)
        unknown = sorted(set(given) - {p.name for p in chosen.params})
        if unknown:
            raise ValidationError(f"options the {chosen.name} strategy does not take", {
                "--" + k.replace("_", "-"): [f"not an option of {chosen.name}"] for k in unknown})
        observation = collect_params(facility, {k: v for k, v in values.items() if k not in strategy_names})
        try:
            result = tom.cadences.start(target, facility.name, chosen.name, strategy_params=given,
                                        observation_params=observation, observation_type=observation_type,
                                        template=template, name=cadence_name, dry_run=dry_run, steps=steps)
        except ValidationError as exc:
            raise option_errors(exc, facility, {p.name: p.option for p in strategy_params}) from None
        plan = _plan_rows(result.plan)
        if as_json:
            data: dict[str, Any] = {"dry_run": dry_run, "plan": plan}
            if result.cadence is not None:
                data["cadence"] = cadence_row(result.cadence) | {"epochs": _epoch_rows(result.cadence)}
                data["advance"] = result.report.summary() if result.report else None
            print_json(data)
            return
        print_table(plan, ["action", "at", "epoch", "attempt", "window_start", "window_end", "observable_h", "reason"],
                    title="Plan (assuming each epoch succeeds)" if dry_run else "Plan")
        if dry_run:
            click.echo("Dry run: nothing was created or submitted.")
            return
        assert result.cadence is not None
        print_record(cadence_row(result.cadence), title=f"Started cadence {result.cadence.id}")
        if result.report is not None:
            for record in result.report.submitted:
                click.echo(f"Submitted epoch: record {record.id}, {record.facility} request {record.facility_id}")
            for message in [*result.report.rejected, *result.report.errors.values()]:
                click.echo(f"Warning: {message}", err=True)

    params: list[click.Parameter] = [
        *([click.Option(["--type", "observation_type"], type=click.Choice(types, case_sensitive=False),
                        help="Observation type.")] if types else []),
        *param_options(facility_params),
        click.Option(["--strategy"], required=True, metavar="NAME",
                     help="repeat, resume-after-failure, retry-failed, or a plugin's (`tom cadence strategies`)."),
        *param_options(strategy_params),
        click.Option(["--cadence-name", "cadence_name"], help="A name for the cadence (default: target, strategy and time)."),
        click.Option(["--template"], metavar="NAME", help="Observation options from a template."),
        click.Option(["--dry-run"], is_flag=True, help="Show what would be submitted and when; create nothing."),
        click.Option(["--steps"], type=click.IntRange(min=1), default=10, show_default=True, help="Epochs shown in the plan."),
        click.Option(["--json", "as_json"], is_flag=True, help="Print JSON for scripts."),
    ]
    return click.Command(
        facility.name, callback=callback, params=params, context_settings={"max_content_width": 100},
        help=(f"Start a cadence of TARGET at {facility.display_name}. The window options "
              f"({', '.join(sorted(window))}) are set for each epoch by the strategy."),
        short_help=facility.description or facility.display_name,
    )


@cadence_group.group("start", cls=FacilityGroup, make=_make_start)
@click.argument("target")
def start_group(target: str) -> None:
    """Start a cadence: tom cadence start TARGET FACILITY --strategy NAME [options] [--dry-run].

    \b
    tom cadence start SN2024abc lco --strategy repeat --every-hours 24 --filter rp --exposure-time 120 --dry-run
    """


@cadence_group.command("strategies")
@json_option
def strategies_command(as_json: bool) -> None:
    """List the cadence strategies and their options."""
    rows = [{"name": s.name, "description": s.description, "plugin": s.plugin_name,
             "options": [p.option + (" (required)" if p.required else f" [{p.default}]" if p.default is not None else "")
                         for p in s.params]}
            for s in get_tom(check_schema=False).cadences.strategies()]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["name", "description", "options", "plugin"])


@cadence_group.command("list")
@click.option("--state", type=click.Choice(["active", "completed", "failed", "stopped"]), help="Only these.")
@click.option("--target", metavar="NAME", help="Only this target's cadences.")
@json_option
def list_command(state: str | None, target: str | None, as_json: bool) -> None:
    """List cadences with their progress."""
    rows = [cadence_row(c) for c in get_tom().cadences.list(state=state, target=target)]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "name", "target", "facility", "strategy", "state", "epochs", "completed", "failed",
                           "next", "reason"], empty="No cadences.")


@cadence_group.command("show")
@click.argument("cadence")
@click.option("--plan", "steps", type=click.IntRange(min=0), default=0, help="Also show a dry run of the next N epochs.")
@json_option
def show_command(cadence: str, steps: int, as_json: bool) -> None:
    """Show a cadence (id or name) with its epochs and, with --plan N, what comes next."""
    tom = get_tom()
    info = tom.cadences.get(cadence)
    plan = _plan_rows(tom.cadences.plan(info.id, steps)) if steps and info.state == "active" else []
    if as_json:
        print_json(cadence_row(info) | {"strategy_params": info.strategy_params,
                                        "observation_params": info.observation_params, "group": info.group,
                                        "last_error": info.last_error, "epochs": _epoch_rows(info), "plan": plan})
        return
    print_record(cadence_row(info) | {"strategy options": info.strategy_params,
                                      "observation options": info.observation_params, "group": info.group,
                                      "last error": info.last_error}, title=f"Cadence {info.id}")
    print_table(_epoch_rows(info), ["epoch", "attempt", "state", "window_start", "window_end", "record", "status",
                                    "reason"], title="Epochs", empty="No epochs yet.")
    if plan:
        print_table(plan, ["action", "at", "epoch", "attempt", "window_start", "window_end", "observable_h", "reason"],
                    title="Next (assuming each epoch succeeds)")


@cadence_group.command("stop")
@click.argument("cadence")
@click.option("--reason", default="stopped by the user", show_default=True, help="Why (kept with the cadence).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
def stop_command(cadence: str, reason: str, yes: bool, as_json: bool) -> None:
    """Stop a cadence (its submitted requests stay; cancel them with `tom observations cancel`)."""
    confirm(f"Stop the cadence {cadence!r}?", yes)
    info = get_tom().cadences.stop(cadence, reason)
    if as_json:
        print_json(cadence_row(info))
    else:
        click.echo(f"Stopped cadence {info.id} ({info.name}).")


@cadence_group.command("advance")
@click.argument("cadences", nargs=-1)
@json_option
def advance_command(cadences: tuple[str, ...], as_json: bool) -> None:
    """Move active cadences along now (what each round of `tom run` does)."""
    report = get_tom().cadences.advance(list(cadences) or None)
    if as_json:
        print_json(report.summary())
        return
    click.echo(f"{len(report.submitted)} submitted, {report.skipped} skipped, {len(report.rejected)} refused, "
               f"{len(report.ended)} ended.")
    for message in [*report.rejected, *(f"{k}: {v}" for k, v in report.errors.items())]:
        click.echo(f"Warning: {message}", err=True)
