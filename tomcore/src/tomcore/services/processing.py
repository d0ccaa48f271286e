"""Processing: choosing a processor for a file, running it, and writing what it read.

:func:`choose` picks the processor of a data product (by data type, then by what the
processor accepts, third-party plugins before built-ins). :func:`run` reads the file and
normalises the result (photometry to columns, spectra to float arrays), outside any
transaction. :func:`write` stores the result in the caller's transaction and returns one
:class:`ReducedDataBatch` per kind for ``on_reduced_data_saved``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.contracts.processors import ProcessedData
from tomcore.domain.data import PHOTOMETRY, SPECTROSCOPY, PointsView, ReducedDataBatch, ReducedValue, Spectrum
from tomcore.errors import TomError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.contracts.processors import DataProcessor
    from tomcore.services.storage import Store

VALUES = "values"
HEAD_BYTES = 65536


class ProcessingError(TomError):
    """A file could not be processed; the message names the file (and line and column)."""


def candidates_for(tom: Tom, data_type: str) -> list[DataProcessor]:
    """The processors of a data type, in the order they are asked (plugins, then built-ins)."""
    builtin = tom.plugins.builtin_names
    candidates = [p for p in tom.components.data_processors if data_type in p.data_types]
    return sorted(candidates, key=lambda p: (p.plugin_name in builtin, p.name))


def choose(tom: Tom, name: str, data_type: str, head: bytes) -> DataProcessor | None:
    """The processor for a file, or None when no processor handles its data type.

    Raises :class:`ProcessingError` when processors exist for the type but none reads this
    kind of file.
    """
    candidates = candidates_for(tom, data_type)
    if not candidates:
        return None
    for processor in candidates:
        if processor.accepts(name, data_type, head):
            return processor
    suffixes = sorted({s for p in candidates for s in p.suffixes})
    raise ProcessingError(f"{name}: no {data_type} processor reads this file"
                          + (f" (they read {', '.join(suffixes)})" if suffixes else ""))


@attrs.define
class Result:
    """A processor's output, normalised: photometry as an Arrow table (no target yet)."""

    processor: str
    photometry: Any = None
    spectra: list[Spectrum] = attrs.Factory(list)
    values: list[ReducedValue] = attrs.Factory(list)
    metadata: dict[str, Any] = attrs.Factory(dict)


