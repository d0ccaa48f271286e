"""``tom run``: the automation runner (saved queries, light curves, statuses, cadences,
downloads, notifications)."""

from __future__ import annotations

import click

from tomcore.cli.context import get_tom
from tomcore.cli.output import json_option, print_json, print_table

STEP_CHOICES = ("alerts", "lightcurves", "status", "cadences", "data", "notify")


@click.command("run")
@click.option("--once", is_flag=True, help="Run every step once now and exit (for cron); exits 1 if one failed.")
@click.option("--due", is_flag=True, help="With --once: only the steps whose interval has passed (for a frequent "
              "cron line).")
@click.option("--step", "steps", multiple=True, type=click.Choice(STEP_CHOICES),
              help="Only these steps (repeatable; default: runner.steps, all of them).")
@click.option("--status", "show_status", is_flag=True, help="Show when each step last ran and how, then exit.")
@json_option
def run_command(once: bool, due: bool, steps: tuple[str, ...], show_status: bool, as_json: bool) -> None:
    """Keep the TOM current: run saved broker queries, fetch the new points of broker objects
    already in the TOM (daily), update observation statuses, advance cadences, download new
    data and resend failed notifications, each at its interval ([runner] in tom.toml). A
    failing step is reported and tried again at its next turn; the others go on. Several
    runners may share a database: a step runs in one at a time and a cadence epoch is
    submitted once.

    \b
    tom run                 # until stopped (Ctrl-C or SIGTERM finish the current step first)
    tom run --once          # one round of every step now
    tom run --once --due    # for cron: the steps whose interval has passed
    """
    from tomcore.services.runner import Runner

    tom = get_tom()
    runner = Runner(tom)
    if show_status:
        rows = runner.status()
        if as_json:
            print_json(rows)
        else:
            print_table(rows, ["step", "interval_s", "last_started", "last_ok", "runs", "failures", "last_error",
                               "running_in"])
        return
    if due and not once:
        raise click.UsageError("--due goes with --once (tom run alone runs each step when it is due)")
    if once:
        results = runner.round(force=not due, only=list(steps) or None)
        if as_json:
            print_json([{"step": r.name, "ok": r.ok, "skipped": r.skipped, "seconds": round(r.seconds, 3),
                         "summary": r.summary, "error": r.error} for r in results])
        else:
            for result in results:
                click.echo(result.line(), err=not result.ok)
        if any(not r.ok for r in results):
            raise click.exceptions.Exit(1)
        return
    _loop(runner, list(steps) or None)


def _loop(runner: object, steps: list[str] | None) -> None:
    import signal
    from datetime import UTC, datetime

    stopping = {"now": False}

    def stop(signum: int, frame: object) -> None:
        stopping["now"] = True
        click.echo("Stopping after the current step...", err=True)

    previous = signal.signal(signal.SIGTERM, stop)
    click.echo(f"tom run: {', '.join(runner.enabled_steps(steps))} (Ctrl-C to stop)", err=True)  # type: ignore[attr-defined]

    def show(result: object) -> None:
        click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} {result.line()}", err=not result.ok)  # type: ignore[attr-defined]

    try:
        runner.run_forever(only=steps, should_stop=lambda: stopping["now"], on_result=show)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
