"""``tom db``: the database schema."""

from __future__ import annotations

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_record


@click.group("db")
def db_group() -> None:
    """The TOM's database: schema revision and upgrades."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def db_upgrade(revision: str) -> None:
    """Bring the database schema to the newest revision (safe to run again)."""
    tom = get_tom(check_schema=False)
    before = tom.db.current_revision()
    tom.db.upgrade(revision)
    after = tom.db.current_revision()
    if before == after:
        click.echo(f"Database {tom.db.display_url} is already at revision {after}.")
    else:
        click.echo(f"Upgraded {tom.db.display_url} from {before or 'empty'} to {after}.")


@db_group.command("status")
@json_option
def db_status(as_json: bool) -> None:
    """Show the database URL (password masked) and its schema revision."""
    tom = get_tom(check_schema=False)
    current, head = tom.db.current_revision(), tom.db.head_revision()
    info = {"url": tom.db.display_url, "backend": tom.db.dialect, "revision": current, "newest": head,
            "up_to_date": current == head}
    if as_json:
        print_json(info)
    else:
        print_record(info, title="Database")
