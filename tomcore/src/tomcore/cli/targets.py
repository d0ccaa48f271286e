"""``tom targets``: add, list, show, edit, delete, aliases, merge, import, export.

A thin face over :mod:`tomcore.services.targets` and its neighbours (``target_query``,
``target_edit``, ``target_io``, ``merge``). The filters of ``list`` are shared with
``export`` and ``tom lists add/remove`` (:func:`filter_options`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import (
    confirm,
    json_option,
    print_json,
    print_json_stream,
    print_record,
    print_table,
    progress,
    to_jsonable,
)

#: Sidereal and orbital fields offered as options (``--pm-ra``, ``--eccentricity``...).
SIDEREAL_OPTIONS = ("epoch", "pm_ra", "pm_dec", "parallax", "distance", "distance_err")
ORBITAL_OPTIONS = (
    "epoch_of_elements", "mean_anomaly", "arg_of_perihelion", "eccentricity", "lng_asc_node", "inclination",
    "mean_daily_motion", "semimajor_axis", "epoch_of_perihelion", "perihdist", "abs_mag", "slope",
    "ephemeris_period", "ephemeris_period_err", "ephemeris_epoch", "ephemeris_epoch_err",
)
_UNITS = {"epoch": "Julian years", "pm_ra": "mas/yr", "pm_dec": "mas/yr", "parallax": "mas", "distance": "pc",
          "distance_err": "pc", "epoch_of_elements": "MJD", "epoch_of_perihelion": "MJD", "semimajor_axis": "AU",
          "perihdist": "AU", "mean_daily_motion": "deg/day", "ephemeris_period": "days",
          "ephemeris_period_err": "days", "ephemeris_epoch": "days", "ephemeris_epoch_err": "days",
          "abs_mag": "H or M1", "slope": "G or K1", "eccentricity": ""}


def field_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--ra``, ``--dec``, ``--type``, ``--scheme`` and one option per numeric field."""
    for field in reversed(SIDEREAL_OPTIONS + ORBITAL_OPTIONS):
        unit = _UNITS.get(field, "degrees")
        func = click.option(f"--{field.replace('_', '-')}", field, metavar="NUMBER",
                            help=f"{field} ({unit})." if unit else f"{field}.")(func)
    func = click.option("--scheme", type=click.Choice(["MPC_MINOR_PLANET", "MPC_COMET", "JPL_MAJOR_PLANET"],
                                                      case_sensitive=False),
                        help="Orbital element scheme (non-sidereal targets).")(func)
    func = click.option("--type", "target_type", type=click.Choice(["sidereal", "non-sidereal"], case_sensitive=False),
                        help="Default: sidereal, or non-sidereal when --scheme is given.")(func)
    func = click.option("--dec", metavar="DEC", help="Declination: degrees or +DD:MM:SS.")(func)
    func = click.option("--ra", metavar="RA", help="Right ascension: degrees or HH:MM:SS.")(func)
    return func


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of ``tom targets list`` (see :mod:`tomcore.services.target_query`)."""
    options = [
        click.option("--name", "names", multiple=True, metavar="TEXT",
                     help="Name or alias contains TEXT, ignoring case, spaces, -_() and SN/AT prefixes (repeatable: any)."),
        click.option("--type", "target_type", type=click.Choice(["sidereal", "non-sidereal"], case_sensitive=False),
                     help="Only targets of this type."),
        click.option("--list", "lists", multiple=True, metavar="LIST", help="In this target list (repeatable: any)."),
        click.option("--cone", nargs=3, metavar="RA DEC RADIUS_DEG", help="Within RADIUS_DEG of RA DEC (degrees or sexagesimal)."),
        click.option("--near", nargs=2, metavar="NAME RADIUS_ARCSEC", help="Within RADIUS_ARCSEC of the target NAME."),
        click.option("--extra", "extras", multiple=True, metavar="KEY<op>VALUE",
                     help="Extra compared in its type: = != < <= > >= (e.g. 'redshift>=0.1'), or ~ for its text "
                          "contains (e.g. 'classification~sn'); KEY alone: has it."),
        click.option("--created-since", metavar="WHEN", help="Created at or after WHEN: ISO date/time or 7d, 12h, 2w."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_query(*, names: tuple[str, ...] = (), target_type: str | None = None, lists: tuple[str, ...] = (),
                cone: tuple[str, str, str] | None = None, near: tuple[str, str] | None = None,
                extras: tuple[str, ...] = (), created_since: str | None = None, sort: tuple[str, ...] = (),
                limit: int | None = None, offset: int = 0, **_: Any) -> Any:
    from tomcore.services.target_query import TargetQuery

    return TargetQuery.build(names=names, type=target_type, lists=lists, cone=cone or None, near=near or None,
                             extras=extras, created_since=created_since, sort=sort, limit=limit, offset=offset)


def _fields(ra: str | None, dec: str | None, target_type: str | None, scheme: str | None,
            numbers: dict[str, str | None]) -> dict[str, Any]:
    from tomcore.domain.targets import coerce_fields
    from tomcore.errors import ValidationError

    raw: dict[str, Any] = {k: v for k, v in numbers.items() if v is not None}
    if ra is not None:
        raw["ra"] = ra
    if dec is not None:
        raw["dec"] = dec
    if scheme:
        raw["scheme"] = scheme
    if target_type:
        raw["type"] = target_type
    fields, errors = coerce_fields(raw)
    if errors:
        raise ValidationError("bad value", {f"--{k.replace('_', '-')}": v for k, v in errors.items()})
    return fields


def _extras(assignments: tuple[str, ...]) -> dict[str, Any]:
    from tomcore.domain.extras import parse_assignment
    from tomcore.errors import ValidationError

    try:
        return dict(parse_assignment(a) for a in assignments)
    except ValueError as exc:
        raise ValidationError(f"--extra {exc}") from None


def target_record(target: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A target as a flat record for people (``show``)."""
    from tomcore.domain.coords import format_dec, format_ra

    record: dict[str, Any] = {"name": target.name, "type": target.type}
    if target.ra is not None and target.dec is not None:
        record["ra"] = f"{target.ra:.6f}  ({format_ra(target.ra)})"
        record["dec"] = f"{target.dec:+.6f}  ({format_dec(target.dec)})"
    for field in ("epoch", "pm_ra", "pm_dec", "parallax", "distance", "distance_err", "galactic_lng", "galactic_lat",
                  "scheme", *ORBITAL_OPTIONS):
        record[field] = getattr(target, field)
    record["aliases"] = target.aliases
    record["lists"] = target.lists
    for key, value in target.extras.items():
        record[f"extra {key}"] = value
    record["created"] = target.created
    record["modified"] = target.modified
    record.update(extra or {})
    return record


