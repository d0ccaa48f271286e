"""Writing and reading photometry, idempotently and in columns.

A point is unique by (target, source, band, time). :func:`insert_table` is the one write
path: it takes columns (a ``pyarrow.Table``), drops rows without a finite time or a band,
drops repeats within the batch and points already stored (one indexed query per 900
targets), inserts the rest with multi-row ``INSERT ... ON CONFLICT DO NOTHING`` statements
through the session's own DBAPI connection (no Python object per point beyond the values
themselves), a big table 100,000 rows at a time in time order (:func:`insert_rows`), and
returns exactly the rows it added. :func:`insert_points` is the same for
:class:`PhotometryPoint` objects (broker light curves). Both write in the caller's
transaction; the caller fires ``on_reduced_data_saved`` after commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from tomcore.domain.data import PHOTOMETRY_COLUMNS, PhotometryPoint, PointsView
from tomcore.services.photometry_read import points_of, row_to_point, table_of  # noqa: F401 - their first home

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from sqlalchemy.orm import Session

CHUNK = 900
ROWS_PER_STATEMENT = 250

_FLOAT_COLUMNS = ("time", "mag", "mag_err", "flux", "flux_err", "limit")
_STRING_COLUMNS = ("band", "flux_unit", "telescope", "instrument", "source", "source_id", "extra")
#: Table column name -> database column name, where they differ.
_DB_NAMES = {"limit": "mag_limit"}
#: Columns of the photometry table written from a point (besides target and provenance);
#: kept for callers of the first version of this module.
POINT_COLUMNS = ("time", "band", "mag", "mag_err", "flux", "flux_err", "flux_unit", "telescope",
                 "instrument", "source", "source_id", "extra")


def schema(with_target: bool = True, with_extra: bool = True) -> pa.Schema:
    """The canonical schema of photometry columns."""
    import pyarrow as pa

    fields = [pa.field("target_id", pa.int64())] if with_target else []
    for name in PHOTOMETRY_COLUMNS:
        fields.append(pa.field(name, pa.float64() if name in _FLOAT_COLUMNS else pa.string()))
    if with_extra:
        fields.append(pa.field("extra", pa.string()))
    return pa.schema(fields)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def as_table(data: Any, *, target_id: int | None = None, default_source: str | None = None) -> pa.Table:
    """Photometry in any accepted shape as a ``pyarrow.Table`` with the canonical schema.

    ``data`` is a ``pyarrow.Table``, a mapping of equal-length sequences, or a sequence of
    :class:`PhotometryPoint`. Missing columns become nulls, NaN numbers nulls, ``extra``
    dicts JSON text; ``target_id`` fills the target column when given; ``default_source``
    fills empty sources.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    columns: dict[str, Any]
    if isinstance(data, pa.Table):
        columns = {name: data.column(name) for name in data.column_names}
    elif isinstance(data, Mapping):
        columns = dict(data)
    else:
        points = data if isinstance(data, list) else list(data or ())
        # one C-level pass per column (no tuple per point: those would wake the GC)
        columns = {name: list(map(attrgetter(name), points)) for name in (*PHOTOMETRY_COLUMNS, "extra")}
    lengths = {len(v) for v in columns.values() if v is not None}
    if len(lengths) > 1:
        raise ValueError(f"photometry columns have different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    target = schema()
    arrays = []
    for field in target:
        values = columns.get(field.name)
        if field.name == "target_id" and target_id is not None:
            arrays.append(pa.array(np.full(n, target_id, dtype="int64")))
            continue
        if values is None:
            arrays.append(pa.nulls(n, field.type))
            continue
        if field.name == "extra" and not isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = [None if v in (None, {}) else (v if isinstance(v, str) else json.dumps(v)) for v in values]
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            array = values if values.type == field.type else pc.cast(values, field.type)
        elif field.type == pa.float64():
            array = _float_array(values)
        else:
            array = pa.array(values, field.type, from_pandas=True)
        if field.type == pa.float64():
            finite = pc.is_finite(array)
            if pc.any(pc.invert(finite)).as_py():  # a copy only when a NaN or an infinity is there
                array = pc.if_else(finite, array, pa.scalar(None, pa.float64()))
        arrays.append(array)
    table = pa.Table.from_arrays(arrays, schema=target)
    if default_source is not None:
        source = pc.if_else(pc.or_kleene(pc.is_null(table["source"]), pc.equal(table["source"], "")),
                            default_source, table["source"])
        table = table.set_column(table.schema.get_field_index("source"), "source", source)
    return table


def _float_array(values: Any) -> pa.Array:
    """Floats from a sequence; values that are not numbers become nulls."""
    import pyarrow as pa

    try:
        return pa.array(values, pa.float64(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        def number(value: Any) -> float | None:
            try:
                return float(value) if value is not None else None
            except (TypeError, ValueError):
                return None

        return pa.array([number(v) for v in values], pa.float64(), from_pandas=True)


def _codes(column: Any) -> tuple[Any, list[Any]]:
    """Integer codes and the distinct values of a string column (nulls as '')."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pc.fill_null(column, "")).combine_chunks()
    return encoded.indices.to_numpy(zero_copy_only=False).astype("int64"), encoded.dictionary.to_pylist()


def _object_column(column: Any) -> Any:
    """A numpy object array of Python values (None for nulls), sharing repeated strings."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_floating(column.type):
        values = column.to_numpy(zero_copy_only=False)
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out
    if pa.types.is_integer(column.type):
        return column.to_numpy(zero_copy_only=False).astype(object)
    encoded = pc.dictionary_encode(column)
    lookup = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
    indices = pc.fill_null(encoded.indices, len(lookup) - 1).to_numpy(zero_copy_only=False)
    return lookup[indices]


def existing_keys(session: Session, target_ids: Iterable[int], *, lo: float | None = None,
                  hi: float | None = None) -> list[tuple[int, str, str, float]]:
    """(target, band, source, time) of the stored points of these targets (in a time range)."""
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow

    ids = sorted(set(target_ids))
    keys: list[tuple[int, str, str, float]] = []
    for start in range(0, len(ids), CHUNK):
        query = select(PhotometryRow.target_id, PhotometryRow.band, PhotometryRow.source, PhotometryRow.time).where(
            PhotometryRow.target_id.in_(ids[start:start + CHUNK]))
        if lo is not None and hi is not None:
            query = query.where(PhotometryRow.time.between(lo, hi))
        keys.extend((int(r[0]), str(r[1]), str(r[2] or ""), float(r[3])) for r in session.execute(query))
    return keys


def _new_rows(session: Session, table: pa.Table, new_targets: Collection[int] = ()) -> Any:
    """Indices of the rows of ``table`` to insert: valid, first of their key in the batch,
    and not stored yet (targets in ``new_targets`` have nothing stored: not looked up)."""
    import numpy as np
    import pyarrow.compute as pc

    time = table["time"].to_numpy(zero_copy_only=False).astype("float64")
    band_ok = pc.fill_null(pc.not_equal(table["band"], ""), False).to_numpy(zero_copy_only=False)
    valid = np.isfinite(time) & band_ok
    tid = table["target_id"].to_numpy(zero_copy_only=False).astype("int64")
    targets, tcode = np.unique(tid, return_inverse=True)
    bcode, bands = _codes(table["band"])
    scode, sources = _codes(table["source"])
    width = len(sources) * len(bands)
    group = tcode.astype("int64") * width + bcode * len(sources) + scode
    order = np.lexsort((time, group))
    order = order[valid[order]]
    g, t = group[order], time[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (g[1:] != g[:-1]) | (t[1:] != t[:-1])
    keep = order[first]
    if not len(keep):
        return keep
    lookup = targets if not new_targets else targets[~np.isin(targets, np.fromiter(new_targets, "int64"))]
    if lookup.size:
        s_tid, s_band, s_source, s_time = stored_columns(session, lookup.tolist(), float(time[keep].min()),
                                                         float(time[keep].max()))
        if s_tid.size:
            # the stored keys as the batch's (group, time) pairs; bands or sources the batch
            # does not have cannot clash
            s_b = _map_codes(s_band, bands)
            s_s = _map_codes(s_source, sources)
            known = (s_b >= 0) & (s_s >= 0)
            s_group = np.searchsorted(targets, s_tid[known]) * width + s_b[known] * len(sources) + s_s[known]
            keep = keep[~_pairs_in(group[keep], time[keep], s_group, s_time[known])]
    return np.sort(keep)


def stored_columns(session: Session, target_ids: list[int], lo: float, hi: float) -> tuple[Any, Any, Any, Any]:
    """(target_id, band, source, time) columns (numpy int64, pyarrow strings, pyarrow
    strings, numpy float64) of the stored points of these targets with a time in
    ``[lo, hi]``: plain driver queries of the unique index, one per 900 targets."""
    import numpy as np
    import pyarrow as pa

    from tomcore.services.target_write import paused_gc

    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    rows: list[Any] = []
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with paused_gc():  # many small tuples: no collection meanwhile
            for start in range(0, len(target_ids), CHUNK):
                chunk = target_ids[start:start + CHUNK]
                if postgres:
                    cursor.execute("SELECT target_id, band, source, time FROM photometry WHERE target_id = ANY(%s) "
                                   "AND time BETWEEN %s AND %s", (chunk, lo, hi))
                else:
                    marks = ", ".join(["?"] * len(chunk))
                    cursor.execute(f"SELECT target_id, band, source, time FROM photometry WHERE target_id IN ({marks}) "
                                   "AND time BETWEEN ? AND ?", (*chunk, lo, hi))
                rows.extend(cursor.fetchall())
    finally:
        cursor.close()
    if not rows:
        empty = pa.chunked_array([pa.array([], pa.string())])
        return np.zeros(0, "int64"), empty, empty, np.zeros(0)
    tid, band, source, when = zip(*rows, strict=True)
    return (np.asarray(tid, dtype="int64"), pa.chunked_array([pa.array(band, pa.string())]),
            pa.chunked_array([pa.array(source, pa.string())]), np.asarray(when, dtype="float64"))


def _map_codes(column: Any, values: list[Any]) -> Any:
    """Codes of a string column's values in ``values`` (nulls as ''); -1 where absent."""
    import numpy as np

    code, distinct = _codes(column)
    position = {v: i for i, v in enumerate(values)}
    lookup = np.asarray([position.get(v, -1) for v in distinct], dtype="int64")
    return lookup[code] if code.size else code


def _pairs_in(group: Any, time: Any, s_group: Any, s_time: Any) -> Any:
    """For each ``(group, time)`` pair: is it among the ``(s_group, s_time)`` pairs?
    (Exact float equality of times; vectorised through integer codes of the times.)"""
    import numpy as np

    if not s_group.size:
        return np.zeros(group.size, dtype=bool)
    times, inverse = np.unique(np.concatenate([time, s_time]), return_inverse=True)
    inverse = inverse.reshape(-1)
    if (int(max(group.max(), s_group.max())) + 1) * times.size < 2**62:
        key = group.astype("int64") * times.size + inverse[:group.size]
        s_key = s_group.astype("int64") * times.size + inverse[group.size:]
        return np.isin(key, s_key)
    stored = set(zip(s_group.tolist(), s_time.tolist(), strict=True))
    return np.fromiter(((g, t) in stored for g, t in zip(group.tolist(), time.tolist(), strict=True)), bool, group.size)


def _literal(value: Any, dialect: str) -> str:
    """An SQL literal for a value we made (a time, an id) or a name given by a user."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    text = "'" + str(value).replace("'", "''") + "'"
    return text if dialect == "sqlite" else text.replace("%", "%%")


def insert_table(
    session: Session,
    table: pa.Table,
    *,
    query_name: str | None = None,
    data_product_id: int | None = None,
    now: datetime | None = None,
    new_targets: Collection[int] = (),
) -> pa.Table:
    """Store new photometry rows; return the rows actually added (same columns).

    ``table`` has the canonical schema (:func:`as_table`), ``target_id`` filled. Rows
    already stored (same target, source, band and time), repeats within ``table`` and rows
    without a finite time or a band are left out. ``new_targets``: ids of targets created
    in this transaction and given no points yet (their stored points are not looked up).
    """
    import pyarrow as pa

    rows = insert_rows(session, table, query_name=query_name, data_product_id=data_product_id, now=now,
                       new_targets=new_targets)
    return table if len(rows) == table.num_rows else table.take(pa.array(rows))


#: Rows checked and written at a time by :func:`insert_rows`: what a write holds beyond
#: the table itself is bounded by this, not by the size of the file.
CHUNK_ROWS = 100_000


def insert_rows(
    session: Session,
    table: pa.Table,
    *,
    query_name: str | None = None,
    data_product_id: int | None = None,
    now: datetime | None = None,
    new_targets: Collection[int] = (),
    chunk_rows: int | None = None,
) -> Any:
    """:func:`insert_table`, returning the row numbers (ascending, a numpy int64 array) of
    the rows added instead of a copy of them.

    A big table is written ``chunk_rows`` rows at a time, in time order (so each chunk's
    look-up of stored points covers its own stretch of time only), all in the caller's
    transaction: a failure anywhere writes nothing.
    """
    import numpy as np
    import pyarrow as pa

    from tomcore.store.base import utcnow

    n = table.num_rows
    if n == 0:
        return np.zeros(0, "int64")
    now = (now or utcnow()).astimezone(UTC)
    chunk_rows = chunk_rows or CHUNK_ROWS
    if n <= chunk_rows:
        keep = _new_rows(session, table, new_targets)
        _insert(session, table if len(keep) == n else table.take(pa.array(keep)), query_name, data_product_id, now)
        return np.asarray(keep, dtype="int64")
    time = table["time"].to_numpy(zero_copy_only=False).astype("float64")
    order = np.argsort(time, kind="stable")  # equal times keep the table's order: its first wins
    del time
    added = []
    for start in range(0, n, chunk_rows):
        rows = order[start:start + chunk_rows]
        chunk = table.take(pa.array(rows))
        # earlier chunks are in the database now (same transaction): found as stored
        keep = _new_rows(session, chunk, new_targets)
        if len(keep):
            _insert(session, chunk.take(pa.array(keep)), query_name, data_product_id, now)
            added.append(rows[keep])
    return np.sort(np.concatenate(added)) if added else np.zeros(0, "int64")


def _insert(session: Session, added: pa.Table, query_name: str | None, data_product_id: int | None,
            now: datetime) -> None:
    if added.num_rows == 0:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    created = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else now.isoformat()
    constants = {"created": created, "data_product_id": data_product_id, "query_name": query_name}
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        _write(cursor, dialect, added, constants)
    finally:
        cursor.close()


#: Columns whose values repeat (a target, a band, a telescope): written as SQL literals, one
#: statement shape per combination, so that only the numbers are bound row by row.
_GROUPED = ("target_id", "band", "source", "telescope", "instrument", "flux_unit")
MAX_GROUPS = 512
MIN_ROWS_PER_GROUP = 32


#: From this many rows on, PostgreSQL gets them by COPY (into a temporary table, then one
#: INSERT ... SELECT ... ON CONFLICT DO NOTHING).
COPY_ROWS = 2000


def _write(cursor: Any, dialect: str, added: pa.Table, constants: dict[str, Any]) -> None:
    """Write ``added`` (all new rows) through a DBAPI cursor: multi-row INSERTs, or COPY on
    PostgreSQL for big batches."""
    import numpy as np
    import pyarrow.compute as pc

    present = [n for n in ("mag", "mag_err", "flux", "flux_err", "flux_unit", "limit", "telescope", "instrument",
                           "source_id", "extra") if n in added.column_names and added[n].null_count < added.num_rows]
    columns = {n: added[n] for n in ("target_id", "time", "band", *present)}
    columns["source"] = pc.fill_null(added["source"], "")
    if dialect == "postgresql" and added.num_rows >= COPY_ROWS and hasattr(cursor, "copy"):
        _copy(cursor, columns, constants)
        return
    grouped = [n for n in _GROUPED if n in columns]
    codes, values = [], []
    for name in grouped:
        code, distinct = _codes(columns[name]) if name != "target_id" else _int_codes(columns[name])
        codes.append(code)
        values.append(distinct)
    group = np.zeros(added.num_rows, dtype="int64")
    for code, distinct in zip(codes, values, strict=True):
        group = group * len(distinct) + code
    # Rows also go by which numbers they have: a NULL column is left out of the statement
    # rather than bound (a detection binds no limit, an upper limit no magnitude).
    optional = [n for n in ("mag", "mag_err", "flux", "flux_err", "limit") if n in columns]
    for name in optional:
        group = group * 2 + columns[name].is_null().to_numpy(zero_copy_only=False).astype("int64")
    unique_groups, group = np.unique(group, return_inverse=True)
    literal_ok = all("\x00" not in str(v) for distinct in values for v in distinct)
    # Statement shapes pay off for many rows per group (a file of one target); a broker page
    # of many targets with a few points each is faster as one shape with everything bound.
    if len(unique_groups) > MAX_GROUPS or added.num_rows < MIN_ROWS_PER_GROUP * len(unique_groups) or not literal_ok:
        _write_group(cursor, dialect, columns, list(columns), {}, np.arange(added.num_rows), constants)
        return
    time = columns["time"].to_numpy(zero_copy_only=False)
    order = np.lexsort((time, group))
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    bound = [n for n in columns if n not in grouped]
    nulls = {name: columns[name].is_null().to_numpy(zero_copy_only=False) for name in optional}
    numbers = {name: columns[name].to_numpy(zero_copy_only=False).astype("float64")
               for name in bound if name in _FLOAT_COLUMNS} if dialect == "sqlite" else {}
    for rows in np.split(order, bounds):
        first = int(rows[0])
        fixed = {}
        for name, code, distinct in zip(grouped, codes, values, strict=True):
            value = distinct[int(code[first])]
            fixed[name] = None if (value == "" and name not in ("source", "band")) else value
        present_here = [n for n in bound if n not in nulls or not nulls[n][first]]
        _write_group(cursor, dialect, columns, present_here, fixed, rows, constants, numbers)


_LOAD_TYPES = {"target_id": "bigint", "time": "double precision", "mag": "double precision",
               "mag_err": "double precision", "flux": "double precision", "flux_err": "double precision",
               "limit": "double precision"}


def _copy(cursor: Any, columns: dict[str, Any], constants: dict[str, Any]) -> None:
    """PostgreSQL: COPY the rows (as CSV written by pyarrow) into a temporary table, then
    insert them with one statement."""
    import io

    import pyarrow as pa
    import pyarrow.csv as csv

    names = list(columns)
    loaded = [f'"{_DB_NAMES.get(n, n)}"' for n in names]
    cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS tom_photometry_load ("
                   + ", ".join(f'"{_DB_NAMES.get(n, n)}" {_LOAD_TYPES.get(n, "text")}' for n in names)
                   + ") ON COMMIT DROP")
    cursor.execute("TRUNCATE tom_photometry_load")
    table = pa.table({n: columns[n] for n in names})
    options = csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65536)
    with cursor.copy(f"COPY tom_photometry_load ({', '.join(loaded)}) FROM STDIN (FORMAT csv)") as copy:
        for batch in table.to_batches(max_chunksize=65536):
            buffer = io.BytesIO()
            csv.write_csv(pa.Table.from_batches([batch]), buffer, write_options=options)
            copy.write(buffer.getvalue())
    selected = [f'"{_DB_NAMES.get(n, n)}"' + ("::json" if n == "extra" else "") for n in names]
    literal = [_literal(v, "postgresql").replace("%%", "%") for v in constants.values()]
    cursor.execute(
        f"INSERT INTO photometry ({', '.join(loaded)}, {', '.join(constants)}) "
        f"SELECT {', '.join(selected)}, {', '.join(literal)} FROM tom_photometry_load "
        "ON CONFLICT (target_id, time, band, source) DO NOTHING")
    cursor.execute("TRUNCATE tom_photometry_load")


def _int_codes(column: Any) -> tuple[Any, list[Any]]:
    import numpy as np

    distinct, code = np.unique(column.to_numpy(zero_copy_only=False), return_inverse=True)
    return code.astype("int64"), [int(v) for v in distinct]


def _write_group(cursor: Any, dialect: str, columns: dict[str, Any], bound: list[str], fixed: dict[str, Any],
                 rows: Any, constants: dict[str, Any], numbers: dict[str, Any] | None = None) -> None:
    import numpy as np
    import pyarrow as pa

    n = len(rows)
    whole = n == len(columns["time"])
    numbers = numbers or {}
    if dialect == "sqlite" and all(name in numbers for name in bound):
        # SQLite stores a bound NaN as NULL: bind floats straight from numpy
        matrix = np.column_stack([numbers[name][rows] for name in bound])
    else:
        picked = {name: (columns[name] if whole else columns[name].take(pa.array(rows))) for name in bound}
        matrix = np.empty((n, len(bound)), dtype=object)
        for i, name in enumerate(bound):
            matrix[:, i] = _object_column(picked[name])
    marker = "?" if dialect == "sqlite" else "%s"
    literals = {**fixed, **constants}
    db_columns = [_DB_NAMES.get(c, c) for c in (*bound, *literals)]
    one = "(" + ", ".join([marker] * len(bound) + [_literal(v, dialect) for v in literals.values()]) + ")"
    head = f"INSERT INTO photometry ({', '.join(db_columns)}) VALUES "
    tail = " ON CONFLICT (target_id, time, band, source) DO NOTHING"
    per = max(1, min(ROWS_PER_STATEMENT, 30000 // max(1, len(bound))))
    full = (n // per) * per
    if full:
        cursor.executemany(head + ", ".join([one] * per) + tail, matrix[:full].reshape(-1, per * len(bound)).tolist())
    if full < n:
        rest = matrix[full:]
        cursor.execute(head + ", ".join([one] * len(rest)) + tail, rest.reshape(-1).tolist())


def insert_points(
    session: Session,
    points: Mapping[int, Sequence[PhotometryPoint]],
    *,
    query_name: str | None = None,
    data_product_id: int | None = None,
    now: datetime | None = None,
    new_targets: Collection[int] = (),
) -> dict[int, list[PhotometryPoint]]:
    """Store new points, by target id; return the points actually added, by target id.

    Points already stored (same target, source, band and time), and repeats within
    ``points``, are left out. Non-finite numbers are stored as NULL. ``new_targets`` as
    for :func:`insert_table`.
    """
    import pyarrow as pa

    flat: list[PhotometryPoint] = []
    owners: list[int] = []
    for target_id, target_points in points.items():
        flat.extend(target_points)
        owners.extend([target_id] * len(target_points))
    if not flat:
        return {}
    table = as_table(flat)
    table = table.set_column(0, "target_id", pa.array(owners, pa.int64()))
    table = table.append_column("_index", pa.array(range(len(flat)), pa.int64()))
    added = insert_table(session, table, query_name=query_name, data_product_id=data_product_id, now=now,
                         new_targets=new_targets)
    result: dict[int, list[PhotometryPoint]] = {}
    for index in added["_index"].to_pylist():
        result.setdefault(owners[index], []).append(flat[index])
    return result


def split_by_target(table: pa.Table) -> dict[int, PointsView]:
    """Rows of a table with ``target_id``, as a :class:`PointsView` per target."""
    import numpy as np

    if table.num_rows == 0:
        return {}
    tid = table["target_id"].to_numpy(zero_copy_only=False)
    targets = np.unique(tid)
    if len(targets) == 1:
        return {int(targets[0]): PointsView(table)}
    order = np.argsort(tid, kind="stable")
    ordered = table.take(order)
    bounds = np.searchsorted(tid[order], targets)
    ends = [*bounds[1:], len(order)]
    return {int(t): PointsView(ordered.slice(int(a), int(b - a))) for t, a, b in zip(targets, bounds, ends, strict=True)}


def delete_of_product(session: Session, data_product_id: int) -> int:
    """Delete the points read from one data product (before reprocessing it)."""
    from sqlalchemy import delete

    from tomcore.store.models import PhotometryRow

    result = session.execute(delete(PhotometryRow).where(PhotometryRow.data_product_id == data_product_id))
    return int(getattr(result, "rowcount", 0) or 0)

