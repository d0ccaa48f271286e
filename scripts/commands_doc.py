"""Write docs/commands.md: the `--help` of every `tom` command, generated from the CLI.

    python scripts/commands_doc.py          # rewrite docs/commands.md
    python scripts/commands_doc.py --check  # exit 1 when docs/commands.md is out of date

tomcore/tests/test_commands_doc.py runs the check, so the reference never drifts.
Only tomcore's own commands are documented (plugins document theirs in their README).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

DOC = Path(__file__).resolve().parents[1] / "docs" / "commands.md"
HEADER = """# Command reference

Generated from the command line itself by `python scripts/commands_doc.py`; a test fails
when it is out of date. Every listing and show command takes `--json`; `tom COMMAND --help`
prints the same text.
"""


def _settings(command: click.Command) -> dict[str, object]:
    """The command's own context settings (``-h``, as the real CLI has), at a fixed width."""
    return {**command.context_settings, "terminal_width": 100, "max_content_width": 100}


def _walk(command: click.Command, path: list[str], sub: click.Context) -> list[tuple[list[str], str]]:
    pages = [(path, command.get_help(sub))]
    if isinstance(command, click.Group):
        for name in command.list_commands(sub):
            child = command.get_command(sub, name)
            if child is not None and not child.hidden:
                ctx = click.Context(child, info_name=name, parent=sub, **_settings(child))
                with ctx:
                    pages += _walk(child, [*path, name], ctx)
    return pages


def render() -> str:
    from tomcore.cli import make_cli
    from tomcore.cli.context import CliState
    from tomcore.plugins import build_plugin_host

    host = build_plugin_host(env={}, load_entry_points=False)
    state = CliState(host=host, env={})
    cli = make_cli(state)
    root = click.Context(cli, info_name="tom", obj=state, **_settings(cli))
    parts = [HEADER]
    with root:
        pages = _walk(cli, ["tom"], root)
    for path, text in pages:
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"{level} `{' '.join(path)}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print("docs/commands.md is out of date: run python scripts/commands_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
