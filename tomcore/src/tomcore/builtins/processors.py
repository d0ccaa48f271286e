"""The built-in data processors.

- ``photometry``: light curves in CSV, TSV, ECSV or whitespace-separated text with the TOM
  Toolkit's columns (``time`` in MJD, ``filter``, ``magnitude``, ``error``, ``limit``,
  ``telescope``, ``instrument``, ``source``; ISO dates and JD accepted too).
- ``atlas``: ATLAS forced photometry (``###MJD m dm uJy duJy F ...``).
- ``panstarrs``: Pan-STARRS1 mean-object photometry (MAST CSV: ``epochMean``,
  ``gMeanPSFMag``, ``gMeanPSFMagErr``... for g, r, i, z, y).
- ``spectrum-ascii``: spectra as text (wavelength, flux, optional error; ``# DATE-OBS:``
  and other ``# KEY: value`` header comments).
- ``spectrum-fits``: 1-D FITS spectra (wavelength from the WCS) and FITS tables with
  wavelength and flux columns.
- ``fits-header``: FITS images and frames: no reduced data, but the header's facts
  (``DATE-OBS``, ``OBJECT``, ``FILTER``, ``EXPTIME``...) are kept on the product.

This module stays cheap to import (every ``tom`` command loads it); the readers live in
``tomcore.builtins.readers`` and import numpy, pyarrow and astropy only when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from tomcore import hookimpl
from tomcore.contracts.processors import DataProcessor, ProcessedData
from tomcore.domain.data import FITS, IMAGE, PHOTOMETRY, SPECTROSCOPY

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fits.fz", ".fz")


def _is_fits(head: bytes) -> bool:
    return head.startswith(b"SIMPLE  =")


class PhotometryProcessor(DataProcessor):
    """Light curves in CSV, TSV, ECSV or whitespace-separated text."""

    name = "photometry"
    title = "Photometry table"
    description = "CSV/TSV/ECSV/text light curves: time (MJD, JD or ISO), filter, magnitude, error, limit..."
    data_types = (PHOTOMETRY,)
    suffixes = (".csv", ".tsv", ".ecsv", ".txt", ".dat", ".tbl", ".ascii")

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        return data_type in self.data_types and not _is_fits(head) and (
            name.lower().endswith(self.suffixes) or b"\x00" not in head[:4096])

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        from tomcore.builtins.readers.photometry import read_photometry

        return ProcessedData(photometry=read_photometry(stream, name=name))


class AtlasProcessor(DataProcessor):
    """ATLAS forced photometry as the ATLAS server returns it."""

    name = "atlas"
    title = "ATLAS forced photometry"
    description = "ATLAS forced photometry (###MJD m dm uJy duJy F err chi/N RA Dec ...)."
    data_types = (PHOTOMETRY,)

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        first = head.lstrip().split(b"\n", 1)[0].lstrip(b"#").split()
        return data_type in self.data_types and len(first) >= 6 and first[0] == b"MJD" and b"uJy" in first \
            and b"duJy" in first

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        from tomcore.builtins.readers.atlas import read_atlas

        return ProcessedData(photometry=read_atlas(stream, name=name))


class PanstarrsProcessor(DataProcessor):
    """Pan-STARRS1 mean-object photometry, as a MAST PS1 catalogue search returns it."""

    name = "panstarrs"
    title = "Pan-STARRS1 mean photometry"
    description = "Pan-STARRS1 mean-object CSV (MAST): epochMean, gMeanPSFMag, gMeanPSFMagErr... for grizy."
    data_types = (PHOTOMETRY,)

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        from tomcore.builtins.readers.panstarrs import is_panstarrs

        return data_type in self.data_types and is_panstarrs(head)

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        from tomcore.builtins.readers.panstarrs import read_panstarrs

        return ProcessedData(photometry=read_panstarrs(stream, name=name))


class AsciiSpectrumProcessor(DataProcessor):
    """Spectra as text: wavelength, flux and an optional error per line."""

    name = "spectrum-ascii"
    title = "Text spectrum"
    description = "Text spectra: wavelength, flux[, error] columns; '# DATE-OBS: ...' header comments."
    data_types = (SPECTROSCOPY,)
    suffixes = (".txt", ".dat", ".ascii", ".asc", ".csv", ".spec", ".flm", ".tsv")

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        return super().accepts(name, data_type, head) and not _is_fits(head)

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        from tomcore.builtins.readers.spectra import read_ascii_spectrum

        spectrum, metadata = read_ascii_spectrum(stream, name=name)
        return ProcessedData(spectra=[spectrum], metadata=metadata)


class FitsSpectrumProcessor(DataProcessor):
    """1-D FITS spectra (wavelength from the WCS) and FITS tables of wavelength and flux."""

    name = "spectrum-fits"
    title = "FITS spectrum"
    description = "1-D FITS spectra (wavelength from the WCS) and FITS tables with wavelength/flux columns."
    data_types = (SPECTROSCOPY,)
    suffixes = FITS_SUFFIXES

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        return data_type in self.data_types and (name.lower().endswith(self.suffixes) or _is_fits(head))

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        from tomcore.builtins.readers.spectra import read_fits_spectrum

        spectrum, metadata = read_fits_spectrum(stream, name=name)
        return ProcessedData(spectra=[spectrum], metadata=metadata)


class FitsHeaderProcessor(DataProcessor):
    """FITS frames and images: keeps the header's facts on the product."""

    name = "fits-header"
    title = "FITS header"
    description = "FITS frames: DATE-OBS, OBJECT, FILTER, EXPTIME... kept on the data product."
    data_types = (FITS, IMAGE)
    suffixes = FITS_SUFFIXES

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        return data_type in self.data_types and (name.lower().endswith(self.suffixes) or _is_fits(head))

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        from tomcore.builtins.readers.spectra import read_fits_header

        return ProcessedData(metadata=read_fits_header(stream, name=name))


@hookimpl
def register_data_processors(register: Callable[[Any], None]) -> None:
    for processor in (PhotometryProcessor(), AtlasProcessor(), PanstarrsProcessor(), AsciiSpectrumProcessor(),
                      FitsSpectrumProcessor(), FitsHeaderProcessor()):
        register(processor)
