"""``tom plot visibility``: airmass charts of targets through a night."""

from __future__ import annotations

import click

from tomcore.cli.context import get_tom
from tomcore.cli.plan import constraint_values, parse_night, plan_options


@click.command("visibility")
@click.argument("targets", nargs=-1)
@click.option("--list", "-l", "lists", multiple=True, metavar="LIST", help="Also the targets of a list. Repeatable.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="The file to write: .png, .svg or .pdf (matplotlib) or .html (interactive, self-contained).")
@plan_options
@click.option("--airmass-axis", type=float, default=3.0, show_default=True, metavar="MAX",
              help="The airmass at the bottom of the chart.")
def visibility_command(targets: tuple[str, ...], lists: tuple[str, ...], output: str, facility: str | None,
                       sites: tuple[str, ...], night: str | None, max_airmass: float | None,
                       min_moon_sep: float | None, max_moon_illumination: float | None, ha_limits: str | None,
                       min_altitude: float | None,
                       twilight: str | None, step: float | None, airmass_axis: float) -> None:
    """Airmass of TARGETS through a night, one panel per site, twilights shaded.

    \b
    Curves are bold where the target meets every constraint (airmass, Moon distance, hour
    angle) in the dark, faint where it is merely up. Times are UTC.

    \b
    Examples:
      tom plot visibility SN2024abc M31 --facility lco --site lsc -o tonight.png
      tom plot visibility --list tonight --facility lco --night 2024-06-01 -o plan.html
    """
    if not targets and not lists:
        raise click.UsageError("name at least one target (or --list)")
    tom = get_tom()
    planning = tom.planning
    from tomcore.services.visibility_chart import check_path, render

    path = check_path(output)
    chosen = planning.resolve_sites(facility, sites)
    constraints = planning.constraints(**constraint_values(max_airmass, min_moon_sep, max_moon_illumination, ha_limits,
                                                           min_altitude, twilight, step))
    selected = planning.select_targets(targets, lists)
    charts = planning.curves(selected, chosen, night=parse_night(night), constraints=constraints)
    written = render(charts, path, airmass_axis=airmass_axis)
    n_targets, n_sites = len(selected), len(chosen)
    click.echo(f"Wrote {written} ({n_targets} target{'s' if n_targets != 1 else ''}, "
               f"{n_sites} site{'s' if n_sites != 1 else ''}).")
