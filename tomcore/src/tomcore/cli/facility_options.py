"""Commands with one sub-command per facility, whose options come from the facility's
declared observation parameters (``tom observe lco ...``, ``tom templates save NAME lco
...``, ``tom cadence start TARGET lco ...``). Not a command group itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from tomcore.cli.context import get_state


def facility_names(robotic_only: bool = False) -> list[str]:
    registry = get_state().plugin_host().registry("facilities")
    return [name for name, facility in registry.items() if facility.robotic or not robotic_only]


class FacilityGroup(click.Group):
    """A group whose sub-commands are the installed facilities, built on demand by
    ``make(facility)`` (so ``--help`` lists them and each shows its own options)."""

    def __init__(self, *args: Any, make: Callable[[Any], click.Command], robotic_only: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.make = make
        self.robotic_only = robotic_only

    def list_commands(self, ctx: click.Context) -> list[str]:
        return facility_names(self.robotic_only)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name.lower() not in facility_names(self.robotic_only):
            return None
        return self.make(get_state().plugin_host().registry("facilities").get(name))

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0].lower() not in facility_names(self.robotic_only):
            known = ", ".join(facility_names(self.robotic_only)) or "none installed"
            raise click.UsageError(f"no facility named {args[0]!r} (available: {known})", ctx)
        return super().resolve_command(ctx, args)


def facility_options(facility: Any) -> list[click.Option]:
    """The facility's parameters as options, and ``--type`` when it has several types."""
    from tomcore.cli.params import param_options

    # A parameter named like one of the command's own options cannot be given on the command line.
    reserved = {"target", "template", "validate_only", "group", "as_json", "observation_type", "replace"}
    options = param_options([p for p in facility.all_parameters() if p.name not in reserved])
    types = list(facility.observation_types)
    if types:
        options.insert(0, click.Option(
            ["--type", "observation_type"], type=click.Choice(types, case_sensitive=False), default=None,
            help=f"Observation type (default: {types[0]}, or what the options imply)."))
    return options


def collect_params(facility: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    from tomcore.cli.params import collect

    return collect(facility.all_parameters(), values)


def option_errors(exc: Any, facility: Any, extra: Mapping[str, str] | None = None) -> Any:
    """The same :class:`ValidationError` with parameter names shown as their options
    (``exposure_time`` -> ``--exposure-time``), so users see what to change."""
    from tomcore.errors import ValidationError

    names = {p.name: p.option for p in facility.all_parameters()}
    names.update(extra or {})
    renamed: dict[str, Sequence[str]] = {}
    for key, reasons in exc.errors.items():
        renamed.setdefault(names.get(key, key), []).extend(reasons)  # type: ignore[attr-defined]
    return ValidationError(exc.summary, renamed)
