"""Output for people (rich tables) and for scripts (``--json``, ``--csv``).

Commands build plain rows (dicts) and hand them here; nothing else in the CLI prints
tables. rich is imported only when a table is printed.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def to_jsonable(value: Any) -> Any:
    """Make ``value`` JSON-serialisable: datetimes as ISO 8601, NaN/inf as null, attrs
    classes and numpy scalars converted."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__attrs_attrs__"):
        import attrs

        return to_jsonable(attrs.asdict(value, recurse=False))
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return to_jsonable(value.item())
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    return str(value)


def print_json(data: Any) -> None:
    click.echo(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))


def print_json_stream(items: Iterable[Any], *, prefix: str = "", suffix: str = "", level: int = 0) -> None:
    """A JSON array written element by element as ``items`` are produced (the same text as
    :func:`print_json` of the list), so a long listing never sits in memory whole.

    ``prefix`` and ``suffix`` are printed around the array, which is then a value nested
    ``level`` deep in an object (see ``tom lists show --json``).
    """
    outer = "  " * level
    inner = outer + "  "
    first = True
    pending: list[str] = [prefix]
    for item in items:
        text = json.dumps(to_jsonable(item), indent=2, ensure_ascii=False).replace("\n", "\n" + inner)
        pending.append(("[\n" if first else ",\n") + inner + text)
        first = False
        if len(pending) >= 200:
            click.echo("".join(pending), nl=False)
            pending.clear()
    click.echo("".join(pending) + ("[]" if first else "\n" + outer + "]") + suffix)


def _console() -> Any:
    """A rich console on stdout; when stdout is not a terminal, wide enough never to wrap
    a row, so that piped output stays one line per record (grep, less -S)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(soft_wrap=False)
    return Console(soft_wrap=False, width=1000, color_system=None)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.6e}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
                title: str | None = None, empty: str = "Nothing to show.",
                formatters: Mapping[str, Callable[[Any], str]] | None = None) -> None:
    """A readable table; ``columns`` picks and orders the keys (default: all, in order)."""
    if not rows:
        click.echo(empty)
        return
    from rich import box
    from rich.table import Table

    columns = list(columns or dict.fromkeys(k for row in rows for k in row))
    formatters = formatters or {}
    if len(rows) > PLAIN_TABLE_ROWS:
        cells = [[(formatters[c](row.get(c)) if c in formatters else _cell(row.get(c))) for c in columns]
                 for row in rows]
        _print_plain(columns, cells, title)
        return
    table = Table(title=title, show_lines=False, header_style="bold", title_justify="left",
                  box=box.HEAVY_HEAD if sys.stdout.isatty() else box.SIMPLE_HEAD)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[(formatters[c](row.get(c)) if c in formatters else _cell(row.get(c))) for c in columns])
    _console().print(table)


#: Longer tables are laid out here rather than by rich, which takes about a millisecond a row.
PLAIN_TABLE_ROWS = 500


def _print_plain(columns: Sequence[str], cells: Sequence[Sequence[str]], title: str | None) -> None:
    """The look of rich's SIMPLE_HEAD table, laid out in one pass (cells are not markup)."""
    widths = [max([len(column), *(len(row[i]) for row in cells)]) for i, column in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  " + "   ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    rule = " " + "\u2500" * (sum(widths) + 3 * (len(widths) - 1) + 2)
    text = [title] if title else []
    text += [line(columns), rule, *(line(row) for row in cells)]
    click.echo("\n".join(text))


def print_record(record: Mapping[str, Any], *, title: str | None = None) -> None:
    """A key/value view of one record (``show`` commands)."""
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left", box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in record.items():
        if value is None or value == [] or value == {}:
            continue
        table.add_row(key, _cell(value))
    _console().print(table)


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], stream: Any = None) -> None:
    stream = stream or sys.stdout
    writer = csv.DictWriter(stream, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    stream.flush()  # sys.stdout may be a buffered wrapper (click's test runner) read right after


@contextmanager
def progress(total: int | None, description: str, *, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields ``advance(n)``. Hidden when not a terminal or when
    ``enabled`` is False (``--json``)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def confirm(question: str, assume_yes: bool) -> None:
    """Ask; abort unless confirmed. ``assume_yes`` (``--yes``) skips the question."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError(f"{question} Refusing without --yes when not run interactively.")
    click.confirm(question, abort=True)
