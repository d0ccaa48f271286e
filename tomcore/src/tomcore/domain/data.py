"""Data as the core and plugins exchange it: photometry points, spectra, data products.

A photometry point is unique by (target, source, band, time): writing the same point twice
adds nothing. ``time`` is always MJD (UTC); magnitudes are AB or Vega as the source gives
them; an upper limit has ``limit`` set and no ``mag``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

PHOTOMETRY = "photometry"
SPECTROSCOPY = "spectroscopy"
IMAGE = "image"
FITS = "fits"
OTHER = "other"
DATA_TYPES = (PHOTOMETRY, SPECTROSCOPY, IMAGE, FITS, OTHER)


@attrs.define(slots=True, kw_only=True)
class PhotometryPoint:
    """One photometric measurement or upper limit.

    :param time: MJD (UTC).
    :param band: filter or band name as the source gives it (``g``, ``ztfr``, ``rp``, ``o``).
    :param mag, mag_err: magnitude and its error, for a detection.
    :param flux, flux_err, flux_unit: flux (e.g. ``uJy``), for sources that give flux.
    :param limit: limiting magnitude: for a non-detection (``mag`` is None) the upper limit.
    :param source: who measured it (``alerce``, ``antares``, ``upload``, ``lco``...); with
        target, band and time it identifies the point.
    :param source_id: the object's id at the source (``ZTF21abcdefg``).
    """

    time: float
    band: str
    mag: float | None = None
    mag_err: float | None = None
    flux: float | None = None
    flux_err: float | None = None
    flux_unit: str | None = None
    limit: float | None = None
    telescope: str | None = None
    instrument: str | None = None
    source: str = ""
    source_id: str | None = None
    extra: dict[str, Any] | None = None

    @property
    def is_limit(self) -> bool:
        return self.mag is None and self.flux is None and self.limit is not None


@attrs.define(kw_only=True)
class DataProductInfo:
    """A stored file: what ``on_data_product_saved`` receives and ``tom data list`` shows."""

    id: int
    target_id: int
    target_name: str
    data_type: str
    url: str
    original_name: str
    size: int | None = None
    checksum: str | None = None
    provenance: str = "upload"
    source: str | None = None
    observation_id: int | None = None
    status: str = "stored"
    error: str | None = None
    created: datetime | None = None


@attrs.define(kw_only=True)
class ReducedDataBatch:
    """What one write of reduced data added, for ``on_reduced_data_saved``.

    :param kind: ``photometry``, ``spectroscopy`` or another reduced-data kind.
    :param counts: new rows per target id.
    :param target_names: target id to name, for the targets in ``counts``.
    :param source: where the data came from (a broker, ``upload``, a facility).
    :param data_product_id: the file it was read from, if any.
    :param photometry: the new photometry points by target id (``kind == "photometry"``).
    """

    kind: str
    counts: Mapping[int, int]
    target_names: Mapping[int, str]
    source: str | None = None
    data_product_id: int | None = None
    query_name: str | None = None
    photometry: Mapping[int, Sequence[PhotometryPoint]] = attrs.Factory(dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
