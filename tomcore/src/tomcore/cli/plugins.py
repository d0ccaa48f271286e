"""``tom plugins``: what is installed, what each plugin registered, and what is broken."""

from __future__ import annotations

import click

from tomcore.cli.context import get_state
from tomcore.cli.output import json_option, print_json, print_table


@click.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include tomcore's built-in plugins.")
@json_option
def plugins_command(show_all: bool, as_json: bool) -> None:
    """List installed plugins: version, hooks, what they registered, and load errors.

    A plugin that fails to import or register is listed with its error and the rest of
    tom keeps working. TOM_LOAD_PLUGINS=a,b loads only those plugins (empty: none);
    TOM_STRICT_PLUGINS=1 makes any plugin error fatal.
    """
    from tomcore.app import Tom

    state = get_state()
    host = state.plugin_host()
    Tom.open(state.home, env=state.env, overrides=state.overrides, plugins=host, require_home=False)
    infos = host.infos(include_builtins=show_all)
    if as_json:
        print_json([info.as_dict() for info in infos])
        return
    rows = [
        {
            "plugin": info.name + (" (built-in)" if info.builtin else ""),
            "version": info.version or "",
            "registered": "; ".join(f"{kind}: {', '.join(names)}" for kind, names in info.registered.items()),
            "hooks": ", ".join(info.hooks),
            "status": ("ERROR: " + " | ".join(info.errors) if info.errors
                       else "not loaded (TOM_LOAD_PLUGINS)" if info.skipped else "ok"),
        }
        for info in infos
    ]
    print_table(rows, ["plugin", "version", "registered", "hooks", "status"],
                empty="No plugins installed." + ("" if show_all else " (--all shows the built-in ones)"))
