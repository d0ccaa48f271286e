"""Data products and reduced data: ``tom.data``.

:meth:`DataService.store` is THE way a file enters the TOM (an upload by hand, a facility's
frame, a broker's cutout): it streams the content into storage (never whole in memory),
skips a file the target already has (same checksum), records the product, runs its
processor and saves the reduced data with the product's record in one transaction. When
processing fails, nothing of the reduced data is written; the file is kept and the product
is marked ``failed`` with the error (file, line, column), so :meth:`DataService.reprocess`
can run it again after a fix. Events (``on_data_product_saved``, ``on_reduced_data_saved``)
fire after commit; inside :meth:`DataService.collect` they fire once for the whole batch.
"""

from __future__ import annotations

import builtins
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.data import (
    DATA_TYPES,
    FAILED,
    FITS,
    IMAGE,
    PROCESSED,
    PROVENANCES,
    STORED,
    UPLOAD,
    DataProductInfo,
    ReducedDataBatch,
)
from tomcore.errors import NotFoundError, StorageError, TomError, ValidationError
from tomcore.services.data_products import ProductQueries, parse_checksum

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.domain.data import PhotometryPoint, ReducedValue, Spectrum
    from tomcore.services.storage import Store, Written
    from tomcore.store.models import DataProductRow

_GUESS = ((".fits", FITS), (".fit", FITS), (".fts", FITS), (".fits.fz", FITS), (".fits.gz", FITS), (".fz", FITS),
          (".png", IMAGE), (".jpg", IMAGE), (".jpeg", IMAGE), (".gif", IMAGE), (".tif", IMAGE), (".tiff", IMAGE))


@attrs.define
class UploadOutcome:
    """One file of an upload: its product (``status`` processed, stored or failed), or the
    error that kept it from being stored at all."""

    path: Path
    product: DataProductInfo | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.product is not None and self.product.status != FAILED


@attrs.define
class _Pending:
    products: list[DataProductInfo] = attrs.Factory(list)
    batches: list[ReducedDataBatch] = attrs.Factory(list)


def mjd_from(value: str | float) -> float:
    """MJD from an MJD, a JD (above 2,400,000) or an ISO 8601 date or time (UTC)."""
    from datetime import UTC, datetime

    try:
        number = float(value)
    except (TypeError, ValueError):
        pass
    else:
        return number - 2400000.5 if number > 2_400_000 else number
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("bad time", {"time": [f"{value!r} is not an MJD, a JD or an ISO 8601 date"]}) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (moment - datetime(1858, 11, 17, tzinfo=UTC)).total_seconds() / 86400.0


