"""``tom catalog``: look names up in catalogs (SIMBAD, JPL Horizons...) and create targets.

A thin face over ``tom.catalogs`` (:mod:`tomcore.services.catalogs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_record, print_table, progress, to_jsonable

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.domain.catalogs import CatalogEntry, Resolution
    from tomcore.services.catalogs import CreateResult, ImportReport


def parse_options(values: Sequence[str]) -> dict[str, str]:
    """``("epoch=2025-01-01",)`` -> ``{"epoch": "2025-01-01"}`` (for ``-o KEY=VALUE``)."""
    options: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="-o/--option")
        options[key.strip().replace("-", "_")] = text.strip()
    return options


option_option = click.option(
    "-o", "--option", "options", multiple=True, metavar="KEY=VALUE",
    help="A catalog option (see `tom catalog list`), e.g. -o epoch=2025-01-01 for horizons. Repeatable.")


def entry_record(entry: CatalogEntry) -> dict[str, Any]:
    """What a person sees of a catalog entry: the filled target fields, then the rest."""
    fields = entry.fields()
    record: dict[str, Any] = {"catalog id": entry.identifier}
    record.update(fields)
    for key, value in entry.target.extras.items():
        record[f"extra {key}"] = value
    record["aliases"] = f"{len(entry.aliases)}: {', '.join(entry.aliases)}" if entry.aliases else None
    record["note"] = entry.note
    record["url"] = entry.url
    return record


def describe_result(result: CreateResult, catalog_title: str, update_hint: str = "--update") -> str:
    """One line saying what creating a target from a catalog did."""
    target = result.target
    name = target.name if target is not None else result.entry.name
    if result.action == "created":
        count = len(target.aliases) if target is not None else 0
        extra = f", with {count} alias{'es' if count != 1 else ''}" if count else ""
        return f"Created target {name!r} (id {target.id}) from {catalog_title}{extra}."
    if result.action == "updated":
        return f"Updated target {name!r} (id {target.id}) from {catalog_title}."
    if result.action == "unchanged":
        return f"Target {name!r} (id {target.id}) already has everything {catalog_title} gives; nothing changed."
    how = []
    for candidate in result.matches:
        if candidate.by_name:
            how.append(f"name {candidate.matched_name!r}")
        if candidate.separation_arcsec is not None and "position" in candidate.by:
            how.append(f'position, {candidate.separation_arcsec:.2f}" away')
    matched = f" (matched by {'; '.join(how)})" if how else ""
    return (f"{result.entry.name!r} is already in the TOM as {name!r}{matched}; nothing created. "
            f"Use {update_hint} to update it from {catalog_title}.")


def result_json(result: CreateResult) -> dict[str, Any]:
    return {
        "action": result.action,
        "target": to_jsonable(result.target) if result.target is not None else None,
        "matches": [to_jsonable(c) for c in result.matches],
        "entry": result.entry.as_dict(),
    }


@click.group("catalog")
def catalog_group() -> None:
    """Look names up in catalogs (SIMBAD, JPL Horizons...) and create targets from them.

    \b
    tom catalog list
    tom catalog query simbad M31
    tom catalog query horizons "C/2020 F3" --create
    tom catalog query simbad "SN 2011fe" --create --list supernovae
    """


@catalog_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the installed catalogs, what they give and their options."""
    rows = get_tom(require_home=False, check_schema=False).catalogs.describe()
    if as_json:
        print_json(rows)
        return
    table = [{**row, "options": ", ".join(o["name"] for o in row["options"]),
              "target type": (row["target_type"] or "").lower().replace("_", "-")} for row in rows]
    print_table(table, ["name", "title", "target type", "options", "description"],
                empty="No catalogs installed (install tom-catalog-simbad or tom-catalog-jplhorizons).")


@catalog_group.command("query")
@click.argument("catalog")
@click.argument("term", nargs=-1, required=True)
@option_option
@click.option("--create", is_flag=True, help="Create the target (through the matcher: an existing target is reported).")
@click.option("--update", is_flag=True, help="Create the target, or update the existing one it matches with the catalog's values.")
@click.option("--name", help="With --create: name the target this (the catalog's name becomes an alias).")
@click.option("--alias", "aliases", multiple=True, help="With --create: another name for the target. Repeatable.")
@click.option("--list", "lists", multiple=True, metavar="LIST", help="With --create: add the target to this target list. Repeatable.")
@json_option
def query_command(catalog: str, term: tuple[str, ...], options: tuple[str, ...], create: bool, update: bool,
                  name: str | None, aliases: tuple[str, ...], lists: tuple[str, ...], as_json: bool) -> None:
    """Show what CATALOG returns for TERM, mapped to target fields.

    TERM is a name or designation (several words are joined: `tom catalog query simbad
    NGC 224`). With --create the target is created through the matcher: a target that
    already exists (by name, alias or position) is reported, or updated with --update.
    """
    text = " ".join(term).strip()
    opts = parse_options(options)
    create = create or update
    if not create and (name or aliases or lists):
        raise click.UsageError("--name, --alias and --list need --create")
    if create:
        tom = get_tom()
        entry = tom.catalogs.lookup(catalog, text, opts)
        result = tom.catalogs.save_entry(entry, update=update, name=name, aliases=aliases, lists=lists)
        if as_json:
            print_json(result_json(result))
            return
        title = tom.catalogs.get(catalog).display_name
        print_record(entry_record(entry), title=f"{title}: {entry.name}")
        click.echo(describe_result(result, title))
        return
    tom = get_tom(require_home=False, check_schema=False)
    component = tom.catalogs.get(catalog)
    entries = tom.catalogs.query(catalog, text, opts)
    if as_json:
        print_json([entry.as_dict() for entry in entries])
    if not entries:
        from tomcore.errors import NotFoundError

        raise NotFoundError(f"{component.display_name}: nothing found for {text!r}")
    if as_json:
        return
    for index, entry in enumerate(entries):
        if index:
            click.echo()
        print_record(entry_record(entry), title=f"{component.display_name}: {entry.name}")
    if len(entries) > 1:
        click.echo(f"\n{len(entries)} objects match {text!r}.")


