"""``tom observe FACILITY TARGET [options]``: validate and submit one observation request.

Each facility is a sub-command whose options are its declared parameters. ``tom observe
--template NAME TARGET [options]`` takes the facility and parameters from a template
(options given override them). Every bad option is reported before anything is submitted.
"""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.facility_options import FacilityGroup, collect_params, facility_options, option_errors
from tomcore.cli.output import print_json, print_record


def observation_row(info: Any) -> dict[str, Any]:
    return {
        "id": info.id, "target": info.target_name, "facility": info.facility, "type": info.observation_type,
        "request": info.facility_id, "status": info.status, "scheduled_start": info.scheduled_start,
        "scheduled_end": info.scheduled_end, "cadence": info.cadence_id, "group": info.group,
        "created": info.created,
    }


def _make(facility: Any) -> click.Command:
    def callback(target: str, observation_type: str | None, template: str | None, validate_only: bool,
                 group: str | None, as_json: bool, **values: Any) -> None:
        from tomcore.errors import ValidationError

        tom = get_tom()
        params = collect_params(facility, values)
        try:
            if validate_only:
                outcome = tom.observations.validate(facility.name, target, params, observation_type=observation_type,
                                                    template=template)
                if as_json:
                    print_json({"valid": outcome.ok, "errors": outcome.errors, "duration": outcome.duration,
                                "observation_type": outcome.observation_type, "payload": outcome.payload})
                if not outcome.ok:
                    raise ValidationError(f"{facility.name} would refuse this request", outcome.errors)
                if not as_json:
                    minutes = f" (about {outcome.duration / 60:.1f} min)" if outcome.duration is not None else ""
                    click.echo(f"Valid: {facility.name} {outcome.observation_type} of {outcome.target}{minutes}. "
                               "Nothing was submitted.")
                return
            infos = tom.observations.submit(facility.name, target, params, observation_type=observation_type,
                                            template=template, group=group)
        except ValidationError as exc:
            raise option_errors(exc, facility) from None
        if as_json:
            print_json([observation_row(i) | {"url": i.url, "payload": i.payload} for i in infos])
            return
        for info in infos:
            print_record({**observation_row(info), "url": info.url},
                         title=f"Submitted to {facility.display_name}: record {info.id}")

    params = [
        click.Argument(["target"]),
        *facility_options(facility),
        click.Option(["--template"], metavar="NAME", help="Start from a saved template (`tom templates list`)."),
        click.Option(["--validate-only"], is_flag=True, help="Ask the facility for a dry run; submit nothing."),
        click.Option(["--group"], metavar="NAME", help="Put the record in this observation group."),
        click.Option(["--json", "as_json"], is_flag=True, help="Print JSON for scripts."),
    ]
    return click.Command(
        facility.name, callback=callback, params=params,
        help=f"Request an observation of TARGET at {facility.display_name}.\n\n{facility.description}",
        short_help=facility.description or facility.display_name,
        context_settings={"max_content_width": 100},
    )


class ObserveGroup(FacilityGroup):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """``--template NAME`` before the facility: the facility comes from the template."""
        if args and (args[0] == "--template" or args[0].startswith("--template=")):
            if args[0] == "--template":
                if len(args) < 2:
                    raise click.UsageError("--template needs a NAME", ctx)
                name, rest = args[1], args[2:]
            else:
                name, rest = args[0].split("=", 1)[1], args[1:]
            template = get_tom().observations.templates.get(name)
            args = [template.facility, "--template", name, *rest]
        return super().parse_args(ctx, args)


@click.group("observe", cls=ObserveGroup, make=_make,
             context_settings={"max_content_width": 100})
def observe_command() -> None:
    """Request an observation: tom observe FACILITY TARGET [options].

    \b
    tom observe lco SN2024abc --filter rp --exposure-time 120 --end 2024-06-03 --validate-only
    tom observe --template nightly-rp SN2024abc
    tom observe FACILITY --help   lists the facility's options
    """
