"""Reading light curves from CSV, TSV, ECSV and whitespace-separated text.

CSV and TSV go through pyarrow's multi-threaded reader (a million rows in a fraction of a
second), ECSV and whitespace-separated text through astropy. Columns are recognised by name,
case-insensitively, with the aliases below (the TOM Toolkit's ``time, filter, magnitude,
error, limit, telescope, instrument, source`` first). Times are MJD; a column named ``jd``
(or any time above 2,400,000) is JD; text times are ISO 8601 (UTC). Columns not recognised
are kept per point in ``extra``.

Errors name the line (counted in the file, comments and header included) and column of the
first problems, and nothing is returned: a file is read whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from tomcore.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "mjd", "mjd_obs", "mjdobs", "jd", "hjd", "bjd", "date", "date_obs", "dateobs", "obs_date",
             "obsdate", "datetime", "isot", "utc", "timestamp", "t"),
    "band": ("filter", "band", "passband", "bandpass", "filt", "flt", "f"),
    "mag": ("magnitude", "mag", "brightness", "m"),
    "mag_err": ("error", "magerr", "mag_err", "e_mag", "emag", "magnitude_error", "mag_error", "dm", "err", "sigma"),
    "limit": ("limit", "limiting_mag", "limiting_magnitude", "mag_limit", "limmag", "lim_mag", "maglim",
              "upper_limit", "diffmaglim", "lim"),
    "flux": ("flux",),
    "flux_err": ("flux_err", "fluxerr", "flux_error", "e_flux", "dflux"),
    "flux_unit": ("flux_unit", "flux_units", "fluxunit"),
    "telescope": ("telescope", "tel", "facility", "observatory"),
    "instrument": ("instrument", "inst", "camera"),
    "source": ("source", "source_name", "survey"),
    "source_id": ("source_id", "object_id", "objectid", "oid"),
}
JD_NAMES = ("jd", "hjd", "bjd")
NULLS = ["", "nan", "NaN", "NAN", "null", "NULL", "None", "none", "--", "N/A", "n/a", "NA"]
MAX_ERRORS = 10
JD_OFFSET = 2400000.5


class _Layout:
    """Where the table starts in the file."""

    def __init__(self, text_head: str) -> None:
        lines = text_head.splitlines()
        self.ecsv = bool(lines) and lines[0].startswith("# %ECSV")
        self.header_index = 0  # 0-based line of the column names
        while self.header_index < len(lines) and (not lines[self.header_index].strip()
                                                  or lines[self.header_index].lstrip().startswith("#")):
            self.header_index += 1
        header = lines[self.header_index] if self.header_index < len(lines) else ""
        self.delimiter = "," if "," in header else ("\t" if "\t" in header else None)


def read_photometry(stream: IO[bytes], *, name: str) -> pa.Table:
    """Read a light curve into columns named as :data:`tomcore.domain.data.PHOTOMETRY_COLUMNS`."""
    head = stream.read(65536)
    stream.seek(0)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    layout = _Layout(head.decode("utf-8", "replace"))
    if layout.ecsv or layout.delimiter is None:
        columns, lines = _read_with_astropy(stream, layout)
    else:
        columns, lines = _read_with_arrow(stream, layout)
    return _normalise(columns, lines, stream)


def _read_with_arrow(stream: IO[bytes], layout: _Layout) -> tuple[dict[str, Any], _LineMap]:
    import pyarrow as pa
    import pyarrow.csv as csv

    bad_rows: list[str] = []

    def skip_comments(row: Any) -> str:
        if (row.text or "").lstrip().startswith("#"):
            return "skip"
        bad_rows.append(row.text or "")
        return "error"

    try:
        table = csv.read_csv(
            stream,
            read_options=csv.ReadOptions(skip_rows=layout.header_index, block_size=8 * 2**20),
            parse_options=csv.ParseOptions(delimiter=layout.delimiter, invalid_row_handler=skip_comments),
            convert_options=csv.ConvertOptions(null_values=NULLS, strings_can_be_null=True,
                                               quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        where = _line_of(stream, layout, bad_rows[0]) if bad_rows else _arrow_where(str(exc), layout)
        reason = _arrow_reason(str(exc)).split(": ", 1)[0] if bad_rows else _arrow_reason(str(exc))
        raise ValidationError("cannot read the table", {where: [reason]}) from None
    columns = {name.strip(): table.column(i) for i, name in enumerate(table.column_names)}
    return columns, _LineMap(layout.header_index + 2)


def _line_of(stream: IO[bytes], layout: _Layout, text: str) -> str:
    """The line holding ``text`` (a row pyarrow could not parse)."""
    stream.seek(0)
    for number, raw in enumerate(stream, start=1):
        if number > layout.header_index + 1 and raw.decode("utf-8", "replace").rstrip("\r\n") == text:
            return f"line {number}"
    return "file"


def _arrow_where(message: str, layout: _Layout) -> str:
    import re

    match = re.search(r"Row #(\d+)", message)
    return f"line {int(match.group(1)) + layout.header_index}" if match else "file"


def _arrow_reason(message: str) -> str:
    return message.split(":", 1)[-1].strip() if "CSV parse error" in message else message.strip()


def _read_with_astropy(stream: IO[bytes], layout: _Layout) -> tuple[dict[str, Any], _LineMap]:
    import numpy as np
    from astropy.io import ascii

    text = stream.read().decode("utf-8", "replace")
    try:
        if layout.ecsv:
            table = ascii.read(text, format="ecsv")
        else:
            table = ascii.read(text, format="basic", guess=False, comment=r"\s*#",
                               fill_values=[(v, "0") for v in NULLS])
    except Exception as exc:  # astropy raises many kinds; all mean "not a table we can read"
        raise ValidationError("cannot read the table", {"file": [str(exc).splitlines()[0]]}) from None
    columns: dict[str, Any] = {}
    for column_name in table.colnames:
        column = table[column_name]
        mask = np.ma.getmaskarray(column)
        values = column.tolist() if not mask.any() else [None if m else v for v, m in zip(column.tolist(), mask,
                                                                                          strict=True)]
        columns[column_name.strip()] = values
    return columns, _LineMap(layout.header_index + 2, text=text)


class _LineMap:
    """Turns a data row index into the file's line number (exact even with blank or
    comment lines between rows; computed only when an error is reported)."""

    def __init__(self, first_data_line: int, text: str | None = None) -> None:
        self.first = first_data_line
        self.text = text
        self._lines: list[int] | None = None

    def line(self, row: int, stream: IO[bytes] | None = None) -> int:
        if self._lines is None:
            text = self.text
            if text is None and stream is not None:
                stream.seek(0)
                text = stream.read().decode("utf-8", "replace")
            if text is None:
                return self.first + row
            self._lines = [number for number, line in enumerate(text.splitlines(), start=1)
                           if number >= self.first and line.strip() and not line.lstrip().startswith("#")]
        return self._lines[row] if row < len(self._lines) else self.first + row


def _match(columns: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    by_lower = {name.lower().replace(" ", "_").replace("-", "_"): name for name in columns}
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            original = by_lower.get(alias)
            if original is not None and original not in used:
                chosen[canonical] = original
                used.add(original)
                break
    return chosen, [name for name in columns if name not in used]


def _normalise(columns: dict[str, Any], lines: _LineMap, stream: IO[bytes]) -> pa.Table:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    chosen, others = _match(columns)
    missing = [c for c in ("time", "band") if c not in chosen]
    if missing:
        wanted = {"time": "time (MJD), mjd, jd or date", "band": "filter or band"}
        raise ValidationError("missing columns", {f"line {lines.first - 1}": [
            *(f"no {wanted[c]} column" for c in missing), f"the columns are: {', '.join(columns) or 'none'}"]})
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    n = len(next(iter(columns.values())))
    for canonical, original in chosen.items():
        values = columns[original]
        if canonical in ("time", "mag", "mag_err", "limit", "flux", "flux_err"):
            if canonical == "time":
                out[canonical] = _times(values, original, lines, stream, errors)
            else:
                out[canonical] = _floats(values, original, lines, stream, errors)
        else:
            out[canonical] = _strings(values)
    if errors:
        raise ValidationError("bad values", dict(list(errors.items())[:MAX_ERRORS]))
    time = out["time"]
    band = out["band"]
    problems: dict[str, list[str]] = {}
    no_time = np.flatnonzero(~np.isfinite(time))
    for row in no_time[:MAX_ERRORS]:
        problems[f"line {lines.line(int(row), stream)}, column {chosen['time']}"] = ["no time"]
    empty_band = np.flatnonzero(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(band), ""), True).to_numpy(
        zero_copy_only=False))
    for row in empty_band[:MAX_ERRORS]:
        problems[f"line {lines.line(int(row), stream)}, column {chosen['band']}"] = ["no filter or band"]
    has_value = np.zeros(n, dtype=bool)
    for key in ("mag", "limit", "flux"):
        if key in out:
            has_value |= np.isfinite(out[key])
    for row in np.flatnonzero(~has_value)[:MAX_ERRORS]:
        problems[f"line {lines.line(int(row), stream)}"] = ["no magnitude, limit or flux"]
    if problems:
        raise ValidationError("incomplete rows", dict(sorted(problems.items(), key=_line_order)[:MAX_ERRORS]))
    arrays = {key: (pa.array(value, pa.float64(), from_pandas=True) if isinstance(value, np.ndarray) else value)
              for key, value in out.items()}
    if others:
        arrays["extra"] = _extras({name: columns[name] for name in others}, n)
    return pa.table(arrays)


def _line_order(item: tuple[str, list[str]]) -> int:
    try:
        return int(item[0].split(",")[0].split()[1])
    except (IndexError, ValueError):
        return 0


def _as_arrow(values: Any) -> Any:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, from_pandas=True) if any(v is not None for v in values) else pa.nulls(len(values))


def _floats(values: Any, column: str, lines: _LineMap, stream: IO[bytes], errors: dict[str, list[str]]) -> Any:
    """float64 numpy array (NaN for missing); bad values reported with their line."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _as_arrow(values)
    if pa.types.is_null(array.type):
        return np.full(len(array), np.nan)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        return pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
    if pa.types.is_boolean(array.type):
        _report(errors, [0], column, lines, stream, lambda _: "true/false is not a number")
        return np.full(len(array), np.nan)
    text = pc.utf8_trim_whitespace(pc.cast(array, pa.string()))
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
    except pa.ArrowInvalid:
        bad = []
        items = text.to_pylist()
        for row, item in enumerate(items):
            if item is None:
                continue
            try:
                float(item)
            except ValueError:
                bad.append(row)
                if len(bad) >= MAX_ERRORS:
                    break
        _report(errors, bad, column, lines, stream, lambda row: f"{items[row]!r} is not a number")
        return np.full(len(array), np.nan)


