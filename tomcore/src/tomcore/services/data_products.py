"""Reading data products: find, get, list, open, download and delete (``tom.data``).

:class:`ProductQueries` is mixed into :class:`tomcore.services.data.DataService`; the
writing side (store, upload, reprocess) lives in :mod:`tomcore.services.data`.
"""

from __future__ import annotations

import builtins
import os
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tomcore.domain.data import STATUSES, DataProductInfo
from tomcore.errors import NotFoundError, TomError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.services.storage import Store
    from tomcore.store.models import DataProductRow

_HEX = re.compile(r"^[0-9a-f]+$")
_COLUMN = {"sha256": "checksum"}


def parse_checksum(checksum: str | None) -> tuple[str, str] | None:
    """``"md5:<hex>"``, ``"sha256:<hex>"`` or bare hex (32 digits MD5, 64 SHA-256)."""
    if not checksum:
        return None
    algo, _, digest = checksum.strip().lower().rpartition(":")
    algo = algo or {32: "md5", 64: "sha256"}.get(len(digest), "")
    if algo not in ("md5", "sha256") or not _HEX.match(digest) or len(digest) != (32 if algo == "md5" else 64):
        raise ValidationError("invalid checksum", {"checksum": [f"{checksum!r} is not md5:<32 hex> or sha256:<64 hex>"]})
    return algo, digest


