"""``tom plugin new``: start a plugin from a complete, tested template."""

from __future__ import annotations

from pathlib import Path

import click

from tomcore.scaffold import KINDS


@click.group("plugin")
def plugin_group() -> None:
    """Plugin development helpers."""


@plugin_group.command("new")
@click.argument("name")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the plugin's directory.")
def plugin_new(name: str, kind: str, directory: Path) -> None:
    """Write a new plugin NAME of KIND, ready to install and test.

    \b
    Example:
      tom plugin new my-broker broker
      pip install -e './tom-broker-my-broker[test]' && pytest tom-broker-my-broker
    """
    from tomcore.scaffold import new_plugin

    plugin = new_plugin(name, kind, directory)
    click.echo(f"Created {plugin.directory} ({len(plugin.files)} files):")
    for path in plugin.files:
        click.echo(f"  {path.relative_to(plugin.directory)}")
    click.echo(f"Next: pip install -e '{plugin.directory}[test]' && pytest {plugin.directory}")
