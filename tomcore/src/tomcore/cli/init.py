"""``tom init``: make a TOM."""

from __future__ import annotations

from pathlib import Path

import click

from tomcore.cli.context import get_state


@click.command("init")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="The TOM's name (default: the directory's name).")
@click.option("--database-url", "db_url", metavar="URL", help="Use this database instead of a SQLite file here.")
@click.option("--storage", "storage_url", metavar="URL", help="Store data products here (e.g. s3://bucket/prefix).")
def init_command(path: Path | None, name: str | None, db_url: str | None, storage_url: str | None) -> None:
    """Make a TOM in PATH (default: the current directory).

    Writes tom.toml, creates the database (SQLite in WAL mode unless --database-url says
    otherwise) at the newest schema, and the data directory. Running it again on an
    existing TOM upgrades its database and changes nothing else.
    """
    from tomcore.app import Tom
    from tomcore.home import discard_new_home, init_home

    state = get_state()
    db_url = db_url or state.overrides.get(("database", "url"))
    home, created = init_home(path or Path.cwd(), name=name, database_url=db_url, storage_url=storage_url)
    tom = None
    try:
        tom = Tom.open(home, env=state.env, overrides=state.overrides, plugins=state.plugin_host())
        tom.storage.backend_for(tom.storage.default_url)  # an installed backend serves it
        tom.db.upgrade()
    except BaseException:
        if tom is not None:
            tom.close()
        if created:  # nothing half-made: the next `tom init` starts afresh
            discard_new_home(home)
        raise
    try:
        revision = tom.db.current_revision()
        if created:
            click.echo(f"Created a TOM in {home}")
            click.echo(f"  database: {tom.db.display_url} (revision {revision})")
            click.echo(f"  storage:  {tom.storage_url}")
            click.echo("Next: cd there (or set TOM_HOME) and try `tom targets add`, `tom targets import`, `tom plugins`.")
        else:
            click.echo(f"{home} is already a TOM; its database is at revision {revision}.")
    finally:
        tom.close()
