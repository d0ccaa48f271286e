"""Bulk writes of target rows through the database driver.

:meth:`tomcore.services.targets.TargetService.save` decides what to write; this module
writes it fast and the same way on both backends: ids are assigned up front (the
``targets`` sequence on PostgreSQL, ``max(id)`` under SQLite's write lock), rows are plain
tuples handed to the driver (``executemany`` on SQLite, ``COPY`` on PostgreSQL), and columns
no row uses are left out. SQLAlchemy's per-row parameter processing is skipped, so values
are given in the form each driver stores (see :meth:`BulkWriter.time`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tomcore.domain.extras import TypedValue, typed

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector around a bulk operation.

    Building a few hundred thousand objects (targets, rows) triggers full collections over
    everything alive again and again; these objects hold no cycles worth collecting
    meanwhile. The collector is restored (not run) afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sqlite_literal(value: Any) -> str:
    """A constant as an SQLite literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def driver_rows(session_or_connection: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """All rows of a query as plain tuples, straight from a DBAPI cursor of the session's
    connection (in its transaction): no result-object per row. ``sql`` uses the driver's
    parameter marks (``?`` on SQLite, ``%s`` on PostgreSQL). Pending ORM changes are not
    flushed: callers that need them flush first."""
    connection = session_or_connection
    if hasattr(connection, "connection") and hasattr(connection, "flush"):  # a Session
        connection = connection.connection()
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return cursor.fetchall()
    finally:
        cursor.close()


#: Rows per driver call (bounds memory of the driver's buffers, feeds the progress bar).
CHUNK = 20000
#: From this many rows on, PostgreSQL updates and upserts go through COPY into a temporary table.
COPY_ABOVE = 2000


class BulkWriter:
    """Plain-tuple inserts in the session's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.postgres = self.dialect == "postgresql"
        self.mark = "%s" if self.postgres else "?"

    def time(self, value: datetime | None) -> Any:
        """A datetime as the driver stores it for ``UTCDateTime`` columns."""
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if self.postgres:
            return aware
        return aware.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def grow_cache(self, megabytes: int = 256) -> None:
        """Let SQLite keep up to ``megabytes`` of pages of this connection in memory, so a
        large batch is written to the WAL once, at commit, instead of spilled mid-way.
        (The memory is taken only as pages are used.)"""
        if not self.postgres:
            current = self.connection.exec_driver_sql("PRAGMA cache_size").scalar()
            if current is not None and 0 > int(current) > -megabytes * 1024:
                self.connection.exec_driver_sql(f"PRAGMA cache_size=-{megabytes * 1024}")

    def next_ids(self, table: str, count: int) -> list[int]:
        """``count`` new primary keys of ``table``, reserved for this transaction."""
        if count <= 0:
            return []
        if self.postgres:
            rows = self.connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, count)
            )
            return [int(r[0]) for r in rows]
        # SQLite: the write transaction (BEGIN IMMEDIATE) holds the lock, so max(id) is ours.
        start = int(self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar() or 0) + 1
        return list(range(start, start + count))

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
               progress: Callable[[int], None] | None = None, constants: dict[str, Any] | None = None) -> None:
        """Insert ``rows`` (tuples in ``columns`` order); ``constants`` are columns with the
        same value in every row (SQL literals on SQLite: not bound row by row)."""
        if not rows:
            return
        constants = constants or {}
        if self.postgres:
            names = ", ".join([*columns, *constants])
            tail = tuple(constants.values())
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                for start in range(0, len(rows), CHUNK):
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in rows[start:start + CHUNK]:
                            copy.write_row((*row, *tail) if tail else row)
                    if progress is not None:
                        progress(min(CHUNK, len(rows) - start))
            finally:
                cursor.close()
            return
        marks = [self.mark] * len(columns) + [_sqlite_literal(v) for v in constants.values()]
        sql = f"INSERT INTO {table} ({', '.join([*columns, *constants])}) VALUES ({', '.join(marks)})"
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for start in range(0, len(rows), CHUNK):
                cursor.executemany(sql, rows[start:start + CHUNK])
                if progress is not None:
                    progress(min(CHUNK, len(rows) - start))
        finally:
            cursor.close()

    def insert_columns(self, table: str, columns: dict[str, Any],
                       progress: Callable[[int], None] | None = None) -> None:
        """Insert rows given column by column, leaving out columns that are all NULL."""
        used = {name: values for name, values in columns.items() if values.count(None) != len(values)}
        if not used:
            return
        self.insert(table, list(used), list(zip(*used.values(), strict=True)), progress)

    def _load_table(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        """PostgreSQL: COPY rows into a new temporary table shaped like ``table``'s
        ``columns``; returns its name (the caller drops it)."""
        temp = f"tom_load_{table}"
        names = ", ".join(columns)
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {temp}")
        self.connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {temp} AS SELECT {names} FROM {table} WITH NO DATA")
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return temp

    def update(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str = "id") -> None:
        """``UPDATE table SET columns... WHERE key = ?`` for rows ``(*values, key)``: one
        statement for all (executemany; on PostgreSQL, many rows go by COPY and one
        ``UPDATE ... FROM``)."""
        if not rows:
            return
        if self.postgres and len(rows) >= COPY_ABOVE:
            temp = self._load_table(table, [*columns, key], rows)
            sets = ", ".join(f"{c} = s.{c}" for c in columns)
            self.connection.exec_driver_sql(f"UPDATE {table} t SET {sets} FROM {temp} s WHERE t.{key} = s.{key}")
            self.connection.exec_driver_sql(f"DROP TABLE {temp}")
            return
        sets = ", ".join(f"{c} = {self.mark}" for c in columns)
        self.connection.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {key} = {self.mark}", list(rows))

    def upsert(self, table: str, columns: Sequence[str], keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows, replacing the other columns of rows whose ``keys`` exist
        (``INSERT ... ON CONFLICT (keys) DO UPDATE``, both backends)."""
        if not rows:
            return
        names = ", ".join(columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        if self.postgres and len(rows) >= COPY_ABOVE:
            temp = self._load_table(table, columns, rows)
            self.connection.exec_driver_sql(f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} {conflict}")
            self.connection.exec_driver_sql(f"DROP TABLE {temp}")
            return
        marks = ", ".join([self.mark] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"
        for start in range(0, len(rows), CHUNK):
            self.connection.exec_driver_sql(sql, list(rows[start:start + CHUNK]))

    def delete_keys(self, table: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """``DELETE FROM table WHERE k1 = ? AND k2 = ?...`` for each row of key values."""
        if not rows:
            return
        where = " AND ".join(f"{k} = {self.mark}" for k in keys)
        self.connection.exec_driver_sql(f"DELETE FROM {table} WHERE {where}", list(rows))

    def existing_names(self, names: Iterable[str]) -> set[str]:
        """Those of ``names`` that are a target's name or alias (exactly), in one query per
        20,000 names."""
        import json

        wanted = list(dict.fromkeys(names))
        found: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            if self.postgres:
                rows = driver_rows(self.connection, "SELECT name FROM target_names WHERE name = ANY(%s)", (chunk,))
            else:
                rows = driver_rows(self.connection, "SELECT n.name FROM json_each(?) j CROSS JOIN target_names n "
                                   "ON n.name = j.value", (json.dumps(chunk),))
            found.update(r[0] for r in rows)
        return found

    def extra_rows(self, extras: Iterable[tuple[int, dict[str, Any]]]) -> list[tuple[Any, ...]]:
        """``target_extras`` rows (target_id, key, value_type, value_text, value_num,
        value_bool, value_time) for typed extras by target id; None values are left out.
        Floats, ints and strings (nearly all values) are typed inline, the rest by
        :func:`tomcore.domain.extras.typed`."""
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        time = self.time
        for target_id, values in extras:
            for key, value in values.items():
                kind = value.__class__
                if kind is float and value - value == 0:
                    append((target_id, key, "number", repr(value), value, None, None))
                elif kind is str:
                    append((target_id, key, "string", value, None, None, None))
                elif kind is int:
                    append((target_id, key, "number", str(value), float(value), None, None))
                elif value is None:
                    continue
                else:
                    tv: TypedValue = typed(value)
                    append((target_id, key, tv.type, tv.text, tv.num, tv.flag,
                            time(tv.time) if tv.time is not None else None))
        return rows


EXTRA_COLUMNS = ("target_id", "key", "value_type", "value_text", "value_num", "value_bool", "value_time")
NAME_COLUMNS = ("target_id", "name", "norm", "is_primary", "source", "created")


def analyze(session_or_engine: Any, tables: Sequence[str]) -> None:
    """Refresh the planner's statistics of ``tables`` (PostgreSQL; after large batches, so
    that the next lookups use the indexes instead of scanning)."""
    engine = getattr(session_or_engine, "engine", session_or_engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
