"""Exporting reduced data, streamed: ``tom data export``.

Rows go from the database to the file in Arrow record batches of 64k rows, so a million
points (or a hundred million) export in constant memory. On SQLite the batches come
straight from the database file through the ADBC SQLite driver (C++, no Python object per
value); elsewhere through a server-side cursor. Writers: CSV (pyarrow), Parquet (pyarrow),
ECSV (astropy's ECSV 1.0 header, comma-separated body, readable by ``Table.read``) and
VOTable 1.4 (TABLEDATA, its rows built column by column with Arrow compute).
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from tomcore.errors import NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from tomcore.app import Tom

FORMATS = ("csv", "ecsv", "votable", "parquet")
KINDS = ("photometry", "spectra")
BATCH_ROWS = 65536

#: name, arrow type name, unit, description, SQL expression (photometry p, targets t)
PHOTOMETRY_FIELDS: tuple[tuple[str, str, str | None, str, str], ...] = (
    ("target", "string", None, "target name", "t.name"),
    ("mjd", "float64", "d", "time of the observation, MJD (UTC)", "p.time"),
    ("date", "string", None, "time of the observation, ISO 8601 (UTC)", ""),
    ("band", "string", None, "filter or band", "p.band"),
    ("mag", "float64", "mag", "magnitude", "p.mag"),
    ("mag_err", "float64", "mag", "magnitude error", "p.mag_err"),
    ("limit", "float64", "mag", "limiting magnitude of a non-detection", "p.mag_limit"),
    ("flux", "float64", None, "flux", "p.flux"),
    ("flux_err", "float64", None, "flux error", "p.flux_err"),
    ("flux_unit", "string", None, "unit of flux and flux_err", "p.flux_unit"),
    ("telescope", "string", None, "telescope", "p.telescope"),
    ("instrument", "string", None, "instrument", "p.instrument"),
    ("source", "string", None, "who measured it (broker, facility, upload)", "p.source"),
    ("source_id", "string", None, "the object's id at the source", "p.source_id"),
)
SPECTRUM_FIELDS: tuple[tuple[str, str, str | None, str], ...] = (
    ("target", "string", None, "target name"),
    ("spectrum_id", "int64", None, "spectrum id"),
    ("mjd", "float64", "d", "time of the observation, MJD (UTC)"),
    ("date", "string", None, "time of the observation, ISO 8601 (UTC)"),
    ("telescope", "string", None, "telescope"),
    ("instrument", "string", None, "instrument"),
    ("source", "string", None, "where the spectrum came from"),
    ("wavelength", "float64", None, "wavelength (unit in wavelength_unit)"),
    ("flux", "float64", None, "flux density (unit in flux_unit)"),
    ("flux_err", "float64", None, "flux density error"),
    ("wavelength_unit", "string", None, "unit of wavelength"),
    ("flux_unit", "string", None, "unit of flux and flux_err"),
)


@attrs.define
class ExportReport:
    path: Path
    format: str
    kind: str
    rows: int
    targets: int
    seconds: float


def _arrow_type(name: str) -> pa.DataType:
    import pyarrow as pa

    return {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64()}[name]


def photometry_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(name, _arrow_type(kind), metadata={"unit": unit or "", "description": text})
                      for name, kind, unit, text, _ in PHOTOMETRY_FIELDS])


def spectrum_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(name, _arrow_type(kind), metadata={"unit": unit or "", "description": text})
                      for name, kind, unit, text in SPECTRUM_FIELDS])


def iso_dates(mjd: Any) -> Any:
    """ISO 8601 UTC strings (millisecond precision) of an Arrow array of MJDs."""
    import pyarrow as pa
    import pyarrow.compute as pc

    milliseconds = pc.round(pc.multiply(pc.subtract(mjd, 40587.0), 86_400_000.0))
    stamps = pc.cast(pc.cast(milliseconds, pa.int64()), pa.timestamp("ms"))
    return pc.replace_substring(pc.cast(stamps, pa.string()), " ", "T", max_replacements=1)


# -- selecting targets ---------------------------------------------------------------------------


def target_ids(tom: Tom, names: Sequence[str] | None, list_name: str | None) -> list[int] | None:
    """Ids of the targets named, or of a target list's members; None for every target."""
    from sqlalchemy import select

    from tomcore.store.models import TargetListMemberRow, TargetListRow

    if not names and not list_name:
        return None
    ids: list[int] = []
    with tom.db.session(readonly=True) as session:
        for name in names or ():
            ids.append(tom.targets.resolve_id(session, name))
        if list_name:
            list_id = session.execute(select(TargetListRow.id).where(TargetListRow.name == list_name)).scalar()
            if list_id is None:
                raise NotFoundError(f"no target list named {list_name!r}")
            ids.extend(session.execute(select(TargetListMemberRow.target_id).where(
                TargetListMemberRow.list_id == list_id)).scalars())
    return sorted(set(ids))


