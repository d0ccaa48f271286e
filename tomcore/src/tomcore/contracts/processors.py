"""The data processor contract: turn a stored file into reduced data."""

from __future__ import annotations

from typing import IO, Any, ClassVar

import attrs

from tomcore.contracts.base import Component


@attrs.define(kw_only=True)
class ProcessedData:
    """What a processor read from a file.

    :param photometry: columns of photometry (``time``, ``band``, ``mag``, ``mag_err``,
        ``limit``, ``telescope``...) as equal-length sequences, so that a million points
        move without a Python object each.
    :param spectra: spectra read (one dict per spectrum: ``wavelength``, ``flux``,
        ``flux_err``, units, ``time``...).
    :param values: other reduced values (``{"kind": ..., "time": ..., "value": ...}``).
    """

    photometry: dict[str, Any] | None = None
    spectra: list[dict[str, Any]] = attrs.Factory(list)
    values: list[dict[str, Any]] = attrs.Factory(list)


class DataProcessor(Component):
    """Base class of data processors."""

    #: The data types it handles (``("photometry",)``).
    data_types: ClassVar[tuple[str, ...]] = ()
    #: File name suffixes it reads (``(".csv", ".ecsv", ".txt")``); empty means any.
    suffixes: ClassVar[tuple[str, ...]] = ()

    def accepts(self, name: str, data_type: str, head: bytes) -> bool:
        """Whether it can read a file named ``name`` whose first bytes are ``head``."""
        return data_type in self.data_types and (not self.suffixes or name.lower().endswith(self.suffixes))

    def process(self, stream: IO[bytes], *, name: str, data_type: str) -> ProcessedData:
        """Read the file. Raise :class:`tomcore.errors.ValidationError` naming the line
        and column of the first problems; nothing is written when it raises."""
        raise NotImplementedError