# -- used by `tom targets add --from` and `tom targets import --resolve` --------------------------


def add_from_catalog(spec: str, *, name: str | None = None, fields: dict[str, Any] | None = None,
                     aliases: Sequence[str] = (), extras: dict[str, Any] | None = None, lists: Sequence[str] = (),
                     on_duplicate: str = "error", as_json: bool = False) -> None:
    """``tom targets add [NAME] --from CATALOG:TERM``: the target from a catalog, with the
    command line's name, fields, aliases, extras and lists, through the matcher."""
    from tomcore.services.catalogs import parse_spec

    tom = get_tom()
    catalog, term = parse_spec(spec)
    entry = tom.catalogs.lookup(catalog, term)
    result = tom.catalogs.save_entry(entry, name=name, fields=fields, aliases=aliases, extras=extras, lists=lists,
                                     on_duplicate=on_duplicate)
    if as_json:
        print_json(result_json(result))
        return
    click.echo(describe_result(result, tom.catalogs.get(catalog).display_name, update_hint="--on-duplicate update"))


def _candidates(resolution: Resolution) -> list[tuple[str, str]]:
    candidates = getattr(resolution.error, "candidates", None)
    if candidates:
        return [(str(a), str(b)) for a, b in candidates]
    return [(e.identifier or e.name, e.name) for e in resolution.entries]


def import_report_json(report: ImportReport) -> dict[str, Any]:
    save = report.save
    return {
        "catalog": report.catalog,
        "counts": report.counts(),
        "created": [t.name for t in save.created] if save else [],
        "updated": [t.name for t in save.updated] if save else [],
        "not_found": report.not_found,
        "ambiguous": [{"term": r.term, "candidates": _candidates(r)} for r in report.ambiguous],
        "failed": [{"term": r.term, "error": str(r.error)} for r in report.failed],
        "skipped": [o.label for o in save.skipped] if save else [],
        "errors": {o.label: o.errors for o in save.errors} if save else {},
    }


def import_names_from_catalog(file: str, catalog: str, *, on_duplicate: str = "error", lists: Sequence[str] = (),
                              options: dict[str, Any] | None = None, as_json: bool = False) -> None:
    """``tom targets import FILE --resolve CATALOG``: one name per line, resolved in batches;
    names not found or ambiguous are listed, the rest imported through the matcher."""
    from tomcore.errors import ValidationError
    from tomcore.services.catalogs import read_names

    tom = get_tom()
    component = tom.catalogs.get(catalog)
    names = read_names(file)
    if not names:
        raise ValidationError(f"{file} holds no names (one name per line; # starts a comment)")
    with progress(len(names), f"Resolving {len(names)} names with {component.display_name}",
                  enabled=not as_json) as advance:
        report = tom.catalogs.import_names(catalog, names, on_duplicate=on_duplicate, lists=lists,
                                           options=options, progress=advance)
    if as_json:
        print_json(import_report_json(report))
        return
    counts = report.counts()
    click.echo(f"Resolved {counts['names']} names with {component.display_name}: {counts['found']} found, "
               f"{counts['not found']} not found, {counts['ambiguous']} ambiguous"
               + (f", {len(report.failed)} failed" if report.failed else "") + ".")
    click.echo(f"Imported from {file}: {counts['created']} created, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged, {counts['skipped']} skipped (already in the TOM), "
               f"{counts['error']} not saved.")
    if report.not_found:
        click.echo(f"Not found ({len(report.not_found)}): {', '.join(report.not_found)}")
    for resolution in report.ambiguous:
        listed = "; ".join(f"{ident} ({desc})" if desc and desc != ident else ident
                           for ident, desc in _candidates(resolution))
        click.echo(f"Ambiguous {resolution.term!r}: {listed}")
    for resolution in report.failed:
        click.echo(f"Failed {resolution.term!r}: {resolution.error}", err=True)
    if report.save is not None:
        for outcome in report.save.errors:
            reasons = "; ".join(f"{field}: {', '.join(r)}" if field != "_" else ", ".join(r)
                                for field, r in outcome.errors.items())
            click.echo(f"Not saved {outcome.label}: {reasons}", err=True)