# -- reading photometry in batches ---------------------------------------------------------------


def _where(ids: list[int] | None, bands: Sequence[str] | None, since: float | None, until: float | None
           ) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if ids is not None:
        clauses.append(f"p.target_id IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})")
    if bands:
        clauses.append(f"p.band IN ({', '.join('?' for _ in bands)})")
        params.extend(bands)
    if since is not None:
        clauses.append("p.time >= ?")
        params.append(float(since))
    if until is not None:
        clauses.append("p.time <= ?")
        params.append(float(until))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def photometry_batches(tom: Tom, ids: list[int] | None, *, bands: Sequence[str] | None = None,
                       since: float | None = None, until: float | None = None) -> Iterator[pa.RecordBatch]:
    """Photometry rows of these targets (all when None) as record batches, by target and time."""
    where, params = _where(ids, bands, since, until)
    url = tom.db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and _count(tom, where, params) >= ADBC_ROWS:
        try:
            import adbc_driver_sqlite.dbapi  # noqa: F401
        except ImportError:  # pragma: no cover - the dependency is declared; keep working without it
            pass
        else:
            yield from _sqlite_batches(str(url.database), where, params, _target_names(tom, ids))
            return
    if url.get_backend_name() == "postgresql":
        yield from _postgres_batches(tom, where, params, _target_names(tom, ids))
        return
    yield from _cursor_batches(tom, where, params)


#: From this many rows on, SQLite is read by the ADBC driver (in a child process: see
#: ``tomcore.services.sqlite_arrow``); fewer are read faster through the session's own
#: connection than a process starts.
ADBC_ROWS = 50_000


def _count(tom: Tom, where: str, params: list[Any]) -> int:
    """How many photometry rows ``where`` selects (SQLite: qmark parameters)."""
    with tom.db.session(readonly=True) as session:
        return int(session.connection().exec_driver_sql(f"SELECT count(*) FROM photometry p{where}",
                                                        tuple(params)).scalar_one())


