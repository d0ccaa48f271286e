"""Reading spectra (text and FITS) and the facts of FITS headers.

Text spectra have two or three columns (wavelength, flux, optional error) separated by
spaces, tabs or commas, an optional header line naming them, and ``# KEY: value`` (or
``# KEY = value``) comments: ``DATE-OBS`` (or ``MJD-OBS``/``MJD``/``JD``) is required,
``TELESCOPE``, ``INSTRUMENT``, ``FACILITY``, ``WAVELENGTH_UNIT`` and ``FLUX_UNIT`` are used
when present. Units default to Angstrom and erg / (Angstrom s cm2), as in the TOM Toolkit.

FITS spectra are either a 1-D image (the first HDU with data; 2-D and 3-D data are reduced
to their first row, as IRAF multispec files hold the spectrum there) whose wavelengths
come from the WCS (``CRVAL1``, ``CDELT1``/``CD1_1``, ``CRPIX1``, ``CUNIT1``; log-linear
with ``DC-FLAG = 1``), or a table with wavelength and flux columns.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from typing import IO, Any

from tomcore.domain.data import Spectrum
from tomcore.errors import ValidationError

DEFAULT_WAVELENGTH_UNIT = "Angstrom"
DEFAULT_FLUX_UNIT = "erg / (Angstrom s cm2)"
_COMMENT = re.compile(r"^\s*#\s*([A-Za-z][A-Za-z0-9_\- ]*?)\s*[:=]\s*(.*?)\s*$")
_MJD_EPOCH = datetime(1858, 11, 17, tzinfo=UTC)
HEADER_FACTS = ("DATE-OBS", "MJD-OBS", "OBJECT", "FILTER", "EXPTIME", "TELESCOP", "INSTRUME", "SITEID", "RA", "DEC",
                "AIRMASS", "RLEVEL", "PROPID", "REQNUM", "OBSTYPE", "BUNIT", "NAXIS1", "NAXIS2")


def mjd_of(text: str) -> float:
    """MJD of an ISO 8601 time (UTC unless it says otherwise)."""
    value = text.strip().strip("'\"")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (moment - _MJD_EPOCH).total_seconds() / 86400.0


def _unit(text: str | None, default: str, where: str) -> str:
    from astropy import units as u

    if not text:
        return default
    cleaned = text.strip().strip("'\"")
    aliases = {"a": "Angstrom", "aa": "Angstrom", "ang": "Angstrom", "angstroms": "Angstrom", "flam": DEFAULT_FLUX_UNIT}
    cleaned = aliases.get(cleaned.lower(), cleaned)
    try:
        with warnings.catch_warnings():  # 'erg/cm2/s/Angstrom' (the usual BUNIT) is "discouraged", not wrong
            warnings.simplefilter("ignore", u.UnitsWarning)
            return str(u.Unit(cleaned, parse_strict="raise").to_string())
    except (ValueError, TypeError):
        raise ValidationError("unknown unit", {where: [f"{text!r} is not a unit astropy knows"]}) from None


def _time(headers: dict[str, str], where: str) -> float:
    upper = {k.upper().replace("_", "-").replace(" ", "-"): v for k, v in headers.items()}
    try:
        for key in ("MJD-OBS", "MJD"):
            if key in upper:
                return float(upper[key])
        if "JD" in upper:
            return float(upper["JD"]) - 2400000.5
        for key in ("DATE-OBS", "DATE", "UTC"):
            if key in upper:
                return mjd_of(upper[key])
    except ValueError as exc:
        raise ValidationError("bad time", {where: [f"cannot read the observation time: {exc}"]}) from None
    raise ValidationError("no observation time", {where: [
        "no DATE-OBS (or MJD-OBS) header; add a comment like `# DATE-OBS: 2024-05-01T03:04:05`"]})


def read_ascii_spectrum(stream: IO[bytes], *, name: str) -> tuple[Spectrum, dict[str, Any]]:
    import numpy as np

    text = stream.read().decode("utf-8", "replace")
    headers: dict[str, str] = {}
    rows: list[tuple[float, ...]] = []
    errors: dict[str, list[str]] = {}
    width: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            match = _COMMENT.match(stripped)
            if match:
                headers[match.group(1).strip()] = match.group(2)
            continue
        fields = [f for f in re.split(r"[,\s]+", stripped) if f]
        try:
            values = tuple(float(f) for f in fields)
        except ValueError:
            if not rows and width is None and any(f.lower().startswith(("wave", "lam", "flux")) for f in fields):
                continue  # a header line naming the columns
            errors[f"line {number}"] = [f"{stripped[:60]!r} is not numbers"]
            if len(errors) >= 10:
                break
            continue
        if width is None:
            width = len(values)
            if width < 2:
                errors[f"line {number}"] = ["need at least wavelength and flux columns"]
                break
        if len(values) != width:
            errors[f"line {number}"] = [f"{len(values)} columns, earlier lines have {width}"]
            if len(errors) >= 10:
                break
            continue
        rows.append(values)
    if errors:
        raise ValidationError("bad lines", errors)
    if not rows:
        raise ValidationError("no data", {"file": ["no wavelength/flux lines"]})
    data = np.asarray(rows, dtype="float64")
    keys = {k.upper().replace("_", "-").replace(" ", "-"): v for k, v in headers.items()}
    spectrum = Spectrum(
        wavelength=data[:, 0], flux=data[:, 1], flux_err=data[:, 2] if data.shape[1] > 2 else None,
        wavelength_unit=_unit(keys.get("WAVELENGTH-UNIT") or keys.get("WAVE-UNIT") or keys.get("WAVELENGTH-UNITS"),
                              DEFAULT_WAVELENGTH_UNIT, "header WAVELENGTH_UNIT"),
        flux_unit=_unit(keys.get("FLUX-UNIT") or keys.get("FLUX-UNITS") or keys.get("BUNIT"), DEFAULT_FLUX_UNIT,
                        "header FLUX_UNIT"),
        time=_time(headers, "header DATE-OBS"),
        telescope=(keys.get("TELESCOPE") or keys.get("TELESCOP") or keys.get("FACILITY") or None),
        instrument=(keys.get("INSTRUMENT") or keys.get("INSTRUME") or None),
    )
    return spectrum, {k: v for k, v in headers.items() if len(v) < 200}


def _open_fits(stream: IO[bytes], name: str) -> Any:
    from astropy.io import fits

    try:
        return fits.open(stream, memmap=False, lazy_load_hdus=True)
    except Exception as exc:
        raise ValidationError("not a FITS file", {"file": [f"{type(exc).__name__}: {exc}"]}) from None


def _facts(header: Any) -> dict[str, Any]:
    facts = {}
    for key in HEADER_FACTS:
        if key in header:
            value = header[key]
            if isinstance(value, (str, int, float, bool)):
                facts[key] = value
    return facts


def read_fits_header(stream: IO[bytes], *, name: str) -> dict[str, Any]:
    with _open_fits(stream, name) as hdus:
        facts: dict[str, Any] = {}
        for hdu in hdus[:3]:  # primary, then the first extensions (a compressed frame's SCI)
            for key, value in _facts(hdu.header).items():
                facts.setdefault(key, value)
    return facts


_WAVE_NAMES = ("wavelength", "wave", "lambda", "lam", "loglam")
_FLUX_NAMES = ("flux", "flux_density", "fluxdensity", "spec")
_ERR_NAMES = ("flux_err", "error", "err", "sigma", "uncertainty", "flux_error", "ivar")


def read_fits_spectrum(stream: IO[bytes], *, name: str) -> tuple[Spectrum, dict[str, Any]]:
    import numpy as np

    with _open_fits(stream, name) as hdus:
        primary = hdus[0].header
        for index, hdu in enumerate(hdus):
            data = hdu.data
            if data is None:
                continue
            if hasattr(data, "columns"):
                spectrum = _from_table(hdu, primary, index)
                if spectrum is not None:
                    return spectrum, {**_facts(primary), **_facts(hdu.header)}
                continue
            array = np.asarray(data, dtype="float64")
            while array.ndim > 1:
                array = array[0]
            header = hdu.header
            error = _error_hdu(hdus, array.shape)
            wavelength, unit = _wcs_wavelength(header, len(array), f"HDU {index}")
            spectrum = Spectrum(
                wavelength=wavelength, flux=array, flux_err=error, wavelength_unit=unit,
                flux_unit=_unit(header.get("BUNIT") or primary.get("BUNIT"), DEFAULT_FLUX_UNIT, f"HDU {index} BUNIT"),
                time=_time(_time_headers(primary, header), "header DATE-OBS"),
                telescope=_text(header.get("TELESCOP") or primary.get("TELESCOP")),
                instrument=_text(header.get("INSTRUME") or primary.get("INSTRUME")),
            )
            return spectrum, {**_facts(primary), **_facts(header)}
    raise ValidationError("no spectrum", {"file": ["no HDU holds a 1-D spectrum or a wavelength/flux table"]})


def _time_headers(primary: Any, header: Any) -> dict[str, str]:
    found = {}
    for source in (primary, header):
        for key in ("DATE-OBS", "MJD-OBS"):
            if key in source and source[key] not in (None, ""):
                found[key] = str(source[key])
    return found


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _error_hdu(hdus: Any, shape: tuple[int, ...]) -> Any:
    import numpy as np

    for hdu in hdus[1:]:
        if str(hdu.name).upper() in ("ERR", "ERROR", "SIGMA", "UNCERT") and hdu.data is not None:
            error = np.asarray(hdu.data, dtype="float64")
            while error.ndim > 1:
                error = error[0]
            if error.shape == shape:
                return error
    return None


def _wcs_wavelength(header: Any, n: int, where: str) -> tuple[Any, str]:
    import numpy as np

    if "CRVAL1" not in header:
        raise ValidationError("no wavelength solution", {where: ["no CRVAL1 in the header (no spectral WCS)"]})
    start = float(header["CRVAL1"])
    step = float(header.get("CDELT1", header.get("CD1_1", 1.0)))
    reference = float(header.get("CRPIX1", 1.0))
    pixels = np.arange(1, n + 1, dtype="float64")
    wavelength = start + (pixels - reference) * step
    if int(header.get("DC-FLAG", 0) or 0) == 1 or "LOG" in str(header.get("CTYPE1", "")).upper():
        wavelength = 10.0 ** wavelength
    unit = header.get("CUNIT1") or header.get("WAT1_001", "")
    match = re.search(r"units=(\w+)", str(unit))
    unit = match.group(1) if match else unit
    return wavelength, _unit(str(unit) if unit else None, DEFAULT_WAVELENGTH_UNIT, f"{where} CUNIT1")


def _from_table(hdu: Any, primary: Any, index: int) -> Spectrum | None:
    import numpy as np

    names = {n.lower(): n for n in hdu.columns.names}
    wave = next((names[n] for n in _WAVE_NAMES if n in names), None)
    flux = next((names[n] for n in _FLUX_NAMES if n in names), None)
    if wave is None or flux is None:
        return None
    error_name = next((names[n] for n in _ERR_NAMES if n in names), None)
    wavelength = np.asarray(hdu.data[wave], dtype="float64").ravel()
    if wave.lower() == "loglam":
        wavelength = 10.0 ** wavelength
    error = None
    if error_name is not None:
        error = np.asarray(hdu.data[error_name], dtype="float64").ravel()
        if error_name.lower() == "ivar":
            with np.errstate(divide="ignore"):
                error = np.where(error > 0, 1.0 / np.sqrt(error), np.nan)
    columns = {c.name: c for c in hdu.columns}
    header = hdu.header
    return Spectrum(
        wavelength=wavelength, flux=np.asarray(hdu.data[flux], dtype="float64").ravel(), flux_err=error,
        wavelength_unit=_unit(columns[wave].unit, DEFAULT_WAVELENGTH_UNIT, f"HDU {index} column {wave} unit"),
        flux_unit=_unit(columns[flux].unit or primary.get("BUNIT"), DEFAULT_FLUX_UNIT, f"HDU {index} column {flux} unit"),
        time=_time(_time_headers(primary, header), "header DATE-OBS"),
        telescope=_text(header.get("TELESCOP") or primary.get("TELESCOP")),
        instrument=_text(header.get("INSTRUME") or primary.get("INSTRUME")),
    )
