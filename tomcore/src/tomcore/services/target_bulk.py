"""The bulk path of a CSV import: columns in, rows out, no object per target.

A big import of new targets is the TOM's heaviest write. When a CSV file is clean (every
row a valid sidereal target) and every row is new (no existing target and no other row of
the file has one of its names or lies within the match radius), this path does the whole
import over columns:

1. the file is parsed by pyarrow's CSV reader (C++), every cell as text;
2. each column is converted and checked at once: numbers by a vectorised pattern check
   and cast (the exact per-cell parsers only for cells that need them, e.g.
   sexagesimal coordinates), extras typed as :func:`tomcore.domain.extras.parse_text` types
   them (numbers vectorised, other text once per distinct value);
3. the matcher is asked once for all names and positions (nothing to ask when the TOM
   has no target yet), and the file's own names and positions are checked for duplicates;
4. rows are built straight from the columns and handed to the driver in chunks
   (:class:`tomcore.services.target_write.BulkWriter`).

The outcome is exactly what :meth:`TargetService.save` would do with the same rows. Any
row that is not simple (a bad cell, a non-sidereal target, a duplicate, a repeated extra
key) sends the whole file down the general path, which reports every problem with its
line and column and applies ``on_duplicate``. ``on_targets_created`` fires once, with a
lazy sequence that builds each :class:`Target` when it is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import attrs

from tomcore.domain.coords import CoordinateError, parse_ra
from tomcore.domain.extras import parse_text, typed
from tomcore.domain.targets import SIDEREAL, Target
from tomcore.services.targets import SaveOutcome, SaveReport

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom

#: A number as :func:`tomcore.domain.extras.infer` reads one (ASCII digits; other digits
#: go through the exact parser).
_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_INTEGER = r"^[+-]?[0-9]+$"
#: Rows per write chunk (the progress bar moves per chunk).
CHUNK = 20000
#: An import of this many rows into an empty SQLite TOM builds the secondary indexes at
#: the end instead of row by row.
REBUILD_FROM = 10000


@attrs.define
class TargetColumns:
    """A clean CSV file as columns: one entry per row in each list."""

    path: Path
    names: list[str]
    fields: dict[str, list[float | None]]
    scheme: list[str | None] | None
    alias_columns: list[list[str]]  # stripped cells ('' when empty), per alias column
    extras: list[tuple[str, list[Any]]]  # (key, value per row or None), in column order
    groups: list[list[str]] | None
    lines: Callable[[], list[str] | None]  # the rows' labels, when they can be told cheaply
    _norms: tuple[list[str], list[list[str]]] | None = None

    def __len__(self) -> int:
        return len(self.names)

    def norms(self) -> tuple[list[str], list[list[str]]]:
        """The normalised names and alias columns (computed once)."""
        if self._norms is None:
            self._norms = (normalise_column(self.names), [normalise_column(col) for col in self.alias_columns])
        return self._norms

    def aliases(self, i: int) -> list[tuple[str, str]]:
        """Row ``i``'s aliases with their normalised forms: non-empty, not the name, no
        repeats (as :meth:`TargetService.save` cleans them)."""
        name, columns, norms = self.names[i], self.alias_columns, self.norms()[1]
        if len(columns) == 1:
            alias = columns[0][i]
            return [(alias, norms[0][i])] if alias and alias != name else []
        found: dict[str, str] = {}
        for column, norm in zip(columns, norms, strict=True):
            alias = column[i]
            if alias and alias != name and alias not in found:
                found[alias] = norm[i]
        return list(found.items())

    def target(self, i: int, **bookkeeping: Any) -> Target:
        values: dict[str, Any] = {f: col[i] for f, col in self.fields.items() if col[i] is not None}
        return Target(name=self.names[i], scheme=self.scheme[i] if self.scheme is not None else None,
                      aliases=[a for a, _ in self.aliases(i)] if self.alias_columns else [],
                      extras={k: col[i] for k, col in self.extras if col[i] is not None},
                      lists=list(self.groups[i]) if self.groups is not None else [], **values, **bookkeeping)

    def targets(self) -> list[Target]:
        return [self.target(i) for i in range(len(self))]


def normalise_column(values: list[str]) -> list[str]:
    """:func:`tomcore.domain.targets.normalise_name` of every value ('' stays ''):
    vectorised (pyarrow) when all are ASCII, where casefold is lower and the characters
    dropped are known; else one by one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from tomcore.domain.targets import normalise_name

    array = pa.array(values, pa.string())
    if not pc.all(pc.string_is_ascii(array)).as_py():
        normalise = getattr(normalise_name, "__wrapped__", normalise_name)
        return [normalise(v) if v else "" for v in values]
    text = pc.replace_substring_regex(pc.ascii_lower(array), _DROPPED, "")
    return pc.replace_substring_regex(text, r"^(?:sn|at)([0-9])", r"\1").to_pylist()