def _summary_row(target: Any, separation: float | None = None) -> dict[str, Any]:
    row = {"name": target.name,
           "type": target.type if target.scheme is None else f"{target.type} ({target.scheme})",
           "ra": None if target.ra is None else f"{target.ra:.5f}", "dec": None if target.dec is None else f"{target.dec:+.5f}",
           "aliases": ", ".join(target.aliases), "lists": ", ".join(target.lists), "created": target.created}
    if separation is not None:
        row["sep (\")"] = f"{separation:.2f}"
    return row


@click.group("targets")
def targets_group() -> None:
    """Targets: add, list, show, edit, delete, merge, import and export."""


# -- add -----------------------------------------------------------------------------------------


@targets_group.command("add")
@click.argument("name", required=False)
@field_options
@click.option("--alias", "aliases", multiple=True, metavar="NAME", help="Another name (repeatable).")
@click.option("--extra", "extras", multiple=True, metavar="KEY=VALUE",
              help="An extra value, typed from its text; KEY:TYPE=VALUE forces number|string|boolean|datetime.")
@click.option("--list", "lists", multiple=True, metavar="LIST", help="Put it in this target list (created if needed).")
@click.option("--on-duplicate", type=click.Choice(["error", "skip", "update"]), default="error", show_default=True,
              help="When the matcher finds it already (by name, alias or position).")
@click.option("--from", "from_spec", metavar="CATALOG:TERM",
              help="Take the target from a catalog (simbad:M31, horizons:433); NAME and other options override it.")
