"""Importing targets: the TOM Toolkit's CSV, ECSV and VOTable (export is in
:mod:`tomcore.services.target_export`; its functions stay importable from here).

Columns (the TOM Toolkit's CSV format, unchanged):

* ``name``; ``name2``, ``name3``... are aliases;
* ``type`` (``SIDEREAL``/``NON_SIDEREAL``, default sidereal) and every model field by name
  (``ra``, ``dec`` in degrees or sexagesimal, ``pm_ra``, ``scheme``, ``eccentricity``...);
  ``galactic_lng``/``galactic_lat`` are derived and ignored on import;
* ``groups``: a comma list of target lists (created when missing);
* every other column is an extra, its type read from each cell (number, boolean, ISO time,
  else text); a header ``KEY:TYPE`` (``code:string``) forces the type. Export writes such a
  header only where reading the text back would change the type, so CSV exports import
  back to the same targets, aliases, extras (with types) and lists.

ECSV and VOTable (through astropy) use the same column names; their columns are typed, so
their values keep the column's type.

Import is all-or-nothing: every bad row is reported (line, column, reason) and nothing is
written, unless ``skip_invalid``. Duplicates (existing targets, or earlier rows of the same
file) go through the matcher and ``on_duplicate``. ``on_targets_created`` fires once.

A clean CSV file of new targets takes the bulk path (:mod:`tomcore.services.target_bulk`:
columns, no object per row); anything else takes the general one below, with the same
outcome.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.coords import CoordinateError, parse_dec, parse_ra
from tomcore.domain.extras import BOOLEAN, DATETIME, NUMBER, STRING, infer, parse_text, typed
from tomcore.domain.targets import DERIVED_FIELDS, MODEL_FIELDS, NUMERIC_FIELDS, Target
from tomcore.errors import ValidationError
from tomcore.services.target_export import (  # noqa: F401  (export lives there; kept importable from here)
    CsvLayout,
    export_file,
    export_query,
    export_rows,
    table_columns,
    to_table,
    write_csv,
    write_csv_chunks,
)

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.services.targets import SaveReport

FORMATS = ("csv", "ecsv", "votable")
_SUFFIXES = {".csv": "csv", ".txt": "csv", ".ecsv": "ecsv", ".xml": "votable", ".vot": "votable", ".votable": "votable"}
_ALIAS = re.compile(r"^name(\d+)$")
_TYPES = (NUMBER, STRING, BOOLEAN, DATETIME)
#: Times the TOM keeps itself: the columns of these names in a TOM Toolkit export are skipped
#: (not made extras), like the derived galactic coordinates.
TOM_TIMES = ("created", "modified")
#: Every model field a file may set (derived ones are skipped).
FILE_FIELDS = tuple(f for f in MODEL_FIELDS if f not in ("name", *DERIVED_FIELDS))


def format_of(path: str | Path, given: str | None = None) -> str:
    if given:
        if given.lower() not in FORMATS:
            raise ValidationError(f"format {given!r} is not one of {', '.join(FORMATS)}")
        return given.lower()
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValidationError(f"cannot tell the format of {Path(path).name!r} from its extension; "
                              f"use --format ({', '.join(FORMATS)})")
    return _SUFFIXES[suffix]


@attrs.define
class Rows:
    """What a file holds: targets (good so far), their labels, and the problems of the rows
    that could not become targets (``{"line 7, column dec": [reasons]}``)."""

    targets: list[Target] = attrs.Factory(list)
    labels: list[str] = attrs.Factory(list)
    errors: dict[str, list[str]] = attrs.Factory(dict)
    bad_rows: int = 0


@attrs.define
class ImportReport:
    """The outcome of an import: the save report and the rows refused while reading."""

    save: SaveReport
    read_errors: dict[str, list[str]]
    bad_rows: int
    rows: int

    def counts(self) -> dict[str, int]:
        counts = self.save.counts()
        counts["error"] = counts.get("error", 0) + self.bad_rows
        counts["rows"] = self.rows
        return counts


class _Columns:
    """How each column of a file is read."""

    def __init__(self, header: Sequence[str], where: str) -> None:
        self.name: int | None = None
        self.type: int | None = None
        self.groups: int | None = None
        self.aliases: list[tuple[int, str]] = []
        self.fields: list[tuple[int, str]] = []
        self.extras: list[tuple[int, str, str | None]] = []
        seen: set[str] = set()
        for index, raw in enumerate(header):
            column = (raw or "").strip()
            if not column:
                continue
            if column in seen:
                raise ValidationError(f"{where}: column {column!r} appears twice")
            seen.add(column)
            lower = column.lower()
            if lower == "name":
                self.name = index
            elif _ALIAS.match(lower):
                self.aliases.append((index, column))
            elif lower == "type":
                self.type = index
            elif lower == "groups":
                self.groups = index
            elif lower in FILE_FIELDS:
                self.fields.append((index, lower))
            elif lower in DERIVED_FIELDS or lower in TOM_TIMES:
                continue
            else:
                key, _, forced = column.rpartition(":") if ":" in column else (column, "", "")
                if forced and forced.lower() in _TYPES and key:
                    self.extras.append((index, key, forced.lower()))
                else:
                    self.extras.append((index, column, None))
        if self.name is None:
            raise ValidationError(f"{where}: there is no 'name' column (columns: {', '.join(h for h in header if h)})")
        self.aliases.sort(key=lambda item: int(_ALIAS.match(item[1].lower())[1]))  # type: ignore[index]


def _field_value(field: str, raw: Any) -> Any:
    if field == "ra":
        return parse_ra(raw)
    if field == "dec":
        return parse_dec(raw)
    if field in NUMERIC_FIELDS:
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError(f"{raw!r} is not a finite number")
        return number
    text = str(raw).strip().upper()
    return text.replace("-", "_") if field == "type" else text


def _row_target(cells: Sequence[Any], columns: _Columns, label: str, errors: dict[str, list[str]],
                text: bool) -> Target | None:
    """One row to a Target; problems go to ``errors`` (keyed ``label, column X``)."""
    bad = False

    def fail(column: str, reason: str) -> None:
        nonlocal bad
        bad = True
        errors.setdefault(f"{label}, column {column}", []).append(reason)

    def cell(index: int) -> Any:
        value = cells[index] if index < len(cells) else None
        if value is None:
            return None
        if isinstance(value, str):
            value = value.strip()
            return value or None
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    name = cell(columns.name)  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    if name is None:
        fail("name", "is empty")
    if columns.type is not None and cell(columns.type) is not None:
        values["type"] = _field_value("type", cell(columns.type))
    for index, field in columns.fields:
        raw = cell(index)
        if raw is None:
            continue
        try:
            values[field] = _field_value(field, raw)
        except CoordinateError as exc:
            fail(field, str(exc))
        except (TypeError, ValueError):
            fail(field, f"{raw!r} is not a number")
    aliases = [str(cell(i)) for i, _ in columns.aliases if cell(i) is not None]
    lists = []
    if columns.groups is not None and cell(columns.groups) is not None:
        lists = [g.strip() for g in str(cell(columns.groups)).split(",") if g.strip()]
    extras: dict[str, Any] = {}
    for index, key, forced in columns.extras:
        raw = cell(index)
        if raw is None:
            continue
        try:
            if text or (isinstance(raw, str) and forced):
                extras[key] = parse_text(str(raw), forced)
            elif forced:
                extras[key] = typed(_plain(raw), forced).value
            else:
                extras[key] = _plain(raw)
        except ValueError as exc:
            fail(f"{key}:{forced}" if forced else key, str(exc))
    if bad:
        return None
    return Target(name=str(name), aliases=aliases, extras=extras, lists=lists, **values)


def _plain(value: Any) -> Any:
    """A numpy scalar from a typed table as a Python value."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        tv = infer(value)
        return tv.time if tv.type == DATETIME else value  # ISO times written as text
    return value


