"""``tom templates``: named observation parameters for a facility."""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.facility_options import FacilityGroup, collect_params, facility_options, option_errors
from tomcore.cli.output import confirm, json_option, print_json, print_record, print_table


@click.group("templates")
def templates_group() -> None:
    """Observation templates: save a facility's options once, use them with
    `tom observe --template NAME TARGET` or `tom cadence start --template NAME`."""


def _row(info: Any) -> dict[str, Any]:
    return {"name": info.name, "facility": info.facility, "type": info.observation_type,
            "parameters": info.parameters, "modified": info.modified}


def _make_save(facility: Any) -> click.Command:
    def callback(observation_type: str | None, replace: bool, as_json: bool, **values: Any) -> None:
        from tomcore.errors import ValidationError

        name = click.get_current_context().parent.params["name"]  # type: ignore[union-attr]
        try:
            info = get_tom().observations.templates.save(name, facility.name, collect_params(facility, values),
                                                         observation_type=observation_type, replace=replace)
        except ValidationError as exc:
            raise option_errors(exc, facility) from None
        if as_json:
            print_json(_row(info))
        else:
            print_record(_row(info), title=f"Saved template {info.name}")

    return click.Command(
        facility.name, callback=callback,
        params=[*facility_options(facility),
                click.Option(["--replace"], is_flag=True, help="Overwrite a template of the same name."),
                click.Option(["--json", "as_json"], is_flag=True, help="Print JSON for scripts.")],
        help=f"Save a template for {facility.display_name} (required options may be left for later).",
        short_help=facility.description or facility.display_name, context_settings={"max_content_width": 100},
    )


@templates_group.group("save", cls=FacilityGroup, make=_make_save, robotic_only=True)
@click.argument("name")
def save_group(name: str) -> None:
    """Save a template: tom templates save NAME FACILITY [options]."""


@templates_group.command("list")
@click.option("--facility", metavar="NAME", help="Only this facility's templates.")
@json_option
def list_command(facility: str | None, as_json: bool) -> None:
    """List the templates."""
    rows = [_row(t) for t in get_tom().observations.templates.list(facility)]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["name", "facility", "type", "parameters", "modified"], empty="No templates.")


@templates_group.command("show")
@click.argument("name")
@json_option
def show_command(name: str, as_json: bool) -> None:
    """Show a template."""
    info = get_tom().observations.templates.get(name)
    if as_json:
        print_json(_row(info))
    else:
        print_record(_row(info), title=f"Template {info.name}")


@templates_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(name: str, yes: bool) -> None:
    """Delete a template."""
    tom = get_tom()
    tom.observations.templates.get(name)
    confirm(f"Delete the template {name!r}?", yes)
    tom.observations.templates.delete(name)
    click.echo(f"Deleted template {name}.")
