"""``tom config``: the effective settings."""

from __future__ import annotations

from typing import Any

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_table


@click.group("config")
def config_group() -> None:
    """Settings: what is in effect and where it comes from."""


@config_group.command("show")
@click.option("--section", help="Show only this section (core or plugin).")
@json_option
def config_show(section: str | None, as_json: bool) -> None:
    """Print every setting with its effective value and source, secrets masked.

    Sources, highest precedence first: a command-line option, an environment variable
    TOM_<SECTION>_<KEY>, tom.toml, the default. Plugin sections are [plugins.<name>].
    """
    tom = get_tom(require_home=False, check_schema=False)
    plugin_sections: dict[str, tuple] = {}
    for kind in ("brokers", "catalogs", "facilities", "storage", "data_processors", "notifiers", "cadence_strategies"):
        for component in tom.plugins.registry(kind):
            declared = getattr(component, "settings", ())
            section_name = getattr(component, "section_name", component.name)
            if declared or section_name in tom.settings.table("plugins"):
                merged = {s.key: s for s in (*plugin_sections.get(section_name, ()), *declared)}
                plugin_sections[section_name] = tuple(merged.values())
    for name in tom.settings.table("plugins"):
        plugin_sections.setdefault(name, ())
    every = [
        {"section": ("plugins." if r.plugin else "") + r.section, "key": r.key, "value": _shown(tom, r),
         "source": r.source, "help": r.setting.help}
        for r in tom.settings.effective(plugin_sections)
    ]
    rows = [r for r in every if section is None or section in (r["section"], r["section"].removeprefix("plugins."))]
    if section is not None and not rows:
        from tomcore.errors import NotFoundError

        names = ", ".join(dict.fromkeys(r["section"] for r in every))
        raise NotFoundError(f"no settings section {section!r} (sections: {names})")
    if as_json:
        print_json({"home": str(tom.home) if tom.home else None, "settings": rows})
        return
    click.echo(f"TOM home: {tom.home or '(none: defaults and environment only)'}")
    print_table(rows, ["section", "key", "value", "source"])


def _shown(tom: Any, resolved: Any) -> Any:
    """The value to show; the database and storage defaults are shown as what they resolve to."""
    from tomcore.config import mask_text

    if resolved.value is None and not resolved.plugin and resolved.key == "url" and tom.home is not None:
        if resolved.section == "database":
            return mask_text(tom.database_url)
        if resolved.section == "storage":
            return tom.storage_url
    return resolved.display_value