def read_csv(path: Path) -> Rows:
    """Read a CSV file column by column (fast: conversions run over whole columns, the
    per-cell parsers only where the fast path refuses a cell, to say why)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise ValidationError(f"{path.name} is empty") from None
        columns = _Columns(header, path.name)
        width = len(header)
        cells_rows: list[list[str]] = []
        lines: list[int] = []
        for cells in reader:
            if len(cells) != width:
                if not any(c.strip() for c in cells):
                    continue
                cells = (cells + [""] * width)[:width]
            cells_rows.append(cells)
            lines.append(reader.line_num)
    rows = Rows()
    if not cells_rows:
        return rows
    data = list(zip(*cells_rows, strict=True))
    del cells_rows
    n = len(lines)
    labels = [f"line {line}" for line in lines]
    bad: set[int] = set()

    def fail(i: int, column: str, reason: str) -> None:
        bad.add(i)
        rows.errors.setdefault(f"{labels[i]}, column {column}", []).append(reason)

    names = [c.strip() for c in data[columns.name]]  # type: ignore[index]
    for i, name in enumerate(names):
        if not name:
            if not any(c.strip() for c in (col[i] for col in data)):
                bad.add(i)  # a blank line
                labels[i] = ""
            else:
                fail(i, "name", "is empty")
    fields: dict[str, list[Any]] = {}
    if columns.type is not None:
        fields["type"] = [(c.strip().upper().replace("-", "_") or None) for c in data[columns.type]]
    for index, field in columns.fields:
        fields[field] = _convert_column(field, data[index], fail)
    aliases = [[c.strip() for c in data[i]] for i, _ in columns.aliases]
    groups = [c for c in data[columns.groups]] if columns.groups is not None else None
    extras = [(key, _extra_column(key, forced, data[index], fail)) for index, key, forced in columns.extras]
    field_items = list(fields.items())
    for i in range(n):
        if i in bad:
            continue
        values = {f: col[i] for f, col in field_items if col[i] is not None}
        target = Target(
            name=names[i],
            aliases=[a[i] for a in aliases if a[i]],
            extras={k: col[i] for k, col in extras if col[i] is not None},
            lists=[g.strip() for g in groups[i].split(",") if g.strip()] if groups is not None and groups[i] else [],
            **values,
        )
        rows.targets.append(target)
        rows.labels.append(labels[i])
    rows.bad_rows = sum(1 for i in bad if labels[i])
    return rows


def _convert_column(field: str, cells: Sequence[str], fail: Callable[[int, str, str], None]) -> list[Any]:
    """A column of a model field: floats fast, the exact parser where a cell needs it."""
    if field in ("scheme",):
        return [(c.strip().upper() or None) for c in cells]
    values: list[Any] = [None] * len(cells)
    for i, text in enumerate(cells):
        try:
            values[i] = float(text)
        except ValueError:
            if not text.strip():
                continue
            try:
                values[i] = _field_value(field, text)
            except CoordinateError as exc:
                fail(i, field, str(exc))
            except (TypeError, ValueError):
                fail(i, field, f"{text!r} is not a number")
            continue
        value = values[i]
        if value != value or value in (math.inf, -math.inf):
            values[i] = None
            try:
                values[i] = _field_value(field, text)
            except CoordinateError as exc:
                fail(i, field, str(exc))
            except (TypeError, ValueError) as exc:
                fail(i, field, str(exc) if "finite" in str(exc) else f"{text!r} is not a number")
        elif field == "ra":
            if not 0.0 <= value < 360.0:
                values[i] = parse_ra(value)
        elif field == "dec" and not -90.0 <= value <= 90.0:
            values[i] = None
            fail(i, field, f"Dec {value:g} is outside [-90, 90]")
    return values


def _extra_column(key: str, forced: str | None, cells: Sequence[str], fail: Callable[[int, str, str], None]) -> list[Any]:
    """A column of an extra: every cell read as :func:`parse_text` does (numbers fast)."""
    values: list[Any] = [None] * len(cells)
    number = _NUMBER_TEXT.fullmatch
    for i, raw in enumerate(cells):
        text = raw.strip()
        if not text:
            continue
        if forced is None:
            match = number(text)
            if match is not None:
                values[i] = int(text) if match.lastindex else float(text)
                continue
        try:
            values[i] = parse_text(text, forced)
        except ValueError as exc:
            fail(i, f"{key}:{forced}" if forced else key, str(exc))
    return values


#: A number as :func:`tomcore.domain.extras.infer` reads one; group 1 matches integers.
_NUMBER_TEXT = re.compile(r"([+-]?\d+)|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def read_table(path: Path, fmt: str) -> Rows:
    """ECSV or VOTable through astropy."""
    from astropy.table import Table

    try:
        table = Table.read(path, format="ascii.ecsv" if fmt == "ecsv" else "votable")
    except Exception as exc:  # astropy raises many kinds
        raise ValidationError(f"cannot read {path.name} as {fmt.upper()}: {exc}") from None
    columns = _Columns(table.colnames, path.name)
    rows = Rows()
    data = [_column_values(table[name]) for name in table.colnames]
    for number, cells in enumerate(zip(*data, strict=True), start=1):
        label = f"row {number}"
        target = _row_target(cells, columns, label, rows.errors, text=False)
        if target is None:
            rows.bad_rows += 1
        else:
            rows.targets.append(target)
            rows.labels.append(label)
    return rows


def _column_values(column: Any) -> list[Any]:
    import numpy as np

    mask = np.ma.getmaskarray(column) if hasattr(column, "mask") else np.zeros(len(column), dtype=bool)
    values = np.asarray(column).tolist()
    return [None if m else (v.decode() if isinstance(v, bytes) else v) for v, m in zip(values, mask.tolist(), strict=True)]


def read_file(path: str | Path, fmt: str | None = None) -> Rows:
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"no file {str(path)!r}")
    kind = format_of(path, fmt)
    return read_csv(path) if kind == "csv" else read_table(path, kind)


def import_file(tom: Tom, path: str | Path, *, fmt: str | None = None, on_duplicate: str = "error",
                skip_invalid: bool = False, lists: Sequence[str] = (), source: str = "import",
                progress: Callable[[int], None] | None = None,
                started: Callable[[int], None] | None = None) -> ImportReport:
    """Import a file of targets in one transaction (see the module docs).

    ``lists`` are added to every imported target's lists; ``started(n)`` is called with the
    number of rows read, before writing (to size a progress bar).
    """
    from tomcore.services.target_write import paused_gc

    with paused_gc():
        rows = None
        columns = _bulk_columns(Path(path), fmt)
        if columns is not None:  # a clean CSV: all new targets go through the bulk path
            from tomcore.services.target_bulk import import_columns

            if started is not None:
                started(len(columns))
                started = None
            created = import_columns(tom, columns, lists=lists, source=source, progress=progress)
            if created is not None:
                return ImportReport(created, {}, 0, len(columns))
            labels = columns.lines()
            if labels is not None:  # duplicates to decide: the general path, same rows
                rows = Rows(targets=columns.targets(), labels=labels)
        if rows is None:
            rows = read_file(path, fmt)
        for target in rows.targets:
            for name in lists:
                if name not in target.lists:
                    target.lists.append(name)
        if started is not None:
            started(len(rows.targets))
        with tom.db.session() as session:
            report = tom.targets.save(rows.targets, on_duplicate=on_duplicate, skip_invalid=True, source=source,
                                      labels=rows.labels, session=session, progress=progress)
            errors = dict(rows.errors)
            for outcome in report.errors:
                for field, reasons in outcome.errors.items():
                    key = outcome.label if field == "_" else f"{outcome.label}, column {_column_of(field)}"
                    errors.setdefault(key, []).extend(reasons)
            errors = dict(sorted(errors.items(), key=_by_line))  # stable: columns keep their order
            bad = rows.bad_rows + len(report.errors)
            if bad and not skip_invalid:
                total = len(rows.targets) + rows.bad_rows
                raise ValidationError(f"{bad} of {total} rows of {Path(path).name} cannot be imported; "
                                      "nothing was imported (--skip-invalid imports the others)", errors)
        tom.targets.emit(report)
    return ImportReport(report, errors, rows.bad_rows, len(rows.targets) + rows.bad_rows)


_WHERE = re.compile(r"^(?:line|row) (\d+)")


def _by_line(item: tuple[str, list[str]]) -> tuple[int, int]:
    """Sort key of an error ``("line 12, column ra", reasons)``: by line (or row) number."""
    match = _WHERE.match(item[0])
    return (0, int(match[1])) if match else (1, 0)


def _bulk_columns(path: Path, fmt: str | None) -> Any:
    """The file as columns for the bulk path (:mod:`tomcore.services.target_bulk`), or
    None (not a CSV file, or rows the general path must look at)."""
    if not path.is_file() or format_of(path, fmt) != "csv":
        return None
    from tomcore.services.target_bulk import read_csv_columns

    return read_csv_columns(path)


def _column_of(field: str) -> str:
    if field.startswith("extras."):
        return field[len("extras."):]
    if field == "aliases":
        return "name2..."
    return field


def iter_names(path: str | Path) -> Iterable[str]:
    """Names, one per line, of a plain list (blank lines and ``#`` comments skipped)."""
    with Path(path).open(encoding="utf-8-sig") as fh:
        for line in fh:
            text = line.strip()
            if text and not text.startswith("#"):
                yield text