def _target_names(tom: Tom, ids: list[int] | None) -> Callable[[Any], Any]:
    """A function mapping an Arrow array of target ids to their names."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from sqlalchemy import select

    from tomcore.store.models import TargetRow

    with tom.db.session(readonly=True) as session:
        query = select(TargetRow.id, TargetRow.name)
        if ids is not None:
            query = query.where(TargetRow.id.in_(ids))
        pairs = session.execute(query).all()
    known = pa.array([p[0] for p in pairs], pa.int64())
    names = pa.array([p[1] for p in pairs], pa.string())

    def lookup(target_ids: Any) -> Any:
        return pc.take(names, pc.index_in(target_ids, value_set=known))

    return lookup


def _sqlite_batches(path: str, where: str, params: list[Any], names: Callable[[Any], Any]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    from tomcore.services.sqlite_arrow import record_batches

    # The driver infers each column's type from the first row it reads, so a first row of
    # NULLs would make a float column an integer one: the query starts with one row of the
    # right types, dropped below.
    fields = [(name, kind, expression) for name, kind, _unit, _text, expression in PHOTOMETRY_FIELDS
              if expression and name != "target"]
    typed = ", ".join(["0 AS target_id", *(f"{'0.5' if kind == 'float64' else repr('')} AS \"{name}\""
                                          for name, kind, _ in fields)])
    columns = ", ".join(["p.target_id", *(expression for _, _, expression in fields)])
    sql = f"SELECT {typed} UNION ALL SELECT * FROM (SELECT {columns} FROM photometry p{where} " \
          "ORDER BY p.target_id, p.time, p.band, p.source)"
    schema = photometry_schema()
    first = True
    for batch in record_batches(path, sql, params, BATCH_ROWS):
        if first:
            batch, first = batch.slice(1), False
            if batch.num_rows == 0:
                continue
        arrays = {"target": names(batch.column(0)), "mjd": batch.column(1)}
        arrays["date"] = iso_dates(arrays["mjd"])
        for index, (name, _kind, _expression) in enumerate(fields[1:], start=2):
            arrays[name] = batch.column(index)
        yield pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)


class _CopyStream:
    """The output of a PostgreSQL ``COPY ... TO STDOUT`` as a readable binary stream."""

    def __init__(self, copy: Any) -> None:
        self._blocks = iter(copy)
        self._buffer = bytearray()
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            block = next(self._blocks, None)
            if block is None:
                break
            self._buffer.extend(block)
        if size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        return data


def _postgres_batches(tom: Tom, where: str, params: list[Any], names: Callable[[Any], Any]
                      ) -> Iterator[pa.RecordBatch]:
    """PostgreSQL formats the rows as CSV (COPY TO STDOUT, in C) and pyarrow parses them into
    typed batches (in C++): no Python object per value."""
    import pyarrow as pa
    import pyarrow.csv as csv

    fields = [(name, kind, expression) for name, kind, _unit, _text, expression in PHOTOMETRY_FIELDS
              if expression and name != "target"]
    columns = ", ".join(["p.target_id", *(expression for _, _, expression in fields)])
    sql = f"SELECT {columns} FROM photometry p{where} ORDER BY p.target_id, p.time, p.band, p.source"
    column_names = ["target_id", *(name for name, _, _ in fields)]
    types = {"target_id": pa.int64(), **{name: _arrow_type(kind) for name, kind, _ in fields}}
    schema = photometry_schema()
    connection = tom.db.engine.raw_connection()
    try:
        driver = connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY ({sql.replace('?', '%s')}) TO STDOUT (FORMAT csv)",
                                                     params or None) as copy:
            reader = csv.open_csv(
                _CopyStream(copy),
                read_options=csv.ReadOptions(column_names=column_names, block_size=4 * 2**20, use_threads=False),
                convert_options=csv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                   quoted_strings_can_be_null=False),
            )
            for block in reader:
                for start in range(0, block.num_rows, BATCH_ROWS):
                    batch = block.slice(start, BATCH_ROWS)
                    arrays = {"target": names(batch.column(0)), "mjd": batch.column(1)}
                    arrays["date"] = iso_dates(arrays["mjd"])
                    for index, (name, _kind, _expression) in enumerate(fields[1:], start=2):
                        arrays[name] = batch.column(index)
                    yield pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)
        driver.commit()
    finally:
        connection.close()


def _cursor_batches(tom: Tom, where: str, params: list[Any]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    expressions = [expression for *_, expression in PHOTOMETRY_FIELDS if expression]
    sql = f"SELECT {', '.join(expressions)} FROM photometry p JOIN targets t ON t.id = p.target_id{where} " \
          "ORDER BY p.target_id, p.time, p.band, p.source"
    schema = photometry_schema()
    fields = [f for f in schema if f.name != "date"]
    connection = tom.db.engine.raw_connection()
    try:
        dialect = tom.db.engine.dialect.name
        if dialect == "postgresql":
            cursor = connection.cursor(name="tom_export")  # server side: rows come as they are read
            sql = sql.replace("?", "%s")
        else:
            cursor = connection.cursor()
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(BATCH_ROWS)
            if not rows:
                break
            values = list(zip(*rows, strict=True))
            arrays = {f.name: pa.array(v, f.type) for f, v in zip(fields, values, strict=True)}
            arrays["date"] = iso_dates(arrays["mjd"])
            yield pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)
        cursor.close()
    finally:
        connection.close()


def spectrum_batches(tom: Tom, ids: list[int] | None) -> Iterator[pa.RecordBatch]:
    """One record batch per spectrum: one row per wavelength."""
    import numpy as np
    import pyarrow as pa
    from sqlalchemy import select

    from tomcore.services.processing import row_to_spectrum
    from tomcore.store.models import SpectrumRow, TargetRow

    schema = spectrum_schema()
    with tom.db.session(readonly=True) as session:
        query = select(SpectrumRow.id, TargetRow.name).join(TargetRow, TargetRow.id == SpectrumRow.target_id)
        if ids is not None:
            query = query.where(SpectrumRow.target_id.in_(ids))
        listing = session.execute(query.order_by(SpectrumRow.target_id, SpectrumRow.time, SpectrumRow.id)).all()
    for spectrum_id, target_name in listing:
        with tom.db.session(readonly=True) as session:
            spectrum = row_to_spectrum(session.get(SpectrumRow, spectrum_id))
        n = len(spectrum.wavelength)
        mjd = pa.array(np.full(n, np.nan if spectrum.time is None else spectrum.time), pa.float64(), from_pandas=True)
        error = spectrum.flux_err if spectrum.flux_err is not None else np.full(n, np.nan)
        arrays = [
            pa.array([target_name] * n, pa.string()), pa.array(np.full(n, spectrum_id, dtype="int64")), mjd,
            iso_dates(mjd), pa.array([spectrum.telescope] * n, pa.string()),
            pa.array([spectrum.instrument] * n, pa.string()), pa.array([spectrum.source] * n, pa.string()),
            pa.array(spectrum.wavelength, pa.float64(), from_pandas=True),
            pa.array(spectrum.flux, pa.float64(), from_pandas=True), pa.array(error, pa.float64(), from_pandas=True),
            pa.array([spectrum.wavelength_unit] * n, pa.string()), pa.array([spectrum.flux_unit] * n, pa.string()),
        ]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


# -- writers -------------------------------------------------------------------------------------


def _write_csv(out: IO[bytes], schema: pa.Schema, batches: Iterator[pa.RecordBatch], count: Callable[[int], None]) -> None:
    import pyarrow.csv as csv

    with csv.CSVWriter(out, schema, write_options=csv.WriteOptions(quoting_style="needed")) as writer:
        for batch in batches:
            writer.write_batch(batch)
            count(batch.num_rows)


def _write_parquet(out: IO[bytes], schema: pa.Schema, batches: Iterator[pa.RecordBatch],
                   count: Callable[[int], None]) -> None:
    import pyarrow.parquet as pq

    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            count(batch.num_rows)


def _ecsv_header(schema: pa.Schema, meta: dict[str, Any]) -> str:
    import json

    lines = ["# %ECSV 1.0", "# ---", "# delimiter: ','", "# datatype:"]
    for field in schema:
        datatype = {"string": "string", "double": "float64", "int64": "int64"}[str(field.type)]
        entry = {"name": field.name, "datatype": datatype}
        metadata = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        if metadata.get("unit"):
            entry["unit"] = metadata["unit"]
        if metadata.get("description"):
            entry["description"] = metadata["description"]
        lines.append("# - {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in entry.items()) + "}")
    lines.append("# meta: {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in meta.items()) + "}")
    lines.append("# schema: astropy-2.0")
    return "\n".join(lines) + "\n"


def _write_ecsv(out: IO[bytes], schema: pa.Schema, batches: Iterator[pa.RecordBatch], count: Callable[[int], None],
                meta: dict[str, Any]) -> None:
    out.write(_ecsv_header(schema, meta).encode())
    _write_csv(out, schema, batches, count)


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text, {'"': "&quot;"})


def _write_votable(out: IO[bytes], schema: pa.Schema, batches: Iterator[pa.RecordBatch],
                   count: Callable[[int], None], meta: dict[str, Any]) -> None:
    datatypes = {"string": "char", "double": "double", "int64": "long"}
    head = ['<?xml version="1.0" encoding="utf-8"?>',
            '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">',
            '<RESOURCE type="results">', f'<TABLE name="{_xml(str(meta.get("kind", "data")))}">']
    for key, value in meta.items():
        head.append(f'<INFO name="{_xml(str(key))}" value="{_xml(str(value))}"/>')
    for field in schema:
        metadata = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        kind = datatypes[str(field.type)]
        size = ' arraysize="*"' if kind == "char" else ""
        unit = f' unit="{_xml(metadata["unit"])}"' if metadata.get("unit") else ""
        head.append(f'<FIELD name="{field.name}" datatype="{kind}"{size}{unit}>'
                    f'<DESCRIPTION>{_xml(metadata.get("description", ""))}</DESCRIPTION></FIELD>')
    head.append("<DATA><TABLEDATA>")
    out.write(("\n".join(head) + "\n").encode())

    for batch in batches:
        out.write(_tabledata(batch))
        count(batch.num_rows)
    out.write(b"</TABLEDATA></DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n")


def _tabledata(batch: pa.RecordBatch) -> bytes:
    """The ``<TR>`` rows of a record batch, built column by column with Arrow compute (no
    Python object per value): numbers in their shortest round-trip form, text escaped for
    XML, NULL and non-finite values as empty cells."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if batch.num_rows == 0:
        return b""
    cells = []
    for column in batch.columns:
        if pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
        text = pc.cast(column, pa.string())
        if pa.types.is_string(column.type):
            for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
                text = pc.replace_substring(text, char, entity)
        cells.append(pc.fill_null(pc.binary_join_element_wise("<TD>", text, "</TD>", ""), "<TD/>"))
    rows = pc.binary_join_element_wise("<TR>", *cells, "</TR>\n", "")
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset: rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[int(offsets[0]): int(offsets[-1])].tobytes()


