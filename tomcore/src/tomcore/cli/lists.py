"""``tom lists``: target lists (the TOM Toolkit's target groups)."""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import confirm, json_option, print_json, print_json_stream, print_table, to_jsonable
from tomcore.cli.targets import build_query, filter_options


@click.group("lists")
def lists_group() -> None:
    """Target lists: named groups of targets, filled by name or by filter."""


@lists_group.command("list")
@json_option
def list_lists(as_json: bool) -> None:
    """Every target list with its size."""
    lists = get_tom().lists.all()
    if as_json:
        print_json(lists)
        return
    print_table([{"name": t.name, "targets": t.count, "description": t.description, "modified": t.modified}
                 for t in lists], empty="No target lists yet: `tom lists create NAME`.")


@lists_group.command("create")
@click.argument("name")
@click.option("--description", help="What the list is for.")
def create_list(name: str, description: str | None) -> None:
    """Create an empty list."""
    info = get_tom().lists.create(name, description)
    click.echo(f"Created list {info.name}")


def _query(options: dict[str, Any]) -> Any:
    query = build_query(**options)
    return None if query.is_empty else query


@lists_group.command("add")
@click.argument("name")
@click.argument("targets", nargs=-1)
@filter_options
@click.option("--create", is_flag=True, help="Create the list if it does not exist.")
def add_to_list(name: str, targets: tuple[str, ...], create: bool, **options: Any) -> None:
    """Add TARGETS (names or aliases) and/or every target matching the filters to list NAME.

    \b
    tom lists add tonight "SN 2011fe" M31
    tom lists add nearby --extra "redshift<0.01" --create
    """
    query = _query(options)
    if not targets and query is None:
        raise click.UsageError("name targets to add, or give a filter (see --help)")
    info, added = get_tom().lists.add(name, names=targets, query=query, create=create)
    click.echo(f"Added {added} target(s) to {info.name} (now {info.count})")


@lists_group.command("remove")
@click.argument("name")
@click.argument("targets", nargs=-1)
@filter_options
def remove_from_list(name: str, targets: tuple[str, ...], **options: Any) -> None:
    """Take TARGETS and/or every target matching the filters out of list NAME."""
    query = _query(options)
    if not targets and query is None:
        raise click.UsageError("name targets to remove, or give a filter (see --help)")
    info, removed = get_tom().lists.remove(name, names=targets, query=query)
    click.echo(f"Removed {removed} target(s) from {info.name} (now {info.count})")


@lists_group.command("show")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many targets (tables default to 100).")
@json_option
def show_list(name: str, limit: int | None, as_json: bool) -> None:
    """A list and its targets."""
    from tomcore.services.target_query import TargetQuery, find, stream

    tom = get_tom()
    info = tom.lists.get(name)
    if as_json:  # the targets streamed a chunk at a time, as `tom targets list --json`
        import json

        head = json.dumps({"list": to_jsonable(info)}, indent=2, ensure_ascii=False)[:-2]
        print_json_stream((t for chunk in stream(tom, TargetQuery(lists=[info.name], limit=limit))
                           for t in chunk.targets), prefix=head + ',\n  "targets": ', suffix="\n}", level=1)
        return
    result = find(tom, TargetQuery(lists=[info.name], limit=limit if limit is not None else 100))
    title = f"{info.name}: {info.count} target(s)" + (f" — {info.description}" if info.description else "")
    print_table([{"name": t.name, "type": t.type, "ra": t.ra, "dec": t.dec, "aliases": ", ".join(t.aliases)}
                 for t in result.targets], title=title, empty=f"{info.name} is empty.")
    if result.total > len(result.targets):
        click.echo(f"{len(result.targets)} of {result.total} shown; --limit for more.")


@lists_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete_list(name: str, yes: bool) -> None:
    """Delete a list (its targets stay)."""
    tom = get_tom()
    info = tom.lists.get(name)
    confirm(f"Delete list {info.name} ({info.count} targets stay)?", yes)
    tom.lists.delete(name)
    click.echo(f"Deleted list {info.name}")