#: The ASCII characters normalise_name drops: str.isspace() ones, '-', '_' and parentheses.
_DROPPED = r"[\t\n\x0b\x0c\r\x1c-\x1f \-_()]"


def _strip(values: list[str]) -> list[str]:
    return list(map(str.strip, values))


def read_csv_columns(path: Path) -> TargetColumns | None:
    """The file as :class:`TargetColumns`, or None when it is not for the bulk path (any
    row the general path must look at: it then reads the file itself and reports)."""
    import csv

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from tomcore.services.target_io import _Columns  # the header rules are shared

    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or reader.line_num != 1:
            return None
    columns = _Columns(header, path.name)  # raises what the general path raises
    if columns.type is None and not columns.fields:
        return None
    width = len(header)
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, OSError, UnicodeError):
        return None  # a row of another width, bad UTF-8...: the general path says what
    n = table.num_rows
    if n == 0:
        return None

    def text(index: int) -> Any:
        return table.column(index)

    row_names = _strip(text(columns.name).to_pylist())  # type: ignore[arg-type]
    if not all(row_names) or max(map(len, row_names)) > 200:
        return None
    if columns.type is not None:
        kinds = {k.strip().upper().replace("-", "_") for k in pc.unique(text(columns.type)).to_pylist()}
        if not kinds <= {SIDEREAL, ""}:
            return None
    fields: dict[str, list[float | None]] = {}
    scheme = None
    for index, field in columns.fields:
        if field == "scheme":
            scheme = [v.upper() or None for v in _strip(text(index).to_pylist())]
            continue
        values = _numbers(text(index), field)
        if values is None:
            return None
        fields[field] = values
    if "ra" not in fields or "dec" not in fields or None in fields["ra"] or None in fields["dec"]:
        return None
    alias_columns = [_strip(text(i).to_pylist()) for i, _ in columns.aliases]
    if any(max(map(len, col), default=0) > 200 for col in alias_columns):
        return None
    groups = None
    if columns.groups is not None:
        groups = [[g.strip() for g in cell.split(",") if g.strip()] if cell.strip() else []
                  for cell in text(columns.groups).to_pylist()]
    extras: list[tuple[str, list[Any]]] = []
    for index, key, forced in columns.extras:
        if not key or len(key) > 100 or any(key == k for k, _ in extras):
            return None
        values = _extra_values(text(index), forced)
        if values is None:
            return None
        extras.append((key, values))

    def lines() -> list[str] | None:
        # Row k is the k-th non-empty line after the header when no cell can span lines
        # (no quotes) and lines end with \n or \r\n.
        data = path.read_bytes()
        if b'"' in data or data.count(b"\r") != data.count(b"\r\n"):
            return None
        numbers = [i + 1 for i, line in enumerate(data.split(b"\n")) if line.rstrip(b"\r")][1:]
        return [f"line {k}" for k in numbers] if len(numbers) == n else None

    return TargetColumns(path, row_names, fields, scheme, alias_columns, extras, groups, lines)