class ProductQueries:
    """Finding and reading stored products; needs ``tom``, ``_target`` and ``check_type``."""

    tom: Tom

    def _target(self, session: Session, target: int | str | Any) -> tuple[int, str]:
        raise NotImplementedError

    def check_type(self, data_type: str) -> str:
        raise NotImplementedError

    # -- reading -------------------------------------------------------------------------------

    def _info(self, row: DataProductRow, target_name: str, store: Store | None = None) -> DataProductInfo:
        if store is None:
            try:
                store = self.tom.storage.open(row.storage)
                url = store.url_of(row.path)
            except TomError:
                url = f"{row.storage}/{row.path}"
        else:
            url = store.url_of(row.path)
        return DataProductInfo(
            id=row.id, target_id=row.target_id, target_name=target_name, data_type=row.data_type, url=url,
            original_name=row.original_name, storage=row.storage, path=row.path, size=row.size, checksum=row.checksum,
            md5=row.md5, provenance=row.provenance, source=row.source, observation_id=row.observation_id,
            product_id=row.product_id, status=row.status, error=row.error, processor=row.processor,
            metadata=dict(row.meta or {}), reduced=dict(row.reduced or {}), created=row.created, processed=row.processed,
        )

    def _find(self, session: Session, target_id: int, **where: Any) -> DataProductInfo | None:
        from sqlalchemy import select

        from tomcore.store.models import DataProductRow, TargetRow

        query = select(DataProductRow, TargetRow.name).join(TargetRow, TargetRow.id == DataProductRow.target_id).where(
            DataProductRow.target_id == target_id)
        for key, value in where.items():
            query = query.where(getattr(DataProductRow, _COLUMN.get(key, key)) == value)
        found = session.execute(query.order_by(DataProductRow.id).limit(1)).first()
        return None if found is None else self._info(found[0], found[1])

    def find(self, target: int | str | Any, *, checksum: str | None = None, product_id: str | None = None,
             source: str | None = None, name: str | None = None) -> DataProductInfo | None:
        """A product of ``target`` with this checksum (``md5:``/``sha256:``), facility
        product id (with ``source``), or original name; None if there is none."""
        where: dict[str, Any] = {}
        parsed = parse_checksum(checksum)
        if parsed is not None:
            where[parsed[0]] = parsed[1]
        if product_id is not None:
            where["product_id"] = str(product_id)
        if source is not None:
            where["source"] = source
        if name is not None:
            where["original_name"] = name
        if not where:
            raise ValidationError("nothing to find by", {"find": ["give checksum, product_id or name"]})
        with self.tom.db.session(readonly=True) as session:
            target_id, _ = self._target(session, target)
            return self._find(session, target_id, **where)

    def get(self, product_id: int) -> DataProductInfo:
        found = self.list(ids=[product_id])
        if not found:
            raise NotFoundError(f"no data product with id {product_id}")
        return found[0]

    def list(self, *, ids: Sequence[int] | None = None, target: int | str | Sequence[int | str] | None = None,
             data_type: str | None = None, status: str | None = None, observation_id: int | None = None,
             source: str | None = None, limit: int | None = None) -> builtins.list[DataProductInfo]:
        """Products, newest first, filtered by id, target(s), type, status, observation, source."""
        from sqlalchemy import select

        from tomcore.store.models import DataProductRow as D
        from tomcore.store.models import TargetRow

        if status is not None and status not in STATUSES:
            raise ValidationError("invalid status", {"status": [f"{status!r} is not one of {', '.join(STATUSES)}"]})
        with self.tom.db.session(readonly=True) as session:
            query = select(D, TargetRow.name).join(TargetRow, TargetRow.id == D.target_id)
            if ids:
                query = query.where(D.id.in_(list(ids)))
            if target is not None:
                targets = [target] if isinstance(target, (int, str)) else list(target)
                query = query.where(D.target_id.in_([self._target(session, t)[0] for t in targets]))
            if data_type is not None:
                query = query.where(D.data_type == self.check_type(data_type))
            if status is not None:
                query = query.where(D.status == status)
            if observation_id is not None:
                query = query.where(D.observation_id == observation_id)
            if source is not None:
                query = query.where(D.source == source)
            query = query.order_by(D.created.desc(), D.id.desc())
            if limit is not None:
                query = query.limit(limit)
            return [self._info(row, name) for row, name in session.execute(query).all()]

    def open(self, product: int | DataProductInfo) -> IO[bytes]:
        """The stored file of a product, opened for reading (binary)."""
        info = product if isinstance(product, DataProductInfo) else self.get(product)
        return self.tom.storage.open(info.storage).open(info.path)

    def download(self, products: Sequence[DataProductInfo], to: str | os.PathLike[str], *,
                 progress: Callable[[int], None] | None = None, overwrite: bool = False) -> builtins.list[Path]:
        """Copy products out of storage into ``to/<target>/<file name>``; return the paths.

        A file already there with the same size is skipped unless ``overwrite``; each copy
        is written under a temporary name and renamed when complete.
        """
        from tomcore.services.storage import iter_chunks, safe_label

        directory = Path(to).expanduser()
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for info in products:
            folder = directory / safe_label(info.target_name)
            folder.mkdir(exist_ok=True)
            path = folder / info.name
            if path.exists() and not overwrite and info.size is not None and path.stat().st_size == info.size:
                if progress is not None:
                    progress(info.size)
                paths.append(path)
                continue
            temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
            try:
                with self.open(info) as source, open(temp, "wb") as out:
                    for chunk in iter_chunks(source):
                        out.write(chunk)
                        if progress is not None:
                            progress(len(chunk))
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
            paths.append(path)
        return paths

    def delete(self, ids: Sequence[int], *, keep_file: bool = False) -> int:
        """Delete products with their reduced data (and their files, unless ``keep_file``)."""
        from sqlalchemy import delete as sql_delete

        from tomcore.services import processing
        from tomcore.store.models import DataProductRow

        products = self.list(ids=ids)
        missing = sorted(set(ids) - {p.id for p in products})
        if missing:
            raise NotFoundError(f"no data product with id {', '.join(map(str, missing))}")
        with self.tom.db.session() as session:
            for product in products:
                processing.delete_reduced(session, product.id)
            session.execute(sql_delete(DataProductRow).where(DataProductRow.id.in_([p.id for p in products])))
        if not keep_file:
            for product in products:
                self.tom.storage.open(product.storage).delete(product.path)
        return len(products)

