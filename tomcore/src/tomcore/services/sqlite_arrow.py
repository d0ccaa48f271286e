"""Reading a SQLite query as Arrow record batches through the ADBC SQLite driver, in a
child process.

The ADBC driver carries its own copy of SQLite. Two copies of SQLite in one process break
SQLite's locking (POSIX locks belong to the process, and each copy closing its files drops
the other's locks): after the driver closes its connection, it deletes the WAL file under
the process's own ``sqlite3`` connection, whose later commits then go to a deleted file,
unseen by other processes and lost if the process dies (https://sqlite.org/howtocorrupt.html,
"multiple copies of SQLite linked into the same application"). So the driver runs only in a
process of its own, which streams the batches back as an Arrow IPC stream on its stdout.

Child usage: ``python -m tomcore.services.sqlite_arrow`` with a JSON object ``{"path",
"sql", "params", "batch_rows"}`` on stdin.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tomcore.errors import TomError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa


def record_batches(path: str, sql: str, params: Sequence[Any], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` on the SQLite database ``path`` as record batches (read by the
    ADBC driver in a child process). The child is stopped if the caller stops early."""
    import subprocess
    import tempfile

    import pyarrow as pa
    import pyarrow.ipc as ipc

    request = json.dumps({"path": path, "sql": sql, "params": list(params), "batch_rows": batch_rows}).encode()
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen([sys.executable, "-m", "tomcore.services.sqlite_arrow"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=errors)
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(request)
            child.stdin.close()
            try:
                yield from ipc.open_stream(child.stdout)
            except pa.ArrowInvalid:  # a child that died mid-stream: its own error is reported below
                if child.wait() == 0:
                    raise
            if child.wait() != 0:
                errors.seek(0)
                lines = errors.read().decode(errors="replace").strip().splitlines()
                raise TomError(f"reading the database failed: {lines[-1] if lines else f'exit {child.returncode}'}")
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()


def _main() -> None:  # pragma: no cover - runs in the child process (tested through record_batches)
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow.ipc as ipc

    request = json.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    with adbc.connect(request["path"]) as connection, connection.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(request["batch_rows"])})
        cursor.execute(request["sql"], request["params"] or None)
        reader = cursor.fetch_record_batch()
        with ipc.new_stream(out, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    out.flush()


if __name__ == "__main__":  # pragma: no cover
    try:
        _main()
    except Exception as exc:  # one line for the parent's error message
        message = str(exc).strip().splitlines()
        print(f"{type(exc).__name__}: {message[0] if message else ''}", file=sys.stderr)
        sys.exit(1)
