"""Reading ATLAS forced photometry.

The ATLAS forced-photometry server returns whitespace-separated text whose first line is
the header ``###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs``.
As the TOM Toolkit does, a measurement with S/N = uJy/duJy of at most 3 becomes an upper
limit of 23.9 - 2.5 log10(3 duJy) (AB); a detection keeps ``m``/``dm`` and its flux in uJy.
The band is ``F`` (``o`` or ``c``), the telescope ATLAS and the instrument the unit that took
the exposure (the first three characters of ``Obs``, e.g. ``01a``).
"""

from __future__ import annotations

import json
import math
from typing import IO, Any

from tomcore.errors import ValidationError

SNR_LIMIT = 3.0
REQUIRED = ("MJD", "m", "dm", "uJy", "duJy", "F")


def read_atlas(stream: IO[bytes], *, name: str) -> dict[str, list[Any]]:
    text = stream.read().decode("utf-8", "replace")
    lines = text.splitlines()
    header_line = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_line is None:
        raise ValidationError("empty file", {"line 1": ["no ATLAS header (###MJD m dm uJy duJy F ...)"]})
    header = lines[header_line].lstrip("#").split()
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError("not ATLAS forced photometry",
                              {f"line {header_line + 1}": [f"missing columns: {', '.join(missing)}"]})
    index = {column: i for i, column in enumerate(header)}
    columns: dict[str, list[Any]] = {k: [] for k in ("time", "band", "mag", "mag_err", "flux", "flux_err",
                                                      "flux_unit", "limit", "telescope", "instrument", "extra")}
    errors: dict[str, list[str]] = {}
    for number, line in enumerate(lines[header_line + 1:], start=header_line + 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split()
        if len(fields) < len(header):
            errors[f"line {number}"] = [f"{len(fields)} fields, the header has {len(header)}"]
            if len(errors) >= 10:
                break
            continue
        try:
            mjd, mag, dmag = (float(fields[index[c]]) for c in ("MJD", "m", "dm"))
            flux, dflux = float(fields[index["uJy"]]), float(fields[index["duJy"]])
        except ValueError as exc:
            errors[f"line {number}"] = [f"not a number ({exc})"]
            if len(errors) >= 10:
                break
            continue
        obs = fields[index["Obs"]] if "Obs" in index else None
        extra: dict[str, Any] = {"obs": obs} if obs else {}
        if "err" in index:
            extra["err"] = fields[index["err"]]
        snr = flux / dflux if dflux > 0 else 0.0
        columns["time"].append(mjd)
        columns["band"].append(fields[index["F"]])
        columns["telescope"].append("ATLAS")
        columns["instrument"].append(obs[:3] if obs else None)
        if snr > SNR_LIMIT:
            columns["mag"].append(mag)
            columns["mag_err"].append(dmag)
            columns["flux"].append(flux)
            columns["flux_err"].append(dflux)
            columns["flux_unit"].append("uJy")
            columns["limit"].append(None)
        else:
            columns["mag"].append(None)
            columns["mag_err"].append(None)
            columns["flux"].append(None)
            columns["flux_err"].append(None)
            columns["flux_unit"].append(None)
            columns["limit"].append(23.9 - 2.5 * math.log10(SNR_LIMIT * dflux) if dflux > 0 else None)
            extra.update(uJy=flux, duJy=dflux)
        columns["extra"].append(json.dumps(extra) if extra else None)
    if errors:
        raise ValidationError("bad rows", errors)
    return columns