class DataService(ProductQueries):
    """Data products and reduced data of one TOM."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom
        self._pending: _Pending | None = None

    # -- types ---------------------------------------------------------------------------------

    def types(self) -> builtins.list[str]:
        """Every data type: the built-in ones, then those processors add."""
        extra = sorted({t for p in self.tom.components.data_processors for t in p.data_types} - set(DATA_TYPES))
        return [*DATA_TYPES, *extra]

    def check_type(self, data_type: str) -> str:
        value = (data_type or "").strip().lower()
        if value not in self.types():
            raise ValidationError("unknown data type", {"type": [f"{data_type!r} is not one of {', '.join(self.types())}"]})
        return value

    @staticmethod
    def guess_type(name: str) -> str | None:
        lower = name.lower()
        for suffix, data_type in _GUESS:
            if lower.endswith(suffix):
                return data_type
        return None

    # -- events --------------------------------------------------------------------------------

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Fire the events of everything stored inside the block once, at its end:
        ``on_data_product_saved`` with every product, then ``on_reduced_data_saved`` per
        batch. Committed work is announced even when the block raises."""
        if self._pending is not None:
            yield
            return
        self._pending = _Pending()
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            self._fire(pending.products, pending.batches)

    def _announce(self, products: list[DataProductInfo], batches: list[ReducedDataBatch]) -> None:
        if self._pending is not None:
            self._pending.products.extend(products)
            self._pending.batches.extend(batches)
        else:
            self._fire(products, batches)

    def _fire(self, products: list[DataProductInfo], batches: list[ReducedDataBatch]) -> None:
        if products:
            self.tom.emit("on_data_product_saved", products=products)
        for batch in batches:
            self.tom.emit("on_reduced_data_saved", batch=batch)

    # -- targets -------------------------------------------------------------------------------

    def _target(self, session: Session, target: int | str | Any) -> tuple[int, str]:
        from tomcore.store.models import TargetRow

        if isinstance(target, int) and not isinstance(target, bool):
            target_id = target
        elif isinstance(target, str):
            target_id = self.tom.targets.resolve_id(session, target)
        elif getattr(target, "id", None) is not None:
            target_id = int(getattr(target, "id"))  # noqa: B009 - any object with an id
        else:
            raise ValidationError("no target", {"target": [f"{target!r} is not a target id, name or saved target"]})
        row = session.get(TargetRow, target_id)
        if row is None:
            raise NotFoundError(f"no target with id {target_id}")
        return row.id, row.name

    # -- storing -------------------------------------------------------------------------------

    def store(
        self,
        target: int | str | Any,
        stream: Any,
        *,
        name: str,
        data_type: str,
        provenance: str = UPLOAD,
        source: str | None = None,
        observation_id: int | None = None,
        checksum: str | None = None,
        size: int | None = None,
        product_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        process: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> DataProductInfo:
        """Store one file for a target and process it; return the product.

        :param target: a target id, name (or alias), or saved :class:`Target`.
        :param stream: the content: a binary file object (``response.raw``), an iterable of
            byte chunks (``response.iter_content(2**20)``), bytes, a local path, or a
            zero-argument callable returning one of these, called only if the file must be
            stored (so a download starts only when needed).
        :param name: the file's original name (made safe for storage; kept as given).
        :param data_type: ``photometry``, ``spectroscopy``, ``image``, ``fits``, ``other`` or
            a type a processor adds.
        :param provenance: ``upload``, ``facility`` or ``broker``; ``source`` names which
            (``lco``); files are laid out as ``<target>/<source>/<name>``.
        :param checksum: the expected ``md5:<hex>`` or ``sha256:<hex>``: a product of this
            target with that checksum is returned at once without reading ``stream``, and
            the content is checked against it. ``size`` is checked too.
        :param product_id: the facility's id of the file (a frame id), kept on the record.
        :param process: run the type's processor (default); False stores only.
        :returns: the product; ``existing=True`` when the target already had this file
            (same content), in which case nothing was written and no event fires.
        :raises StorageError: the storage failed or the content does not match
            ``checksum``/``size``; nothing is recorded then.
        """
        data_type = self.check_type(data_type)
        if provenance not in PROVENANCES:
            raise ValidationError("invalid provenance", {"provenance": [f"{provenance!r} is not one of "
                                                                        f"{', '.join(PROVENANCES)}"]})
        expected = parse_checksum(checksum)
        with self.tom.db.session(readonly=True) as session:
            target_id, target_name = self._target(session, target)
            if observation_id is not None:
                from tomcore.store.models import ObservationRecordRow

                if session.get(ObservationRecordRow, observation_id) is None:
                    raise NotFoundError(f"no observation record with id {observation_id}")
            if expected is not None:
                found = self._find(session, target_id, **{expected[0]: expected[1]})
                if found is not None:
                    return attrs.evolve(found, existing=True)
        store = self.tom.storage.default
        group = source or (UPLOAD if provenance == UPLOAD else provenance)
        key = self._free_key(store, self.tom.storage.key_for(target_name, group, name))
        written = store.write(key, stream, progress=progress)
        problem = None
        if size is not None and written.size != size:
            problem = f"expected {size} bytes, got {written.size}"
        elif expected is not None and getattr(written, expected[0]) != expected[1]:
            problem = f"the {expected[0]} checksum does not match (expected {expected[1]}, got {getattr(written, expected[0])})"
        if problem:
            store.delete(key)
            raise StorageError(f"{name}: {problem}; the file was not stored (a broken download?)")
        with self.tom.db.session(readonly=True) as session:
            found = self._find(session, target_id, sha256=written.sha256)
        if found is not None:
            store.delete(key)
            return attrs.evolve(found, existing=True)
        return self._record(
            store, key, written, target_id=target_id, target_name=target_name, data_type=data_type, name=name,
            provenance=provenance, source=source or (UPLOAD if provenance == UPLOAD else None),
            observation_id=observation_id, product_id=product_id, metadata=metadata, process=process,
        )

    def upload(self, target: int | str | Any, paths: Iterable[str | os.PathLike[str]], *, data_type: str | None = None,
               source: str | None = None, observation_id: int | None = None,
               progress: Callable[[int], None] | None = None) -> builtins.list[UploadOutcome]:
        """Store and process local files for a target (``tom data upload``).

        Each file is stored and processed on its own (one failing file does not stop the
        others); events fire once for the whole upload.
        """
        outcomes: list[UploadOutcome] = []
        with self.collect():
            for raw in paths:
                path = Path(raw).expanduser()
                try:
                    if not path.is_file():
                        raise TomError(f"{path}: no such file" if not path.is_dir() else f"{path} is a directory")
                    kind = data_type or self.guess_type(path.name)
                    if kind is None:
                        raise ValidationError("no data type", {"type": [f"say what {path.name} holds with --type "
                                                                        f"({', '.join(self.types())})"]})
                    info = self.store(target, path, name=path.name, data_type=kind, source=source,
                                      observation_id=observation_id, progress=progress)
                    outcomes.append(UploadOutcome(path, info))
                except TomError as exc:
                    outcomes.append(UploadOutcome(path, error=str(exc)))
        return outcomes

    def _free_key(self, store: Store, key: str) -> str:
        from sqlalchemy import select

        from tomcore.store.models import DataProductRow

        with self.tom.db.session(readonly=True) as session:
            taken = session.execute(select(DataProductRow.id).where(
                DataProductRow.storage == store.url, DataProductRow.path == key)).first()
        return self.tom.storage.variant(key, uuid.uuid4().hex[:8]) if taken else key

    def _record(self, store: Store, key: str, written: Written, *, target_id: int, target_name: str, data_type: str,
                name: str, provenance: str, source: str | None, observation_id: int | None, product_id: str | None,
                metadata: dict[str, Any] | None, process: bool) -> DataProductInfo:
        from tomcore.services import processing
        from tomcore.store.models import DataProductRow

        now = self.tom.now()
        row = DataProductRow(
            target_id=target_id, observation_id=observation_id, data_type=data_type, storage=store.url, path=key,
            original_name=name[:512], size=written.size, checksum=written.sha256, md5=written.md5,
            provenance=provenance, source=source, product_id=product_id, status=STORED, meta=metadata or None,
            created=now,
        )
        result = error = None
        if process:
            try:
                processor = processing.choose(self.tom, name, data_type, store.head(key, processing.HEAD_BYTES))
                if processor is not None:
                    row.processor = processor.name
                    result = processing.run(processor, store, key, name=name, data_type=data_type,
                                            source=source or provenance)
            except processing.ProcessingError as exc:
                error = str(exc)
        batches: list[ReducedDataBatch] = []
        try:
            with self.tom.db.session() as session:
                session.add(row)
                session.flush()
                if result is not None:
                    counts, batches = processing.write(session, target_id=target_id, target_name=target_name,
                                                       product_id=row.id, result=result, source=source or provenance,
                                                       now=now)
                    row.reduced = counts
                    row.meta = {**(row.meta or {}), **result.metadata} or None
                self._set_status(row, error, processed=result is not None)
                info = self._info(row, target_name, store)
        except TomError:
            store.delete(key)
            raise
        except Exception as exc:
            from sqlalchemy.exc import IntegrityError

            if isinstance(exc, IntegrityError) and "path" in str(exc.orig):
                # Another process recorded a file under this name a moment ago: the file is
                # its now; leave it and ask for the store to be repeated (it will get a new name).
                raise StorageError(f"{name}: another file was stored as {key} at the same moment; "
                                   "store this one again") from exc
            if result is None:
                store.delete(key)
                raise
            # The reduced data could not be written (a constraint, a value the database
            # refuses): keep the file and its record, marked failed, with nothing half-written.
            return self._record_failure(store, key, row, target_name, f"{name}: could not save the reduced data: "
                                        f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        self._announce([info], batches)
        return info

    def _record_failure(self, store: Store, key: str, row: DataProductRow, target_name: str, error: str
                        ) -> DataProductInfo:
        from tomcore.store.models import DataProductRow

        fresh = DataProductRow(**{c.key: getattr(row, c.key) for c in DataProductRow.__table__.columns if c.key != "id"})
        fresh.reduced = None
        with self.tom.db.session() as session:
            session.add(fresh)
            session.flush()
            self._set_status(fresh, error, processed=True)
            info = self._info(fresh, target_name, store)
        self._announce([info], [])
        return info

    def _set_status(self, row: DataProductRow, error: str | None, *, processed: bool) -> None:
        if error is not None:
            row.status, row.error = FAILED, error[:4000]
        else:
            row.status, row.error = (PROCESSED if processed else STORED), None
        if processed or error is not None:
            row.processed = self.tom.now()

    # -- processing again ----------------------------------------------------------------------

    def reprocess(self, ids: Sequence[int] | None = None, *, target: int | str | None = None,
                  status: str | None = None, data_type: str | None = None, as_type: str | None = None,
                  progress: Callable[[int], None] | None = None) -> builtins.list[DataProductInfo]:
        """Process products again (after fixing a processor or installing one).

        Each product is done in its own transaction: its old reduced data are replaced by
        the new ones, or, when processing fails again, left as they were and the product
        marked failed with the error. ``as_type`` processes them as another data type and
        records it (a file uploaded with the wrong type).
        """
        new_type = self.check_type(as_type) if as_type is not None else None
        products = self.list(ids=ids, target=target, status=status, data_type=data_type)
        if new_type is not None:
            products = [attrs.evolve(p, data_type=new_type) for p in products]
        if ids:
            missing = sorted(set(ids) - {p.id for p in products})
            if missing:
                raise NotFoundError(f"no data product with id {', '.join(map(str, missing))}")
        done = []
        with self.collect():
            for product in products:
                done.append(self._reprocess_one(product))
                if progress is not None:
                    progress(1)
        return done

    def _reprocess_one(self, product: DataProductInfo) -> DataProductInfo:
        from tomcore.services import processing
        from tomcore.store.models import DataProductRow

        store = self.tom.storage.open(product.storage)
        result = error = None
        processor_name = None
        try:
            processor = processing.choose(self.tom, product.original_name, product.data_type,
                                          store.head(product.path, processing.HEAD_BYTES))
            if processor is not None:
                processor_name = processor.name
                result = processing.run(processor, store, product.path, name=product.original_name,
                                        data_type=product.data_type, source=product.source or product.provenance)
        except processing.ProcessingError as exc:
            error = str(exc)
        except StorageError as exc:
            error = f"{product.original_name}: {exc}"
        batches: list[ReducedDataBatch] = []
        with self.tom.db.session() as session:
            row = session.get(DataProductRow, product.id)
            if row is None:
                raise NotFoundError(f"no data product with id {product.id}")
            row.processor = processor_name or row.processor
            row.data_type = product.data_type
            if result is not None:
                previous = processing.previous_photometry(session, row.id)
                previous_digests = processing.previous_digests(session, row.id)
                processing.delete_reduced(session, row.id)
                counts, batches = processing.write(
                    session, target_id=row.target_id, target_name=product.target_name, product_id=row.id,
                    result=result, source=product.source or product.provenance, now=self.tom.now(),
                    previous_keys=previous, previous_digests=previous_digests)
                row.reduced = counts
                row.meta = {**(row.meta or {}), **result.metadata} or None
            self._set_status(row, error, processed=result is not None)
            info = self._info(row, product.target_name, store)
        self._announce([], batches)
        return info

    # -- reduced data --------------------------------------------------------------------------

    def photometry(self, target: int | str | Any, *, band: str | Sequence[str] | None = None,
                   since: float | None = None, until: float | None = None) -> pa.Table:
        """A target's photometry as columns (``pyarrow.Table``), by time. ``since`` and
        ``until`` are MJD."""
        from tomcore.services.photometry_read import table_of

        with self.tom.db.session(readonly=True) as session:
            target_id, _ = self._target(session, target)
            return table_of(session, target_id, band=band, since=since, until=until)

    def points(self, target: int | str | Any, *, band: str | Sequence[str] | None = None,
               since: float | None = None, until: float | None = None) -> builtins.list[PhotometryPoint]:
        """A target's photometry as :class:`PhotometryPoint` objects, by time."""
        from tomcore.services.photometry_read import points_of

        with self.tom.db.session(readonly=True) as session:
            target_id, _ = self._target(session, target)
            return points_of(session, target_id, band=band, since=since, until=until)

    def add_photometry(self, target: int | str | Any, photometry: Any, *, source: str,
                       query_name: str | None = None) -> ReducedDataBatch:
        """Write photometry (points or columns) for a target without a file; return (and
        announce) what was new."""
        from tomcore.domain.data import PHOTOMETRY
        from tomcore.services.photometry import as_table, insert_table, split_by_target

        with self.tom.db.session() as session:
            target_id, target_name = self._target(session, target)
            table = as_table(photometry, target_id=target_id, default_source=source)
            added = insert_table(session, table, query_name=query_name, now=self.tom.now())
        batch = ReducedDataBatch(kind=PHOTOMETRY, counts={target_id: added.num_rows} if added.num_rows else {},
                                 target_names={target_id: target_name}, source=source, query_name=query_name,
                                 photometry=split_by_target(added))
        if added.num_rows:
            self._announce([], [batch])
        return batch

    def spectra(self, target: int | str | Any) -> builtins.list[Spectrum]:
        """A target's spectra, by time, with their arrays as numpy arrays."""
        from tomcore.services.processing import spectra_of

        with self.tom.db.session(readonly=True) as session:
            target_id, _ = self._target(session, target)
            return spectra_of(session, target_id)

    def values(self, target: int | str | Any, kinds: Sequence[str] | None = None) -> builtins.list[ReducedValue]:
        """A target's other reduced values (of some kinds), by kind and time."""
        from tomcore.services.processing import values_of

        with self.tom.db.session(readonly=True) as session:
            target_id, _ = self._target(session, target)
            return values_of(session, target_id, kinds)

    def add_reduced(self, target: int | str | Any, *, source: str, spectra: Sequence[Spectrum] = (),
                    values: Sequence[ReducedValue] = ()) -> builtins.list[ReducedDataBatch]:
        """Write spectra and other values for a target without a file; return (and
        announce) the batches."""
        from tomcore.services import processing

        result = processing.Result("api", spectra=[processing._checked_spectrum(s, "spectrum", source) for s in spectra],
                                   values=list(values))
        with self.tom.db.session() as session:
            target_id, target_name = self._target(session, target)
            _, batches = processing.write(session, target_id=target_id, target_name=target_name, product_id=None,
                                          result=result, source=source, now=self.tom.now())
        self._announce([], batches)
        return batches
