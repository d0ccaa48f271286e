"""The ``tom`` command line: a thin face over the services.

The root group loads its sub-commands lazily (each group lives in its own module under
``tomcore.cli`` and is imported only when used or listed); plugins add theirs through the
``register_commands`` hook. Errors meant for users print one line and exit 1; usage errors
exit 2; ``--debug`` (or ``TOM_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from tomcore import __version__
from tomcore.cli.context import CliState

#: Core command name -> "module:attribute". Each module is imported only when needed.
CORE_COMMANDS: dict[str, str] = {
    "init": "tomcore.cli.init:init_command",
    "config": "tomcore.cli.config:config_group",
    "db": "tomcore.cli.db:db_group",
    "plugins": "tomcore.cli.plugins:plugins_command",
    "plugin": "tomcore.cli.plugin_new:plugin_group",
    "targets": "tomcore.cli.targets:targets_group",
    "lists": "tomcore.cli.lists:lists_group",
    "alerts": "tomcore.cli.alerts:alerts_group",
    "catalog": "tomcore.cli.catalog:catalog_group",
    "facilities": "tomcore.cli.facilities:facilities_group",
    "observe": "tomcore.cli.observe:observe_command",
    "observations": "tomcore.cli.observations:observations_group",
    "templates": "tomcore.cli.templates:templates_group",
    "cadence": "tomcore.cli.cadence:cadence_group",
    "run": "tomcore.cli.runner:run_command",
    "notify": "tomcore.cli.notify:notify_group",  # not cli/run.py: it would shadow tomcore.cli.run()
    "data": "tomcore.cli.data:data_group",
    "plot": "tomcore.cli.plot:plot_group",
    "plan": "tomcore.cli.plan:plan_command",
}


class TomGroup(click.Group):
    """A group whose core commands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = self.lazy.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None  # a command group not built yet in this checkout
        command: click.Command = getattr(module, attr)
        self.commands[name] = command
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in {*self.lazy, *self.commands} if self.get_command(ctx, name) is not None)


def build_cli() -> TomGroup:
    @click.group(
        cls=TomGroup,
        lazy=CORE_COMMANDS,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(__version__, "--version", prog_name="tom", message="%(prog)s (tomcore) %(version)s")
    @click.option("--home", type=click.Path(file_okay=False), envvar="TOM_HOME", show_envvar=True,
                  help="The TOM to work on (default: the current directory or a parent holding tom.toml).")
    @click.option("--database-url", metavar="URL", help="Override database.url (e.g. postgresql+psycopg://...).")
    @click.option("--debug", is_flag=True, envvar="TOM_DEBUG", help="Show tracebacks and debug logs.")
    @click.pass_context
    def cli(ctx: click.Context, home: str | None, database_url: str | None, debug: bool) -> None:
        """tom: a Target and Observation Manager for time-domain astronomy.

        \b
        Start with `tom init` to make a TOM here, then `tom targets import FILE`,
        `tom alerts query`, `tom observe`, `tom data upload`, `tom plan`...
        `tom COMMAND --help` explains each command.
        """
        state = ctx.ensure_object(CliState)
        state.home = home
        state.debug = debug or state.debug
        if database_url:
            state.overrides[("database", "url")] = database_url
        if debug:
            import logging

            logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")

    assert isinstance(cli, TomGroup)
    return cli


def make_cli(state: CliState) -> TomGroup:
    """The root group with plugin commands added (plugins come from ``state``)."""
    cli = build_cli()
    state.plugin_host().add_commands(cli)
    return cli


def _wants_debug(args: Sequence[str]) -> bool:
    return "--debug" in args or os.environ.get("TOM_DEBUG", "").lower() in {"1", "true", "yes"}


def run(args: Sequence[str] | None = None, state: CliState | None = None, prog_name: str = "tom") -> int:
    """Run the CLI; return the exit status (0 ok, 1 error, 2 usage, 130 interrupted)."""
    from tomcore.errors import TomError

    args = list(sys.argv[1:] if args is None else args)
    state = state or CliState()
    state.debug = state.debug or _wants_debug(args)
    try:
        cli = make_cli(state)
        result = cli.main(args=args, prog_name=prog_name, standalone_mode=False, obj=state)
        # Without standalone mode click returns the code of a `click.exceptions.Exit(code)`
        # raised by a command (e.g. exit 1 after partial failures) instead of raising it.
        return result if isinstance(result, int) and not isinstance(result, bool) else 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except TomError as exc:
        if state.debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        return 1
    except BrokenPipeError:  # `tom targets list | head`
        return 0
    except Exception as exc:
        if state.debug:
            raise
        from tomcore.config import mask_text

        click.echo(f"Error: unexpected {type(exc).__name__}: {mask_text(str(exc))} "
                   "(run with --debug for the traceback)", err=True)
        return 1
    finally:
        state.close()


def main() -> None:
    sys.exit(run())