def _numbers(column: Any, field: str) -> list[float | None] | None:
    """A model field's column as floats (None for empty cells), or None when a cell is bad
    (the general path reports it). Plain decimal numbers are cast at once; other cells
    (sexagesimal, other digits, spaces that are not ASCII) go through the exact parsers."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from tomcore.services.target_io import _field_value

    trimmed = pc.ascii_trim_whitespace(column)  # (a subset of what str.strip removes)
    plain = pc.match_substring_regex(trimmed, _NUMBER)
    result: list[float | None]
    if pc.all(plain).as_py():
        values = pc.cast(trimmed, pa.float64()).to_numpy(zero_copy_only=False)
        if not np.isfinite(values).all():
            return None
        result = values.tolist()
    else:
        result = []
        for cell, fast in zip(column.to_pylist(), plain.to_pylist(), strict=True):
            text = cell.strip()
            if not text:
                result.append(None)
                continue
            try:
                value = float(text) if fast else _field_value(field, text)
            except (CoordinateError, TypeError, ValueError):
                return None
            if not math.isfinite(value):
                return None
            result.append(value)
    for i, value in enumerate(result):
        if value is None:
            continue
        if field == "ra" and not 0.0 <= value < 360.0:
            result[i] = parse_ra(value)  # wrapped, as the general path does
        elif field == "dec" and not -90.0 <= value <= 90.0:
            return None
    return result


def _extra_values(column: Any, forced: str | None) -> list[Any] | None:
    """An extra's column as Python values typed as the general path types them (None for
    empty cells), or None when a cell does not read as the forced type."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.ascii_trim_whitespace(column)
    cells = _strip(column.to_pylist())
    values: list[Any] = [None] * len(cells)
    if forced is None:
        number = pc.match_substring_regex(trimmed, _NUMBER).to_numpy(zero_copy_only=False)
        if number.any():
            integer = pc.match_substring_regex(trimmed, _INTEGER).to_numpy(zero_copy_only=False)
            floats = np.flatnonzero(number & ~integer)
            if floats.size:
                converted = pc.cast(pc.take(trimmed, pa.array(floats)), pa.float64()).to_numpy(zero_copy_only=False)
                if not np.isfinite(converted).all():
                    return None  # 1e999: the general path reports it
                for i, v in zip(floats.tolist(), converted.tolist(), strict=True):
                    values[i] = v
            for i in np.flatnonzero(integer).tolist():
                values[i] = int(cells[i])
        rest = np.flatnonzero(~number).tolist()
    else:
        rest = list(range(len(cells)))
    seen: dict[str, Any] = {}
    try:
        for i in rest:
            cell = cells[i]
            if not cell:
                continue
            value = seen.get(cell, seen)
            if value is seen:
                value = seen[cell] = parse_text(cell, forced)
            if value.__class__ is float and not math.isfinite(value):
                return None
            values[i] = value
    except ValueError:
        return None
    return values


# -- deciding and writing ----------------------------------------------------------------------


class LazyTargets(Sequence[Target]):
    """The targets a bulk import created, each built when it is read."""

    def __init__(self, columns: TargetColumns, ids: Sequence[int], created: Any, galactic: tuple[Any, Any],
                 lists: Sequence[str]) -> None:
        self._columns, self._ids, self._created, self._galactic, self._lists = columns, ids, created, galactic, lists

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Target: ...

    @overload
    def __getitem__(self, index: slice) -> list[Target]: ...

    def __getitem__(self, index: int | slice) -> Target | list[Target]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        target = self._columns.target(index, id=self._ids[index], created=self._created, modified=self._created,
                                      galactic_lng=float(self._galactic[0][index]),
                                      galactic_lat=float(self._galactic[1][index]))
        for name in self._lists:
            if name not in target.lists:
                target.lists.append(name)
        return target

    def __iter__(self) -> Iterator[Target]:
        return (self[i] for i in range(len(self)))