@json_option
def add_target(name: str | None, ra: str | None, dec: str | None, target_type: str | None, scheme: str | None,
               aliases: tuple[str, ...], extras: tuple[str, ...], lists: tuple[str, ...], on_duplicate: str,
               from_spec: str | None, as_json: bool, **numbers: str | None) -> None:
    """Add a target by hand (sidereal: NAME --ra --dec; non-sidereal: NAME --scheme ...),
    or from a catalog (--from CATALOG:TERM).

    \b
    tom targets add "SN 2011fe" --ra 14:03:05.8 --dec +54:16:25 --alias PTF11kly --extra redshift=0.0008
    tom targets add 1P/Halley --scheme MPC_COMET --epoch-of-elements 46480 --perihdist 0.5871 \\
        --eccentricity 0.9671 --inclination 162.26 --lng-asc-node 58.42 --arg-of-perihelion 111.33 \\
        --epoch-of-perihelion 46470.9
    tom targets add --from simbad:M31 --list galaxies
    """
    from tomcore.domain.targets import Target

    if from_spec:
        from tomcore.cli.catalog import add_from_catalog

        add_from_catalog(from_spec, name=name, fields=_fields(ra, dec, target_type, scheme, numbers),
                         aliases=aliases, extras=_extras(extras), lists=lists, on_duplicate=on_duplicate,
                         as_json=as_json)
        return
    if not name:
        raise click.UsageError("give the target's NAME (or --from CATALOG:TERM)")
    tom = get_tom()
    fields = _fields(ra, dec, target_type, scheme, numbers)
    if scheme and "type" not in fields:
        fields["type"] = "NON_SIDEREAL"
    target = Target(name=name.strip(), aliases=list(aliases), extras=_extras(extras), lists=list(lists), **fields)
    report = tom.targets.save([target], on_duplicate=on_duplicate, source="manual")
    outcome = report.outcomes[0]
    if outcome.action == "skipped":
        from tomcore.services.targets import describe_candidate

        matches = [describe_candidate(c) for c in outcome.candidates]
        if as_json:
            print_json({"action": "skipped", "matches": matches})
        else:
            click.echo(f"Skipped {name}: it matches {'; '.join(matches)}")
        return
    saved = outcome.target
    if as_json:
        print_json({"action": outcome.action, "target": saved})
    else:
        verb = {"created": "Added", "updated": "Updated", "unchanged": "Already there, unchanged:"}.get(outcome.action, outcome.action)
        click.echo(f"{verb} {saved.name}" + (f" (id {saved.id})" if saved is not None else ""))


# -- list / show ---------------------------------------------------------------------------------


@targets_group.command("list")
@filter_options
@click.option("--sort", multiple=True, metavar="KEY",
              help="name, created, ra, separation, an extra's key...; -KEY descending (repeatable or comma list).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (tables default to 100).")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (the import format) instead of a table.")
@json_option
def list_targets(as_json: bool, as_csv: bool, limit: int | None, **options: Any) -> None:
    """List targets, filtered and sorted.

    \b
    tom targets list --cone 10.68 41.27 1.5
    tom targets list --near "SN 2011fe" 600 --extra "classification=SN Ia"
    tom targets list --extra "redshift<0.01" --sort -redshift --created-since 30d --json
    """
    from tomcore.services.target_query import find, stream

    tom = get_tom()
    table = not (as_json or as_csv)
    query = build_query(limit=100 if limit is None and table else limit, **options)
    if as_json:  # streamed a chunk at a time: a listing of every target stays in bounded memory
        print_json_stream(
            {**to_jsonable(t), **({"separation_arcsec": chunk.separations[t.id]} if t.id in chunk.separations else {})}
            for chunk in stream(tom, query) for t in chunk.targets)
        return
    if as_csv:
        from tomcore.services.target_io import write_csv_chunks

        write_csv_chunks(lambda: (chunk.targets for chunk in stream(tom, query)), sys.stdout)
        sys.stdout.flush()
        return
    result = find(tom, query)
    rows = [_summary_row(t, result.separations.get(t.id) if result.centre and t.id is not None else None)
            for t in result.targets]
    print_table(rows, empty="No targets match." if not query.is_empty else "No targets yet: `tom targets add` or `tom targets import`.")
    if result.total > len(result.targets):
        click.echo(f"{len(result.targets)} of {result.total} targets shown; use --limit/--offset for more.")


