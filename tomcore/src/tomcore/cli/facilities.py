"""``tom facilities``: the installed facilities, their sites, instruments and parameters."""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_record, print_table


@click.group("facilities")
def facilities_group() -> None:
    """Observing facilities: what is installed, where it observes, what it offers."""


@facilities_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the installed facilities."""
    tom = get_tom(check_schema=False)
    rows = [
        {"name": f.name, "title": f.display_name, "robotic": f.robotic, "types": list(f.observation_types),
         "sites": len(f.sites()), "plugin": f.plugin_name, "description": f.description}
        for f in tom.observations.facilities()
    ]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["name", "title", "robotic", "types", "sites", "plugin", "description"],
                    empty="No facility is installed.")


def _describe(facility: Any) -> dict[str, Any]:
    return {
        "name": facility.name, "title": facility.display_name, "description": facility.description,
        "plugin": facility.plugin_name, "robotic": facility.robotic,
        "states": list(facility.states), "terminal": sorted(facility.terminal_states),
        "failed": sorted(facility.failed_states), "success": sorted(facility.success_states),
        "window": list(facility.window_params or []),
        "sites": [{"code": s.code, "name": s.name, "latitude": s.latitude, "longitude": s.longitude,
                   "elevation": s.elevation} for s in facility.sites()],
        "observation_types": {
            kind: [{"option": p.option, "type": p.type, "required": p.required, "default": p.default,
                    "choices": list(p.choices) if p.choices else None, "multiple": p.multiple, "help": p.help}
                   for p in params]
            for kind, params in facility.observation_types.items()
        },
    }


@facilities_group.command("show")
@click.argument("facility")
@click.option("--offline", is_flag=True, help="Do not ask the facility for its instruments.")
@json_option
def show_command(facility: str, offline: bool, as_json: bool) -> None:
    """Show a facility: sites, observation types and options, and its instruments (asked
    from the facility), with their filters and modes."""
    from tomcore.errors import TomError

    tom = get_tom(check_schema=False)
    component = tom.observations.facility(facility)
    info = _describe(component)
    instruments: list[dict[str, Any]] = []
    problem = None
    if not offline:
        try:
            instruments = [
                {"code": i.code, "name": i.name, "kind": i.kind, "telescope": i.telescope, "filters": list(i.filters),
                 "modes": list(i.modes), "default_mode": i.default_mode,
                 "optical_elements": {k: list(v) for k, v in i.optical_elements.items()}}
                for i in component.instruments()
            ]
        except TomError as exc:
            problem = str(exc)
    info["instruments"] = instruments
    if problem:
        info["instruments_error"] = problem
    if as_json:
        print_json(info)
        return
    print_record({
        "facility": f"{info['name']} ({info['title']})", "description": info["description"], "plugin": info["plugin"],
        "robotic": info["robotic"], "states": info["states"], "terminal": info["terminal"],
        "failed": info["failed"], "success": info["success"],
    })
    print_table(info["sites"], ["code", "name", "latitude", "longitude", "elevation"], title="Sites",
                empty="Sites: none declared.")
    for kind, params in info["observation_types"].items():
        print_table([{"option": p["option"], "type": p["type"] + (" (repeatable)" if p["multiple"] else ""),
                      "required": "yes" if p["required"] else "", "default": p["default"],
                      "choices": p["choices"], "help": p["help"]} for p in params],
                    ["option", "type", "required", "default", "choices", "help"], title=f"Options of {kind}")
    if problem:
        click.echo(f"Instruments: unavailable ({problem})", err=True)
    elif instruments:
        print_table([{**i, "elements": {k: v for k, v in i["optical_elements"].items() if k != "filters"}}
                     for i in instruments],
                    ["code", "kind", "telescope", "filters", "modes", "elements"], title="Instruments")
