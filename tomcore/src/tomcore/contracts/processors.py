"""The data processor contract: turn a stored file into reduced data.

The core picks a processor for a data product by its data type, then asks each candidate
(third-party plugins first, then the built-ins) whether it ``accepts`` the file, from its
name and first bytes. The chosen processor reads the file as a stream (it may live on S3:
never assume a local path) and returns :class:`ProcessedData`. The core writes it in the
same transaction as the product's record, or, when the processor raises, writes nothing but
the product, marked failed with the message (which names the file's line and column).

A processor that reads many points returns photometry as columns (a ``pyarrow.Table`` or a
mapping of equal-length sequences) so that a million points never become a million Python
objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, ClassVar

import attrs

from tomcore.contracts.base import Component
from tomcore.domain.data import PhotometryPoint, ReducedValue, Spectrum


@attrs.define(kw_only=True)
class ProcessedData:
    """What a processor read from a file.

    :param photometry: photometry as columns: a ``pyarrow.Table`` or a mapping of
        equal-length sequences with the names of :data:`tomcore.domain.data.PHOTOMETRY_COLUMNS`
        (``time`` in MJD and ``band`` required; missing numbers as None or NaN), or a list of
        :class:`PhotometryPoint`. Points without a ``source`` get the product's source.
    :param spectra: the spectra read.
    :param values: other reduced values.
    :param metadata: facts about the file worth keeping on the product (``DATE-OBS``,
        ``OBJECT``, exposure time...), JSON-serialisable.
    """

    photometry: Any = None
    spectra: list[Spectrum] = attrs.Factory(list)
    values: list[ReducedValue] = attrs.Factory(list)
    metadata: dict[str, Any] = attrs.Factory(dict)

    @property
    def empty(self) -> bool:
        return not self.spectra and not self.values and _length(self.photometry) == 0


def _length(photometry: Any) -> int:
    if photometry is None:
        return 0
    if hasattr(photometry, "num_rows"):
        return int(photometry.num_rows)
    if isinstance(photometry, Mapping):
        return max((len(v) for v in photometry.values()), default=0)
    return len(photometry)


class DataProcessor(Component):
    """Base class of data processors.

    Subclasses set ``name``, ``data_types`` (and usually ``suffixes``) and implement
    :meth:`process`. Raise :class:`tomcore.errors.ValidationError` for a file that cannot
    be read, with keys like ``"line 12, column time"``; the core prefixes the file name.
    """

    #: The data types it handles (``("photometry",)``). A type no built-in knows (say
    #: ``"astrometry"``) becomes a valid ``--type`` once a processor declares it.
    data_types: ClassVar[tuple[str, ...]] = ()
    #: File name suffixes it reads (``(".csv", ".ecsv", ".txt")``), lower case; empty: any.
    suffixes: ClassVar[tuple[str, ...]] = ()

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        """Whether it can read a file named ``name`` whose first bytes (up to 64 kB) are
        ``head``. The default checks the data type and the suffix."""
        return data_type in self.data_types and (not self.suffixes or name.lower().endswith(self.suffixes))

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        """Read the file from ``stream`` (binary, seekable). ``name`` is its original name."""
        raise NotImplementedError


__all__ = ["DataProcessor", "PhotometryPoint", "ProcessedData", "ReducedValue", "Spectrum"]