@targets_group.command("show")
@click.argument("name")
@json_option
def show_target(name: str, as_json: bool) -> None:
    """Show one target (by name or alias) with aliases, extras, lists and what refers to it."""
    from tomcore.services.target_edit import dependents

    tom = get_tom()
    with tom.db.session(readonly=True) as session:
        tid = tom.targets.resolve_id(session, name)
        target = tom.targets.load(session, [tid])[tid]
        related = dependents(session, [tid])
    if as_json:
        print_json({**to_jsonable(target), "related": related})
    else:
        print_record(target_record(target, {f"{table}": count for table, count in related.items()}), title=target.name)


# -- edit / delete / alias -----------------------------------------------------------------------


@targets_group.command("edit")
@click.argument("name")
@click.option("--name", "new_name", metavar="NEW", help="Rename the target.")
@click.option("--keep-old-name", is_flag=True, help="With --name: keep the old name as an alias.")
@field_options
@click.option("--unset", multiple=True, metavar="FIELD", help="Clear a field (e.g. --unset parallax).")
@click.option("--extra", "extras", multiple=True, metavar="KEY=VALUE", help="Set an extra (KEY:TYPE=VALUE forces the type).")
@click.option("--remove-extra", multiple=True, metavar="KEY", help="Remove an extra.")
@json_option
def edit_target(name: str, new_name: str | None, keep_old_name: bool, ra: str | None, dec: str | None,
                target_type: str | None, scheme: str | None, unset: tuple[str, ...], extras: tuple[str, ...],
                remove_extra: tuple[str, ...], as_json: bool, **numbers: str | None) -> None:
    """Change a target's name, fields or extras."""
    from tomcore.services.target_edit import edit_target as edit

    tom = get_tom()
    fields = _fields(ra, dec, target_type, scheme, numbers)
    for field in unset:
        fields[field.strip().lower().replace("-", "_")] = None
    if not (fields or new_name or extras or remove_extra):
        raise click.UsageError("nothing to change: give --name, a field option, --unset, --extra or --remove-extra")
    saved = edit(tom.targets, name, fields=fields, rename=new_name, keep_old_name=keep_old_name,
                 extras=_extras(extras), remove_extras=list(remove_extra))
    if as_json:
        print_json(saved)
    else:
        click.echo(f"Updated {saved.name}")


@targets_group.command("delete")
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete_target(names: tuple[str, ...], yes: bool) -> None:
    """Delete targets, with their observations, data products and photometry."""
    from tomcore.services.target_edit import delete_targets, dependents

    tom = get_tom()
    with tom.db.session(readonly=True) as session:
        ids = tom.targets.resolve_ids(session, names)
        found = tom.targets.load(session, ids.values())
        related = dependents(session, list(found))
    what = ", ".join(t.name for t in found.values())
    also = "; ".join(f"{count} {table.replace('_', ' ')}" for table, count in related.items())
    confirm(f"Delete {len(found)} target(s): {what}{' (and ' + also + ')' if also else ''}?", yes)
    gone = delete_targets(tom.targets, list(names))
    click.echo(f"Deleted {len(gone)} target(s): {', '.join(t.name for t in gone)}")


@targets_group.group("alias")
def alias_group() -> None:
    """Add or remove aliases (other names) of a target."""


@alias_group.command("add")
@click.argument("name")
@click.argument("aliases", nargs=-1, required=True)
def alias_add(name: str, aliases: tuple[str, ...]) -> None:
    """Give target NAME more names (refused when another target has one of them)."""
    from tomcore.services.target_edit import add_aliases

    saved = add_aliases(get_tom().targets, name, list(aliases))
    click.echo(f"{saved.name}: aliases {', '.join(saved.aliases) or '(none)'}")


@alias_group.command("remove")
@click.argument("name")
@click.argument("aliases", nargs=-1, required=True)
def alias_remove(name: str, aliases: tuple[str, ...]) -> None:
    """Remove aliases of target NAME."""
    from tomcore.services.target_edit import remove_aliases

    saved = remove_aliases(get_tom().targets, name, list(aliases))
    click.echo(f"{saved.name}: aliases {', '.join(saved.aliases) or '(none)'}")


# -- merge ---------------------------------------------------------------------------------------