def _times(values: Any, column: str, lines: _LineMap, stream: IO[bytes], errors: dict[str, list[str]]) -> Any:
    """MJD (UTC) as a float64 array from MJD, JD or ISO 8601 text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _as_arrow(values)
    numeric = pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
    if not numeric and not pa.types.is_null(array.type):
        text = pc.utf8_trim_whitespace(pc.cast(array, pa.string()))
        try:  # numbers written as text (mixed with blanks, say)
            array = pc.cast(text, pa.float64())
            numeric = True
        except pa.ArrowInvalid:
            return _iso_times(text, column, lines, stream, errors)
    if not numeric:
        return np.full(len(array), np.nan)
    time = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False).astype("float64")
    if column.lower() in JD_NAMES or (np.isfinite(time).any() and np.nanmedian(time) > 2_400_000):
        time = time - JD_OFFSET
    return time


def _iso_times(text: Any, column: str, lines: _LineMap, stream: IO[bytes], errors: dict[str, list[str]]) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cleaned = pc.replace_substring_regex(text, r"Z$", "")
    cleaned = pc.replace_substring(cleaned, " ", "T")
    try:
        stamps = pc.cast(cleaned, pa.timestamp("ns"))
        nanoseconds = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
        mask = pc.is_null(stamps).to_numpy(zero_copy_only=False)
        days = nanoseconds.astype("float64") / 86_400e9 + 40587.0
        days[mask] = np.nan
        return days
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    from datetime import UTC, datetime

    epoch = datetime(1858, 11, 17, tzinfo=UTC)
    items = text.to_pylist()
    result = np.full(len(items), np.nan)
    bad = []
    for row, item in enumerate(items):
        if item is None:
            continue
        try:
            moment = datetime.fromisoformat(item.replace("Z", "+00:00"))
        except ValueError:
            bad.append(row)
            if len(bad) >= MAX_ERRORS:
                break
            continue
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        result[row] = (moment - epoch).total_seconds() / 86400.0
    if bad:
        _report(errors, bad, column, lines, stream,
                lambda row: f"{items[row]!r} is not a time (MJD, JD or ISO 8601 like 2024-05-01T03:04:05)")
    return result


def _strings(values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    array = _as_arrow(values)
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), pa.string())
    array = pc.cast(array, pa.string())
    return pc.utf8_trim_whitespace(array)


def _report(errors: dict[str, list[str]], rows: Sequence[int], column: str, lines: _LineMap, stream: IO[bytes],
            reason: Any) -> None:
    for row in rows:
        errors[f"line {lines.line(row, stream)}, column {column}"] = [reason(row)]


def _extras(columns: dict[str, Any], n: int) -> Any:
    """Other columns, as one JSON object per row (missing values left out)."""
    import math

    import pyarrow as pa

    lists = {name: (_as_arrow(values).to_pylist()) for name, values in columns.items()}
    out = []
    for row in range(n):
        item = {}
        for name, values in lists.items():
            value = values[row]
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue
            item[name] = value
        out.append(json.dumps(item, default=str) if item else None)
    return pa.array(out, pa.string())
