"""Data as the core and plugins exchange it: photometry, spectra, other reduced values, and
data products (files in storage).

A photometry point is unique by (target, source, band, time): writing the same point twice
adds nothing. ``time`` is always MJD (UTC); magnitudes are AB or Vega as the source gives
them; an upper limit has ``limit`` set and no ``mag``.

Photometry moves in two shapes: :class:`PhotometryPoint` objects (a broker's light curve, a
plugin's hook) and columns (a processor's million-point file, an export). Columns are a
``pyarrow.Table`` with :data:`PHOTOMETRY_COLUMNS`; :func:`tomcore.services.photometry.as_table`
turns either shape into that table. Nothing here imports numpy or pyarrow at module level.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, overload

import attrs

PHOTOMETRY = "photometry"
SPECTROSCOPY = "spectroscopy"
IMAGE = "image"
FITS = "fits"
OTHER = "other"
#: The built-in data product types; processors may add more (``tom data types`` lists all).
DATA_TYPES = (PHOTOMETRY, SPECTROSCOPY, IMAGE, FITS, OTHER)

#: Where a data product came from.
UPLOAD = "upload"
FACILITY = "facility"
BROKER = "broker"
PROVENANCES = (UPLOAD, FACILITY, BROKER)

#: Status of a data product: stored (no processing asked or available), processed, failed.
STORED = "stored"
PROCESSED = "processed"
FAILED = "failed"
STATUSES = (STORED, PROCESSED, FAILED)

#: The columns of photometry in columnar form (a ``pyarrow.Table``), in this order.
#: ``target_id`` is added when a table holds several targets.
PHOTOMETRY_COLUMNS = ("time", "band", "mag", "mag_err", "flux", "flux_err", "flux_unit", "limit",
                      "telescope", "instrument", "source", "source_id")


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


class PointsView(Sequence[PhotometryPoint]):
    """A read-only sequence of :class:`PhotometryPoint` backed by columns.

    Events about a million uploaded points hand plugins one of these instead of a million
    objects: indexing or iterating makes points on the fly (10,000 at a time), and ``table``
    gives the columns (a ``pyarrow.Table`` with :data:`PHOTOMETRY_COLUMNS`) to code that
    wants them. ``rows`` (row numbers of ``table``, a numpy array) shows only those rows, in
    that order, without copying them; ``table`` then copies them out when asked for.
    """

    def __init__(self, table: Any, rows: Any = None) -> None:
        self._table = table
        self._rows = rows

    @property
    def table(self) -> Any:
        """The points as columns (made on each access when the view shows some rows only)."""
        if self._rows is None:
            return self._table
        import pyarrow as pa

        return self._table.take(pa.array(self._rows))

    def __len__(self) -> int:
        return int(self._table.num_rows if self._rows is None else len(self._rows))

    @overload
    def __getitem__(self, index: int) -> PhotometryPoint: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[PhotometryPoint]: ...

    def __getitem__(self, index: int | slice) -> PhotometryPoint | Sequence[PhotometryPoint]:
        if isinstance(index, slice):  # another view, of the rows sliced
            import numpy as np

            rows = np.arange(len(self))[index] if self._rows is None else self._rows[index]
            return PointsView(self._table, rows)
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        row = index if self._rows is None else int(self._rows[index])
        return _point(self._table.slice(row, 1).to_pylist()[0])

    def __iter__(self) -> Iterator[PhotometryPoint]:
        step = 10_000
        if self._rows is None:
            batches = self._table.to_batches(max_chunksize=step)
        else:
            import pyarrow as pa

            batches = (self._table.take(pa.array(self._rows[start:start + step]))
                       for start in range(0, len(self._rows), step))
        for batch in batches:
            for row in batch.to_pylist():
                yield _point(row)

    def __repr__(self) -> str:
        return f"<PointsView of {len(self)} points>"


def _point(row: Mapping[str, Any]) -> PhotometryPoint:
    extra = row.get("extra")
    if isinstance(extra, str):
        import json

        extra = json.loads(extra)
    return PhotometryPoint(
        time=row["time"], band=row["band"], mag=row.get("mag"), mag_err=row.get("mag_err"), flux=row.get("flux"),
        flux_err=row.get("flux_err"), flux_unit=row.get("flux_unit"), limit=row.get("limit"),
        telescope=row.get("telescope"), instrument=row.get("instrument"), source=row.get("source") or "",
        source_id=row.get("source_id"), extra=extra,
    )


@attrs.define(kw_only=True, eq=False)
class Spectrum:
    """One spectrum: wavelength, flux and (optionally) error arrays with their units.

    :param wavelength, flux, flux_err: equal-length sequences (numpy arrays once read back).
    :param wavelength_unit, flux_unit: astropy unit strings (``Angstrom``,
        ``erg / (Angstrom s cm2)``, ``nm``, ``mJy``...).
    :param time: MJD (UTC) of the observation.
    :param source: who made it (``upload``, ``lco``...).
    :param id, target_id, data_product_id: set when read back from the database.
    """

    wavelength: Any
    flux: Any
    flux_err: Any = None
    wavelength_unit: str = "Angstrom"
    flux_unit: str = "erg / (Angstrom s cm2)"
    time: float | None = None
    telescope: str | None = None
    instrument: str | None = None
    source: str = ""
    extra: dict[str, Any] | None = None
    id: int | None = None
    target_id: int | None = None
    data_product_id: int | None = None

    def __len__(self) -> int:
        return len(self.wavelength)


@attrs.define(kw_only=True)
class ReducedValue:
    """Any other reduced value of a target: a redshift, a period, a classification score,
    a colour... ``kind`` names it; ``value``/``error``/``unit`` hold a number and ``data``
    anything JSON can hold.

    :param time: MJD (UTC) the value refers to, if any.
    """

    kind: str
    value: float | None = None
    error: float | None = None
    unit: str | None = None
    time: float | None = None
    data: Any = None
    telescope: str | None = None
    instrument: str | None = None
    source: str = ""
    id: int | None = None
    target_id: int | None = None
    data_product_id: int | None = None


@attrs.define(kw_only=True)
class DataProductInfo:
    """A stored file: what ``on_data_product_saved`` receives and ``tom data list`` shows.

    :param url: where the file is, as an fsspec URL (``/home/tom/data/sn2024abc/lco/f.fits``,
        ``s3://bucket/prefix/sn2024abc/lco/f.fits``); ``storage`` and ``path`` are its
        storage's URL and the path inside it.
    :param checksum: SHA-256 of the content (hex); ``md5`` the MD5 (hex), as archives and
        S3 give them.
    :param provenance: ``upload`` (by hand), ``facility`` or ``broker``; ``source`` which one
        (``lco``, ``alerce``).
    :param product_id: the facility's id of the file (an archive frame id), if any.
    :param status: ``processed``, ``failed`` (``error`` says why, naming file and line) or
        ``stored`` (no processing asked for or available).
    :param reduced: rows of reduced data the last processing wrote, by kind.
    :param existing: True when :meth:`tomcore.services.data.DataService.store` found the
        file already stored and added nothing.
    """

    id: int
    target_id: int
    target_name: str
    data_type: str
    url: str
    original_name: str
    storage: str = ""
    path: str = ""
    size: int | None = None
    checksum: str | None = None
    md5: str | None = None
    provenance: str = UPLOAD
    source: str | None = None
    observation_id: int | None = None
    product_id: str | None = None
    status: str = STORED
    error: str | None = None
    processor: str | None = None
    metadata: dict[str, Any] = attrs.Factory(dict)
    reduced: dict[str, int] = attrs.Factory(dict)
    created: datetime | None = None
    processed: datetime | None = None
    existing: bool = False

    @property
    def name(self) -> str:
        """The file's name in storage."""
        return self.path.rsplit("/", 1)[-1] if self.path else self.original_name


@attrs.define(kw_only=True)
class ReducedDataBatch:
    """What one write of reduced data added, for ``on_reduced_data_saved``.

    :param kind: ``photometry``, ``spectroscopy`` or another reduced-value kind (``values``).
    :param counts: new rows per target id.
    :param target_names: target id to name, for the targets in ``counts``.
    :param source: where the data came from (a broker, ``upload``, a facility).
    :param data_product_id: the file it was read from, if any.
    :param query_name: the saved broker query that brought it, if any.
    :param photometry: the new photometry points by target id (``kind == "photometry"``);
        a plain list or a :class:`PointsView` (columns in ``.table``) for big batches.
    :param spectra: the new spectra by target id (``kind == "spectroscopy"``).
    :param values: the new reduced values by target id (``kind == "values"``).
    """

    kind: str
    counts: Mapping[int, int]
    target_names: Mapping[int, str]
    source: str | None = None
    data_product_id: int | None = None
    query_name: str | None = None
    photometry: Mapping[int, Sequence[PhotometryPoint]] = attrs.Factory(dict)
    spectra: Mapping[int, Sequence[Spectrum]] = attrs.Factory(dict)
    values: Mapping[int, Sequence[ReducedValue]] = attrs.Factory(dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