class _Outcomes(Sequence[SaveOutcome]):
    """The outcomes of a bulk import, each built when read (labelled ``line N`` when the
    lines can be told cheaply, else by name)."""

    def __init__(self, targets: LazyTargets, columns: TargetColumns) -> None:
        self._targets, self._columns = targets, columns
        self._labels: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self._targets)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if self._labels is None:
            self._labels = self._columns.lines() or self._columns.names
        return SaveOutcome(index, self._labels[index], "created", self._targets[index])


@attrs.define
class CreatedReport(SaveReport):
    """The report of a batch whose every target was created (the bulk path); its
    outcomes and targets are built when read."""

    targets: LazyTargets | None = None

    @property
    def created(self) -> Sequence[Target]:  # type: ignore[override]
        return self.targets if self.targets is not None else []

    @property
    def updated(self) -> list[Target]:
        return []

    @property
    def unchanged(self) -> list[Target]:
        return []

    @property
    def skipped(self) -> list[SaveOutcome]:
        return []

    @property
    def errors(self) -> list[SaveOutcome]:
        return []

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("created", "updated", "unchanged", "skipped", "merged", "error"), 0)
        counts["created"] = len(self.created)
        return counts


def all_new(tom: Tom, session: Session, columns: TargetColumns) -> bool:
    """Is every row a new target: no name (normalised) or position matching an existing
    target, no two rows sharing a name or lying within the match radius?"""
    import numpy as np

    from tomcore.services.sky import cross_match, hpx_index, neighbourhood_depth, unit_vectors
    from tomcore.services.target_write import driver_rows

    names, _ = columns.norms()
    every = list(names)
    for i in range(len(columns)) if columns.alias_columns else ():
        own = names[i]
        every.extend(dict.fromkeys(norm for _, norm in columns.aliases(i) if norm != own))  # (a row's own names may agree)
    if len(set(every)) != len(every):
        return False
    radius_deg = tom.matcher.radius_arcsec / 3600.0
    ra = np.asarray(columns.fields["ra"], dtype=float)
    dec = np.asarray(columns.fields["dec"], dtype=float)
    depth = neighbourhood_depth(radius_deg)
    cx, cy, cz = unit_vectors(ra, dec)
    cells = hpx_index(ra, dec, order=depth) if depth >= 0 else None
    qi, ri = cross_match(ra, dec, cx, cy, cz, cells, radius_deg)
    if (qi != ri).any():
        return False
    if not driver_rows(session, "SELECT 1 FROM targets LIMIT 1"):
        return True  # nothing to match against
    if tom.matcher.by_names(session, every, normalised=True):
        return False
    return not any(tom.matcher.by_positions(session, ra, dec))


