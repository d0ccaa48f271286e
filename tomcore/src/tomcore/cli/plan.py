"""``tom plan``: which targets are observable on a night, where and when."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_table, progress, write_csv

SORT_CHOICES = ("time", "airmass", "hours", "start", "end", "name", "site")
TWILIGHT_CHOICES = ("astronomical", "nautical", "civil")
#: The best time and airmass of a row that is never observable (``tom plan --all``).
NOT_OBSERVABLE = "—"

CSV_COLUMNS = ("target", "site", "facility", "night", "observable", "best_time", "min_airmass", "altitude",
               "start", "end", "hours", "rise", "transit", "set", "moon_separation", "moon_illumination", "reason")


def _hhmm(value: datetime | None) -> str:
    """Hours and minutes: unambiguous within one site's night (< 24 h), which the lines
    above the table give with their dates."""
    return value.strftime("%H:%M") if value else ""


def _day_hhmm(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def parse_night(value: str | None) -> date | None:
    if value is None or value.strip().lower() in ("", "tonight"):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-06-01 (the local date of the evening)",
                                 param_hint="--night") from None


def parse_pair(value: str | None, option: str) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.replace(" ", "").split(",")
    try:
        if len(parts) == 1:
            limit = abs(float(parts[0]))
            return (-limit, limit)
        if len(parts) == 2:
            return (float(parts[0]), float(parts[1]))
    except ValueError:
        pass
    raise click.BadParameter(f"{value!r}: give EAST,WEST in hours (e.g. -4.6,4.6) or one number for both",
                             param_hint=option)


def plan_options(function: Any) -> Any:
    """The options ``tom plan`` and ``tom plot visibility`` share."""
    for decorator in reversed([
        click.option("--facility", "-f", metavar="NAME", help="Plan for the sites of this facility (e.g. lco)."),
        click.option("--site", "-s", "sites", multiple=True, metavar="CODE|LAT,LON,ELEV",
                     help="A site code (of --facility, or of any facility) or coordinates in degrees (east "
                          "positive) and metres. Repeatable. Default: every site of --facility."),
        click.option("--night", metavar="DATE",
                     help="The local date of the evening the night starts on (YYYY-MM-DD). Default: the "
                          "night going on at each site, else the next one."),
        click.option("--max-airmass", type=float, help="Highest airmass allowed [planning.max_airmass: 2]."),
        click.option("--min-moon-sep", type=float, metavar="DEG",
                     help="Degrees to keep from the Moon; 0 for no limit [planning.min_moon_separation: 30]."),
        click.option("--max-moon-illumination", type=float, metavar="FRACTION",
                     help="On a night when the Moon is more illuminated than this (0-1; LCO's max_lunar_phase), "
                          "observe only while it is down [planning.max_moon_illumination: 1, no limit]."),
        click.option("--ha-limits", metavar="EAST,WEST",
                     help="Hour-angle limits in hours (e.g. -4.6,4.6, or 4.6), replacing the sites' own."),
        click.option("--min-altitude", type=float, metavar="DEG",
                     help="Lowest altitude the telescope points to, replacing the sites' own."),
        click.option("--twilight", type=click.Choice(TWILIGHT_CHOICES),
                     help="The night runs between the ends of this twilight [planning.twilight: astronomical]."),
        click.option("--step", type=float, metavar="MINUTES",
                     help="Spacing of the time grid [planning.step_minutes: 5]."),
    ]):
        function = decorator(function)
    return function


def constraint_values(max_airmass: float | None, min_moon_sep: float | None, max_moon_illumination: float | None,
                      ha_limits: str | None, min_altitude: float | None, twilight: str | None,
                      step: float | None) -> dict[str, Any]:
    return {
        "max_airmass": max_airmass, "min_moon_separation": min_moon_sep, "max_moon_illumination": max_moon_illumination,
        "ha_limits": parse_pair(ha_limits, "--ha-limits"), "min_altitude": min_altitude,
        "twilight": twilight, "step_minutes": step,
    }


@click.command("plan")
@click.option("--name", "-n", "names", multiple=True, metavar="NAME", help="A target (name or alias). Repeatable.")
@click.option("--list", "-l", "lists", multiple=True, metavar="LIST", help="The targets of a list. Repeatable.")
@plan_options
@click.option("--best-site", is_flag=True, help="One row per target: the site where it is observable longest.")
@click.option("--all", "show_all", is_flag=True, help="Also show targets that are not observable, and why.")
@click.option("--sort", type=click.Choice(SORT_CHOICES), default="time", show_default=True,
              help="time: best time of each target; airmass: lowest first; hours: longest first.")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many rows.")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for spreadsheets.")
def plan_command(names: tuple[str, ...], lists: tuple[str, ...], facility: str | None, sites: tuple[str, ...],
                 night: str | None, max_airmass: float | None, min_moon_sep: float | None,
                 max_moon_illumination: float | None, ha_limits: str | None,
                 min_altitude: float | None, twilight: str | None, step: float | None, best_site: bool,
                 show_all: bool, sort: str, limit: int | None, as_json: bool, as_csv: bool) -> None:
    """Which targets are observable on a night, from which sites, and when.

    \b
    For every target (all of them, or those given by --name and --list) at every site: the
    best time (lowest airmass while observable) and that airmass, the first and last
    observable moments and the hours in between that meet every constraint (airmass, Moon
    distance, the telescope's hour-angle limits), and the rise, transit and set inside the
    night. Times are UTC; the table is sorted by best time.

    \b
    Examples:
      tom plan --facility lco --list tonight
      tom plan --facility lco --site lsc --night 2024-06-01 --max-airmass 1.6 --json
      tom plan --site -30.17,-70.80,2198 --name SN2024abc --name M31 --all
    """
    if as_json and as_csv:
        raise click.UsageError("give either --json or --csv")
    tom = get_tom()
    planning = tom.planning
    day = parse_night(night)
    chosen = planning.resolve_sites(facility, sites)
    constraints = planning.constraints(**constraint_values(max_airmass, min_moon_sep, max_moon_illumination, ha_limits,
                                                           min_altitude, twilight, step))
    targets = planning.select_targets(names, lists)
    with progress(len(chosen), "Planning", enabled=not (as_json or as_csv) and len(targets) * len(chosen) > 20000) as advance:
        plan = planning.plan(targets, chosen, night=day, constraints=constraints, sort=sort, progress=advance)
    rows = plan.rows
    if best_site:
        from tomcore.services.planning import best_rows, sort_rows

        rows = sort_rows(best_rows(rows), sort)
    if not show_all:
        rows = [row for row in rows if row.observable]
    if limit:
        rows = rows[:limit]
    if as_json:
        print_json({"constraints": plan.constraints, "nights": plan.nights, "targets": rows})
        return
    if as_csv:
        write_csv(({c: _csv_value(getattr(row, c)) for c in CSV_COLUMNS} for row in rows), CSV_COLUMNS)
        return
    _print_nights(plan)
    # sites' nights spanning more than a day (a network round the globe, or sites on different
    # nights): the best time, which orders the table, carries its date
    darks = [n for n in plan.nights if n.start is not None and n.end is not None]
    long_span = bool(darks) and (max(n.end for n in darks) - min(n.start for n in darks)).total_seconds() > 86400
    best_format = (lambda t: t.strftime("%m-%d %H:%M") if t else "") if long_span else _hhmm
    # A row that is never observable has no best time: its highest moment (what best_time
    # holds for it, in --json and --csv) goes with the reason instead.
    table = [{
        "Target": row.target, "Site": row.site,
        "Best (UTC)": best_format(row.best_time) if row.observable else NOT_OBSERVABLE,
        "Airmass": _airmass(row),
        "Start": _hhmm(row.start), "End": _hhmm(row.end), "Hours": f"{row.hours:.1f}",
        "Rise": _hhmm(row.rise), "Transit": _hhmm(row.transit), "Set": _hhmm(row.set),
        "Moon": f"{row.moon_separation:.0f}°" if row.moon_separation is not None else "",
        **({"Why not": _why_not(row, best_format)} if show_all else {}),
    } for row in rows]
    hidden = len(plan.rows) - len(plan.observable)
    empty = "No target is observable under these constraints." if targets else "No targets."
    print_table(table, empty=empty)
    if hidden and not show_all and not best_site:
        click.echo(f"{hidden} target-site pairs are not observable (--all shows them with the reason).")


def _airmass(row: Any) -> str:
    if not row.observable:
        return NOT_OBSERVABLE
    return f"{row.min_airmass:.2f}" if row.min_airmass is not None else ""


def _why_not(row: Any, best_format: Any) -> str:
    """The reason a row is not observable, with its highest moment of the night."""
    if row.observable:
        return ""
    reason = row.reason or "not observable"
    if row.best_time is None or row.altitude is None:
        return reason
    if row.altitude <= 0:
        return f"{reason} (below the horizon all night)"
    airmass = f", airmass {row.min_airmass:.2f}" if row.min_airmass is not None else ""
    return f"{reason} (highest {row.altitude:.0f}°{airmass} at {best_format(row.best_time)})"


def _csv_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _print_nights(plan: Any) -> None:
    c = plan.constraints
    limits = [f"airmass <= {c.max_airmass:g}"]
    if c.min_moon_separation:
        limits.append(f"Moon >= {c.min_moon_separation:g} deg")
    if c.max_moon_illumination is not None and c.max_moon_illumination < 1:
        limits.append(f"Moon down when over {c.max_moon_illumination:.0%} lit")
    if c.ha_limits:
        limits.append(f"hour angle {c.ha_limits[0]:+g}..{c.ha_limits[1]:+g} h")
    if c.min_altitude is not None:
        limits.append(f"altitude >= {c.min_altitude:g} deg")
    click.echo(f"Constraints: {', '.join(limits)}; night between the ends of {c.twilight} twilight; times UTC.")
    for night in plan.nights:
        site = night.site
        where = f"{site.facility}/{site.code}" if site.facility else site.code
        if night.start is None:
            click.echo(f"  {where} ({site.name}) night of {night.date}: no {night.twilight} darkness")
            continue
        moon = f"Moon {night.moon_illumination:.0%}"
        if night.moon_rise:
            moon += f", rises {_hhmm(night.moon_rise)}"
        if night.moon_set:
            moon += f", sets {_hhmm(night.moon_set)}"
        extra = f", hour angle {site.ha_limits[0]:+g}..{site.ha_limits[1]:+g} h" if site.ha_limits and not c.ha_limits else ""
        click.echo(f"  {where} ({site.name}) night of {night.date}: dark {_day_hhmm(night.start)} to "
                   f"{_day_hhmm(night.end)} ({night.hours:.1f} h); {moon}{extra}")
