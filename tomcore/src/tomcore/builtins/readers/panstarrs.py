"""Reading Pan-STARRS1 mean-object photometry (a MAST PS1 catalogue search as CSV).

As the TOM Toolkit's ``PanstarrsProcessor`` does: each row is one object with its mean epoch
``epochMean`` (MJD) and, per band g, r, i, z, y, ``<band>MeanPSFMag`` and
``<band>MeanPSFMagErr``; a magnitude of -999 (or empty) means no measurement in that band.
Each measured band becomes a point at ``epochMean``, telescope Pan-STARRS1, instrument GPC1,
with the object's ``objID`` (or ``objName``) as the source id.
"""

from __future__ import annotations

import csv
import io
import math
from typing import IO, Any

from tomcore.errors import ValidationError

BANDS = ("g", "r", "i", "z", "y")
MISSING = -999.0


def is_panstarrs(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    return b"epochMean" in first and b"MeanPSFMag" in first


def _number(row: list[str], index: int, column: str) -> float | None:
    text = row[index].strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"column {column}: {text!r} is not a number") from None
    return None if not math.isfinite(value) or value <= MISSING else value


def read_panstarrs(stream: IO[bytes], *, name: str) -> dict[str, list[Any]]:
    text = stream.read().decode("utf-8", "replace")
    rows = csv.reader(io.StringIO(text))
    header: list[str] = []
    header_line = 0
    for header_line, header in enumerate(rows, start=1):  # noqa: B007 - the header's line is used below
        if header and not header[0].lstrip().startswith("#"):
            break
    index = {column.strip(): i for i, column in enumerate(header)}
    bands = [b for b in BANDS if f"{b}MeanPSFMag" in index]
    if "epochMean" not in index or not bands:
        raise ValidationError("not Pan-STARRS1 mean-object photometry", {f"line {header_line}": [
            "needs epochMean and <band>MeanPSFMag columns (g, r, i, z, y)"]})
    ident = index.get("objID", index.get("objName"))
    columns: dict[str, list[Any]] = {k: [] for k in ("time", "band", "mag", "mag_err", "telescope", "instrument",
                                                      "source_id")}
    errors: dict[str, list[str]] = {}
    for number, row in enumerate(rows, start=header_line + 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        try:
            if len(row) != len(header):
                raise ValueError(f"{len(row)} fields, the header has {len(header)}")
            epoch = _number(row, index["epochMean"], "epochMean")
            if epoch is None:
                continue  # no epoch: the object has no measurement
            for band in bands:
                mag = _number(row, index[f"{band}MeanPSFMag"], f"{band}MeanPSFMag")
                if mag is None:
                    continue
                error_column = f"{band}MeanPSFMagErr"
                columns["time"].append(epoch)
                columns["band"].append(band)
                columns["mag"].append(mag)
                columns["mag_err"].append(_number(row, index[error_column], error_column) if error_column in index
                                          else None)
                columns["telescope"].append("Pan-STARRS1")
                columns["instrument"].append("GPC1")
                columns["source_id"].append(row[ident].strip() if ident is not None else None)
        except ValueError as exc:
            errors[f"line {number}"] = [str(exc)]
            if len(errors) >= 10:
                break
    if errors:
        raise ValidationError("bad rows", errors)
    return columns
