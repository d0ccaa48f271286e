"""The CLI's conventions, checked over every command of every installed plugin: each command
and option explains itself in --help, and every listing and show command takes --json."""

from __future__ import annotations

import click

from tomcore.cli import make_cli
from tomcore.cli.context import CliState

#: Listing and show commands: each must take --json (CLI conventions of the core issue).
LISTING_WORDS = ("list", "show", "brokers", "choices", "saved", "history", "types", "photometry", "spectra",
                 "strategies", "channels", "log", "status")


def walk(tom):
    """(path, command) for every command reachable from `tom`, plugin commands included."""
    state = CliState(tom=tom)
    root = make_cli(state)
    found = []

    def visit(command, path, ctx):
        with ctx:
            found.append((path, command))
            if isinstance(command, click.Group):
                for name in command.list_commands(ctx):
                    sub = command.get_command(ctx, name)
                    if sub is not None:
                        visit(sub, [*path, name], click.Context(sub, info_name=name, parent=ctx, obj=state))

    visit(root, ["tom"], click.Context(root, info_name="tom", obj=state))
    return found


def test_every_command_and_option_has_help(tom):
    missing = []
    commands = walk(tom)
    assert len(commands) > 80  # every core group and the plugins' broker and facility commands
    for path, command in commands:
        if not (command.help or command.short_help):
            missing.append(" ".join(path))
        for param in command.params:
            if isinstance(param, click.Option) and not param.help and "--help" not in param.opts:
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert not missing, f"without help text: {missing}"


def test_every_listing_and_show_command_takes_json(tom):
    without = []
    for path, command in walk(tom):
        if isinstance(command, click.Group) or path[-1] not in LISTING_WORDS:
            continue
        if path[:2] == ["tom", "plugin"]:
            continue
        if not any("--json" in getattr(p, "opts", ()) for p in command.params):
            without.append(" ".join(path))
    assert not without, f"listing or show commands without --json: {without}"


def test_counts_out_of_range_are_usage_errors(run_tom):
    for args in (("targets", "list", "--limit", "0"), ("targets", "list", "--offset", "-1"),
                 ("lists", "show", "x", "--limit", "-1"), ("data", "list", "--limit", "-5"),
                 ("observations", "list", "--limit", "0"), ("cadence", "show", "x", "--plan", "-1"),
                 ("notify", "log", "--limit", "0")):
        result = run_tom(*args, expect=2)
        assert "Invalid value" in result.stderr, (args, result.stderr)