def write_new(tom: Tom, session: Session, columns: TargetColumns, *, source: str | None, lists: Sequence[str],
              progress: Callable[[int], None] | None) -> CreatedReport:
    """Insert every row as a new target: rows built from the columns chunk by chunk."""
    import numpy as np

    from tomcore.services.sky import galactic, sky_columns
    from tomcore.services.target_write import EXTRA_COLUMNS, NAME_COLUMNS, BulkWriter, driver_rows
    from tomcore.services.targets import WRITABLE

    n = len(columns)
    writer = BulkWriter(session)
    writer.grow_cache()
    # Into an empty SQLite TOM, the secondary indexes are built once at the end (sorting)
    # rather than row by row; in the same transaction, so a failure restores them.
    rebuild = _drop_secondary_indexes(session) if n >= REBUILD_FROM and not writer.postgres and not driver_rows(
        session, "SELECT 1 FROM targets LIMIT 1") else []
    ids = writer.next_ids("targets", n)
    now = tom.now()
    stamp = writer.time(now)
    ra, dec = np.asarray(columns.fields["ra"], dtype=float), np.asarray(columns.fields["dec"], dtype=float)
    sky = sky_columns(ra, dec)
    gl, gb = galactic(ra, dec)
    lists_of: dict[str, Any] = {"id": ids, "name": columns.names}
    lists_of.update((f, columns.fields[f]) for f in WRITABLE if f in columns.fields)
    if columns.scheme is not None and any(columns.scheme):
        lists_of["scheme"] = columns.scheme
    arrays = {"hpx": sky["hpx"], "cx": sky["cx"], "cy": sky["cy"], "cz": sky["cz"], "galactic_lng": gl,
              "galactic_lat": gb}
    names, _ = columns.norms()
    extras = sorted(columns.extras, key=lambda item: item[0])  # per target in key order: the extras key
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        count = stop - start
        table = {k: v[start:stop] for k, v in lists_of.items()}
        table = {k: v for k, v in table.items() if v.count(None) != count}
        table.update((k, v[start:stop].tolist()) for k, v in arrays.items())
        writer.insert("targets", list(table), list(zip(*table.values(), strict=True)),
                      constants={"type": SIDEREAL, "created": stamp, "modified": stamp})
        del table
        name_rows: list[tuple[Any, ...]] = []
        append = name_rows.append
        for i in range(start, stop):
            tid = ids[i]
            append((tid, columns.names[i], names[i], True))
            if columns.alias_columns:
                for alias, norm in columns.aliases(i):
                    append((tid, alias, norm, False))
        writer.insert("target_names", NAME_COLUMNS[:4], name_rows, constants={"source": source, "created": stamp})
        del name_rows
        tails = [(key, _tails(values[start:stop], writer)) for key, values in extras]
        writer.insert("target_extras", EXTRA_COLUMNS, [(ids[start + k], key, *cells) for k in range(count)
                                                        for key, tail in tails if (cells := tail[k]) is not None])
        del tails
        if progress is not None:
            progress(count)
    for sql in rebuild:
        writer.connection.exec_driver_sql(sql)
    wanted = list(dict.fromkeys(lists))
    if columns.groups is not None or wanted:
        from tomcore.services.lists import add_memberships

        groups = columns.groups or [[]] * n
        memberships = {ids[i]: [*groups[i], *(g for g in wanted if g not in groups[i])] for i in range(n)}
        add_memberships(session, {tid: names for tid, names in memberships.items() if names}, now)
    targets = LazyTargets(columns, ids, now, (gl, gb), wanted)
    return CreatedReport(_Outcomes(targets, columns), targets=targets)  # type: ignore[arg-type]


def _tails(values: list[Any], writer: Any) -> list[tuple[Any, ...] | None]:
    """``(value_type, value_text, value_num, value_bool, value_time)`` per cell, as
    :meth:`BulkWriter.extra_rows` writes them; None for empty cells."""
    out: list[tuple[Any, ...] | None] = []
    append = out.append
    for value in values:
        kind = value.__class__
        if value is None:
            append(None)
        elif kind is float:
            append(("number", repr(value), value, None, None))
        elif kind is int:
            append(("number", str(value), float(value), None, None))
        elif kind is str:
            append(("string", value, None, None, None))
        else:
            tv = typed(value)
            append((tv.type, tv.text, tv.num, tv.flag, writer.time(tv.time) if tv.time is not None else None))
    return out


def import_columns(tom: Tom, columns: TargetColumns, *, lists: Sequence[str], source: str,
                   progress: Callable[[int], None] | None) -> CreatedReport | None:
    """Write the file if every row is new (one transaction; events fired); None (nothing
    written) when the general path must decide."""
    with tom.db.session() as session:
        if not all_new(tom, session, columns):
            return None
        report = write_new(tom, session, columns, source=source, lists=lists, progress=progress)
    tom.targets.emit(report)
    return report



def _drop_secondary_indexes(session: Session) -> list[str]:
    """SQLite: drop the non-unique indexes of the targets tables; returns the statements
    that create them again (as the schema has them)."""
    from tomcore.services.target_write import driver_rows

    found = driver_rows(session, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                        "AND tbl_name IN ('targets', 'target_names', 'target_extras') "
                        "AND upper(sql) NOT LIKE 'CREATE UNIQUE%'")
    connection = session.connection()
    for name, _sql in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]