def run(processor: DataProcessor, store: Store, key: str, *, name: str, data_type: str,
        source: str) -> Result:
    """Read a stored file with ``processor``; :class:`ProcessingError` names file and line."""
    from tomcore.services.photometry import as_table

    try:
        with store.open(key) as stream:
            processed = processor.process(stream, name=name, data_type=data_type)
    except ValidationError as exc:
        raise ProcessingError(f"{name}: {exc}") from exc
    except TomError as exc:
        raise ProcessingError(f"{name}: {exc}") from exc
    except Exception as exc:
        raise ProcessingError(f"{name}: the {processor.name} processor failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(processed, ProcessedData):
        raise ProcessingError(f"{name}: the {processor.name} processor returned {type(processed).__name__}, "
                              "not ProcessedData")
    result = Result(processor.name, metadata=dict(processed.metadata))
    if processed.photometry is not None:
        try:
            result.photometry = as_table(processed.photometry, default_source=source)
        except (ValueError, TypeError) as exc:
            raise ProcessingError(f"{name}: the {processor.name} processor returned bad photometry: {exc}") from exc
    for spectrum in processed.spectra:
        result.spectra.append(_checked_spectrum(spectrum, name, source))
    for value in processed.values:
        if not value.source:
            value = attrs.evolve(value, source=source)
        result.values.append(value)
    return result


def _checked_spectrum(spectrum: Spectrum, name: str, source: str) -> Spectrum:
    import numpy as np

    wavelength = np.asarray(spectrum.wavelength, dtype="float64")
    flux = np.asarray(spectrum.flux, dtype="float64")
    error = None if spectrum.flux_err is None else np.asarray(spectrum.flux_err, dtype="float64")
    if wavelength.ndim != 1 or flux.shape != wavelength.shape or (error is not None and error.shape != wavelength.shape):
        raise ProcessingError(f"{name}: a spectrum needs 1-D wavelength, flux (and error) arrays of one length; "
                              f"got {wavelength.shape}, {flux.shape}" + ("" if error is None else f", {error.shape}"))
    if not len(wavelength):
        raise ProcessingError(f"{name}: the spectrum has no points")
    return attrs.evolve(spectrum, wavelength=wavelength, flux=flux, flux_err=error, source=spectrum.source or source)


# -- writing ------------------------------------------------------------------------------------


def _blob(array: Any) -> bytes | None:
    import numpy as np

    return None if array is None else np.ascontiguousarray(array, dtype="<f8").tobytes()


def spectrum_digest(wavelength_unit: str, flux_unit: str, wavelength: bytes | None, flux: bytes | None,
                    flux_err: bytes | None) -> str:
    """What makes a spectrum the same one: SHA-256 (hex) of its units and float64 arrays."""
    import hashlib

    digest = hashlib.sha256()
    for part in (wavelength_unit.encode(), flux_unit.encode(), wavelength, flux, flux_err):
        digest.update(len(part or b"").to_bytes(8, "little") if part is not None else b"none")
        digest.update(part or b"")
    return digest.hexdigest()


def value_digest(row: dict[str, Any]) -> str:
    """What makes a reduced value the same one: SHA-256 (hex) of its kind, source, time,
    value, error, unit, telescope, instrument and data."""
    import hashlib
    import json

    fields = [row.get(k) for k in ("kind", "source", "time", "value", "error", "unit", "telescope", "instrument")]
    return hashlib.sha256(json.dumps([*fields, row.get("data")], sort_keys=True, default=str).encode()).hexdigest()


def _finite(value: Any) -> Any:
    import math

    return value if not isinstance(value, float) or math.isfinite(value) else None


def write(session: Session, *, target_id: int, target_name: str, product_id: int | None, result: Result,
          source: str, now: datetime, previous_keys: set[tuple[str, str, float]] | None = None,
          previous_digests: set[str] | None = None) -> tuple[dict[str, int], list[ReducedDataBatch]]:
    """Store a processing result for one target in the caller's transaction.

    Returns the rows written per kind and the batches for ``on_reduced_data_saved``;
    ``previous_keys`` (band, source, time) are points this product had before a reprocess,
    left out of the event as not new, as are spectra and values whose digest is in
    ``previous_digests``.
    """
    import numpy as np
    import pyarrow as pa
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from tomcore.services.photometry import insert_rows
    from tomcore.store.models import ReducedValueRow, SpectrumRow

    counts: dict[str, int] = {}
    batches: list[ReducedDataBatch] = []
    names = {target_id: target_name}
    dialect = session.get_bind().dialect.name
    if result.photometry is not None and result.photometry.num_rows:
        table = result.photometry.set_column(0, "target_id", pa.array(np.full(result.photometry.num_rows, target_id,
                                                                               dtype="int64")))
        # written a chunk at a time; the event's points are a view of the rows added (their
        # row numbers), not a copy of them
        rows = insert_rows(session, table, data_product_id=product_id, now=now)
        counts[PHOTOMETRY] = len(rows)
        if previous_keys and len(rows):
            rows = _not_previous(table, rows, previous_keys)
        if len(rows):
            batches.append(ReducedDataBatch(kind=PHOTOMETRY, counts={target_id: len(rows)}, target_names=names,
                                            source=source, data_product_id=product_id,
                                            photometry={target_id: PointsView(table, rows)}))
    if result.spectra:
        saved: list[Spectrum] = []
        fresh: list[Spectrum] = []  # saved, less those this product had before a reprocess
        for spectrum in result.spectra:
            blobs = _blob(spectrum.wavelength), _blob(spectrum.flux), _blob(spectrum.flux_err)
            row = dict(
                target_id=target_id, time=_finite(spectrum.time), telescope=spectrum.telescope,
                instrument=spectrum.instrument, source=spectrum.source or source, n_points=len(spectrum.wavelength),
                wavelength_min=float(np.nanmin(spectrum.wavelength)), wavelength_max=float(np.nanmax(spectrum.wavelength)),
                wavelength_unit=spectrum.wavelength_unit, flux_unit=spectrum.flux_unit,
                wavelength=blobs[0], flux=blobs[1], flux_err=blobs[2],
                digest=spectrum_digest(spectrum.wavelength_unit, spectrum.flux_unit, *blobs),
                data_product_id=product_id, created=now, extra=spectrum.extra,
            )
            # The same spectrum (same arrays and units) for this target is stored once, like
            # a photometry point: a repeat, in another file or through the API, adds nothing.
            insert = (sqlite_insert if dialect == "sqlite" else pg_insert)(SpectrumRow).values(**row)
            new_id = session.execute(insert.on_conflict_do_nothing(index_elements=["target_id", "digest"])
                                     .returning(SpectrumRow.id)).scalar()
            if new_id is not None:
                saved.append(attrs.evolve(spectrum, id=new_id, target_id=target_id, data_product_id=product_id))
                if row["digest"] not in (previous_digests or ()):
                    fresh.append(saved[-1])
        counts[SPECTROSCOPY] = len(saved)
        if fresh:
            batches.append(ReducedDataBatch(kind=SPECTROSCOPY, counts={target_id: len(fresh)}, target_names=names,
                                            source=source, data_product_id=product_id, spectra={target_id: fresh}))
    if result.values:
        saved_values: list[ReducedValue] = []
        fresh_values: list[ReducedValue] = []
        for value in result.values:
            value_row = dict(
                target_id=target_id, kind=value.kind, time=_finite(value.time), value=_finite(value.value),
                error=_finite(value.error), unit=value.unit, data=value.data, telescope=value.telescope,
                instrument=value.instrument, source=value.source or source, data_product_id=product_id, created=now,
            )
            value_row["digest"] = value_digest(value_row)
            insert = (sqlite_insert if dialect == "sqlite" else pg_insert)(ReducedValueRow).values(**value_row)
            new_id = session.execute(insert.on_conflict_do_nothing(index_elements=["target_id", "digest"])
                                     .returning(ReducedValueRow.id)).scalar()
            if new_id is not None:
                saved_values.append(attrs.evolve(value, id=new_id, target_id=target_id, data_product_id=product_id))
                if value_row["digest"] not in (previous_digests or ()):
                    fresh_values.append(saved_values[-1])
        counts[VALUES] = len(saved_values)
        if fresh_values:
            batches.append(ReducedDataBatch(kind=VALUES, counts={target_id: len(fresh_values)}, target_names=names,
                                            source=source, data_product_id=product_id,
                                            values={target_id: fresh_values}))
    return counts, batches


def _not_previous(table: Any, rows: Any, previous_keys: set[tuple[str, str, float]]) -> Any:
    """The row numbers whose (band, source, time) is not in ``previous_keys`` (checked
    100,000 rows at a time)."""
    import numpy as np
    import pyarrow as pa

    kept = []
    for start in range(0, len(rows), 100_000):
        part = rows[start:start + 100_000]
        chunk = table.select(["band", "source", "time"]).take(pa.array(part))
        new = [(b, s, t) not in previous_keys for b, s, t in zip(
            chunk["band"].to_pylist(), chunk["source"].to_pylist(), chunk["time"].to_pylist(), strict=True)]
        kept.append(part[np.asarray(new, dtype=bool)])
    return np.concatenate(kept)


def previous_photometry(session: Session, product_id: int) -> set[tuple[str, str, float]]:
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow as P

    rows = session.execute(select(P.band, P.source, P.time).where(P.data_product_id == product_id))
    return {(str(band), str(source), float(time)) for band, source, time in rows}


def previous_digests(session: Session, product_id: int) -> set[str]:
    """The digests of the spectra and values a product has (before a reprocess)."""
    from sqlalchemy import select

    from tomcore.store.models import ReducedValueRow, SpectrumRow

    return {digest for model in (SpectrumRow, ReducedValueRow) for digest in session.execute(
        select(model.digest).where(model.data_product_id == product_id)).scalars()}


def delete_reduced(session: Session, product_id: int) -> None:
    """Delete everything processing this product wrote (before processing it again)."""
    from sqlalchemy import delete

    from tomcore.services.photometry import delete_of_product
    from tomcore.store.models import ReducedValueRow, SpectrumRow

    delete_of_product(session, product_id)
    session.execute(delete(SpectrumRow).where(SpectrumRow.data_product_id == product_id))
    session.execute(delete(ReducedValueRow).where(ReducedValueRow.data_product_id == product_id))


# -- reading ------------------------------------------------------------------------------------


def row_to_spectrum(row: Any) -> Spectrum:
    import numpy as np

    def array(blob: bytes | None) -> Any:
        return None if blob is None else np.frombuffer(blob, dtype="<f8")

    return Spectrum(
        wavelength=array(row.wavelength), flux=array(row.flux), flux_err=array(row.flux_err),
        wavelength_unit=row.wavelength_unit, flux_unit=row.flux_unit, time=row.time, telescope=row.telescope,
        instrument=row.instrument, source=row.source, extra=row.extra, id=row.id, target_id=row.target_id,
        data_product_id=row.data_product_id,
    )


def row_to_value(row: Any) -> ReducedValue:
    return ReducedValue(kind=row.kind, value=row.value, error=row.error, unit=row.unit, time=row.time, data=row.data,
                        telescope=row.telescope, instrument=row.instrument, source=row.source, id=row.id,
                        target_id=row.target_id, data_product_id=row.data_product_id)


def spectra_of(session: Session, target_id: int) -> list[Spectrum]:
    from sqlalchemy import select

    from tomcore.store.models import SpectrumRow

    query = select(SpectrumRow).where(SpectrumRow.target_id == target_id).order_by(SpectrumRow.time, SpectrumRow.id)
    return [row_to_spectrum(r) for r in session.execute(query).scalars()]


def values_of(session: Session, target_id: int, kinds: Sequence[str] | None = None) -> list[ReducedValue]:
    from sqlalchemy import select

    from tomcore.store.models import ReducedValueRow as V

    query = select(V).where(V.target_id == target_id)
    if kinds:
        query = query.where(V.kind.in_(list(kinds)))
    return [row_to_value(r) for r in session.execute(query.order_by(V.kind, V.time, V.id)).scalars()]
