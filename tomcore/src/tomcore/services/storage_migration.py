"""Moving every data product to another storage: ``tom data migrate-storage --to URL``.

Each product is moved on its own, in three steps that make the whole move resumable:

1. its file is streamed to the new storage under the same key and checked against the
   recorded SHA-256;
2. its record is pointed at the new place in one transaction, remembering the old place in
   ``moved_from``;
3. the old file is deleted and ``moved_from`` cleared.

Interrupted anywhere, a rerun finishes the job: a product not yet re-pointed is copied
again (the partial copy is overwritten), one re-pointed but whose old file remains has it
deleted. Nothing is lost: the old file goes only after the record points at a verified copy.
At the end, ``storage.url`` in ``tom.toml`` is set to the new URL so new files go there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from tomcore.config import CONFIG_FILE
from tomcore.errors import StorageError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom


@attrs.define
class MigrationReport:
    url: str
    moved: int = 0
    already_there: int = 0
    cleaned: int = 0
    bytes: int = 0
    config_updated: bool = False
    note: str | None = None


def pending(tom: Tom, to_url: str) -> tuple[int, int]:
    """(products to move, their bytes) for a progress bar."""
    from sqlalchemy import func, select

    from tomcore.store.models import DataProductRow as D

    recorded = tom.storage.normalise(to_url)
    with tom.db.session(readonly=True) as session:
        count, size = session.execute(select(func.count(), func.coalesce(func.sum(D.size), 0)).where(
            D.storage != recorded)).one()
    return int(count or 0), int(size or 0)


def migrate(tom: Tom, to_url: str, *, progress: Callable[[int], None] | None = None,
            update_config: bool = True) -> MigrationReport:
    from sqlalchemy import func, select

    from tomcore.services.storage import copy_between
    from tomcore.store.models import DataProductRow as D

    target = tom.storage.open(to_url)
    target.prepare()
    report = MigrationReport(target.url)
    report.cleaned = _finish_interrupted(tom)
    with tom.db.session(readonly=True) as session:
        todo = session.execute(select(D.id).where(D.storage != target.url).order_by(D.id)).scalars().all()
        report.already_there = int(session.execute(select(func.count()).where(D.storage == target.url)).scalar_one())
    for product_id in todo:
        with tom.db.session(readonly=True) as session:
            row = session.get(D, product_id)
            if row is None or row.storage == target.url:
                continue
            old_storage, old_path, checksum = row.storage, row.path, row.checksum
            taken = session.execute(select(D.id).where(D.storage == target.url, D.path == old_path)).first()
        key = tom.storage.variant(old_path, f"{product_id}") if taken else old_path
        source = tom.storage.open(old_storage)
        written = copy_between(source, old_path, target, key, progress=progress)
        if checksum and written.sha256 != checksum:
            target.delete(key)
            raise StorageError(f"data product {product_id}: the copy in {target.display} does not match the recorded "
                               f"checksum (the file in {source.display} changed or is damaged); nothing was moved")
        with tom.db.session() as session:
            row = session.get(D, product_id)
            assert row is not None
            row.storage, row.path, row.moved_from = target.url, key, json.dumps([old_storage, old_path])
        source.delete(old_path)
        _clear_moved_from(tom, product_id)
        report.moved += 1
        report.bytes += written.size
    if update_config:
        report.config_updated, report.note = set_storage_url(tom, target.url)
    return report


def _finish_interrupted(tom: Tom) -> int:
    """Delete the old files of products whose move was committed but not finished."""
    from sqlalchemy import select

    from tomcore.store.models import DataProductRow as D

    with tom.db.session(readonly=True) as session:
        rows = session.execute(select(D.id, D.moved_from).where(D.moved_from.is_not(None))).all()
    for product_id, moved_from in rows:
        old_storage, old_path = json.loads(str(moved_from))
        tom.storage.open(old_storage).delete(old_path)
        _clear_moved_from(tom, product_id)
    return len(rows)


def _clear_moved_from(tom: Tom, product_id: int) -> None:
    from tomcore.store.models import DataProductRow

    with tom.db.session() as session:
        row = session.get(DataProductRow, product_id)
        if row is not None:
            row.moved_from = None


def set_storage_url(tom: Tom, url: str) -> tuple[bool, str | None]:
    """Write ``url`` as ``[storage] url`` in the TOM's ``tom.toml`` (keeping the rest of the
    file as it is). Returns (changed, a note for the user or None)."""
    note = None
    if "TOM_STORAGE_URL" in tom.settings.env:
        note = "TOM_STORAGE_URL is set in the environment and overrides tom.toml; change or unset it"
    if tom.home is None:
        return False, note or "no tom.toml to update: set storage.url to the new URL"
    path = tom.home / CONFIG_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    line = f"url = {json.dumps(url)}"
    section = re.search(r"(?ms)^\[storage\][ \t]*\n(.*?)(?=^\[|\Z)", text)
    if section is None:
        text = text.rstrip("\n") + f"\n\n[storage]\n{line}\n"
    else:
        body = section.group(1)
        if re.search(r"(?m)^\s*url\s*=", body):
            body = re.sub(r"(?m)^\s*url\s*=.*$", line, body, count=1)
        else:
            body = line + "\n" + body
        text = text[: section.start(1)] + body + text[section.end(1):]
    path.write_text(text, encoding="utf-8")
    return True, note