def export(tom: Tom, path: str | Path, *, format: str | None = None, kind: str = "photometry",
           targets: Sequence[str] | None = None, list_name: str | None = None, bands: Sequence[str] | None = None,
           since: float | None = None, until: float | None = None,
           progress: Callable[[int], None] | None = None) -> ExportReport:
    """Write reduced data of some targets (default: all) to ``path``; the format comes from
    ``format`` or the file's suffix. The file appears only when complete."""
    import os
    import uuid

    path = Path(path).expanduser()
    fmt = (format or {".csv": "csv", ".ecsv": "ecsv", ".xml": "votable", ".vot": "votable", ".parquet": "parquet",
                      ".pq": "parquet"}.get(path.suffix.lower(), "")).lower()
    if fmt not in FORMATS:
        raise ValidationError("unknown export format", {"format": [f"{format or path.suffix!r}: use one of "
                                                                   f"{', '.join(FORMATS)}"]})
    if kind not in KINDS:
        raise ValidationError("unknown kind", {"kind": [f"{kind!r} is not one of {', '.join(KINDS)}"]})
    started = clock.perf_counter()
    ids = target_ids(tom, targets, list_name)
    if kind == "photometry":
        schema, batches = photometry_schema(), photometry_batches(tom, ids, bands=bands, since=since, until=until)
    else:
        schema, batches = spectrum_schema(), spectrum_batches(tom, ids)
    rows = 0

    def count(n: int) -> None:
        nonlocal rows
        rows += n
        if progress is not None:
            progress(n)

    meta = {"tom": tom.name, "kind": kind, "exported": tom.now().isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with open(temp, "wb") as out:
            if fmt == "csv":
                _write_csv(out, schema, batches, count)
            elif fmt == "parquet":
                _write_parquet(out, schema, batches, count)
            elif fmt == "ecsv":
                _write_ecsv(out, schema, batches, count, meta)
            else:
                _write_votable(out, schema, batches, count, meta)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return ExportReport(path, fmt, kind, rows, len(ids) if ids is not None else 0, clock.perf_counter() - started)