@targets_group.command("merge")
@click.argument("keep")
@click.argument("other")
@click.option("--force", is_flag=True, help="Merge even when the positions (or types) disagree.")
@click.option("--yes", is_flag=True, help="Do not ask.")
@json_option
def merge_targets(keep: str, other: str, force: bool, yes: bool, as_json: bool) -> None:
    """Merge OTHER into KEEP: OTHER's names become KEEP's aliases; its extras (those KEEP
    lacks), lists, observations, data and photometry move to KEEP; OTHER is removed."""
    from tomcore.services.merge import merge, plan_merge

    tom = get_tom()
    plan = plan_merge(tom, keep, other, force=force)
    confirm(f"Merge {plan.other.name!r} into {plan.keep.name!r}{plan.describe()}?", yes or as_json)
    result = merge(tom, keep, other, force=force)
    if as_json:
        print_json(result)
    else:
        click.echo(f"Merged {result.other_name} into {result.target.name}" + (f" ({result.describe()})" if result.moved else ""))


# -- import / export -----------------------------------------------------------------------------


@targets_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "ecsv", "votable"]), help="Default: from the extension.")
@click.option("--on-duplicate", type=click.Choice(["error", "skip", "update"]), default="error", show_default=True,
              help="A row matching an existing target or an earlier row (name, alias or position).")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and report the bad ones.")
@click.option("--list", "lists", multiple=True, metavar="LIST", help="Also put every imported target in LIST.")
@click.option("--resolve", "catalog", metavar="CATALOG",
              help="FILE holds one name per line: resolve them with CATALOG (simbad, horizons...) in batches.")
@json_option
def import_targets(file: str, fmt: str | None, on_duplicate: str, skip_invalid: bool, lists: tuple[str, ...],
                   catalog: str | None, as_json: bool) -> None:
    """Import targets from a CSV (the TOM Toolkit's format), ECSV or VOTable file, or a
    list of names resolved with a catalog (--resolve CATALOG).

    All or nothing: every bad row is listed and nothing is written, unless --skip-invalid.
    With --resolve, names the catalog does not know (or finds several objects for) are
    listed and the rest imported.
    """
    if catalog:
        from tomcore.cli.catalog import import_names_from_catalog

        if fmt:
            raise click.UsageError("--format and --resolve do not go together: --resolve reads one name per line")
        import_names_from_catalog(file, catalog, on_duplicate=on_duplicate, lists=lists, as_json=as_json)
        return
    from tomcore.services.target_io import import_file

    tom = get_tom()
    bar: dict[str, Any] = {}

    def started(total: int) -> None:
        bar["cm"] = progress(total, f"Importing {total} targets", enabled=not as_json)
        bar["advance"] = bar["cm"].__enter__()

    try:
        report = import_file(tom, file, fmt=fmt, on_duplicate=on_duplicate, skip_invalid=skip_invalid, lists=lists,
                             progress=lambda n: bar["advance"](n) if "advance" in bar else None, started=started)
    finally:
        if "cm" in bar:
            bar["cm"].__exit__(None, None, None)
    counts = report.counts()
    if as_json:
        print_json({"counts": counts, "errors": report.read_errors})
        return
    click.echo(f"Imported {file}: {counts['created']} created, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged, {counts['skipped']} skipped, {counts['merged']} merged into "
               f"earlier rows, {counts['error']} bad rows.")
    for where, reasons in report.read_errors.items():
        click.echo(f"  {where}: {'; '.join(reasons)}", err=True)


@targets_group.command("export")
@filter_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="File to write (.csv, .ecsv, .xml/.vot).")
@click.option("--format", "fmt", type=click.Choice(["csv", "ecsv", "votable"]), help="Default: from the extension.")
@click.option("--sort", multiple=True, metavar="KEY", help="As for `tom targets list`.")
def export_targets(output: str, fmt: str | None, **options: Any) -> None:
    """Export targets (all, or those matching the filters) to CSV, ECSV or VOTable.

    CSV exports import back unchanged (names, aliases, fields, typed extras, lists).
    """
    from tomcore.services.target_io import export_query

    count, kind = export_query(get_tom(), build_query(**options), output, fmt)
    click.echo(f"Wrote {count} targets to {output} ({kind.upper()})")
