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


#: Rows per driver call (bounds memory of the driver's buffers, feeds the progress bar).
CHUNK = 20000


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
               progress: Callable[[int], None] | None = None) -> None:
        """Insert ``rows`` (tuples in ``columns`` order)."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                for start in range(0, len(rows), CHUNK):
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in rows[start:start + CHUNK]:
                            copy.write_row(row)
                    if progress is not None:
                        progress(min(CHUNK, len(rows) - start))
            finally:
                cursor.close()
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join([self.mark] * len(columns))})"
        for start in range(0, len(rows), CHUNK):
            self.connection.exec_driver_sql(sql, list(rows[start:start + CHUNK]))
            if progress is not None:
                progress(min(CHUNK, len(rows) - start))

    def insert_columns(self, table: str, columns: dict[str, Any],
                       progress: Callable[[int], None] | None = None) -> None:
        """Insert rows given column by column, leaving out columns that are all NULL."""
        used = {name: values for name, values in columns.items() if values.count(None) != len(values)}
        if not used:
            return
        self.insert(table, list(used), list(zip(*used.values(), strict=True)), progress)

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
