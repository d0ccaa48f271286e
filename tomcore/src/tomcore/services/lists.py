"""Target lists (the TOM Toolkit's target groups): named sets of targets.

A target belongs to any number of lists. Lists are filled by target names or by any filter
of ``tom targets list`` (:class:`tomcore.services.target_query.TargetQuery`), in one
statement per batch; adding a target twice is a no-op. Imports create the lists their
``groups`` column names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.errors import DuplicateError, NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.services.target_query import TargetQuery


@attrs.define(kw_only=True)
class TargetList:
    """A list as shown to people: its name, description, size and times."""

    name: str
    description: str | None = None
    count: int = 0
    created: datetime | None = None
    modified: datetime | None = None
    id: int | None = None


def check_list_name(name: str) -> str:
    """A list name stripped, or :class:`ValidationError` (empty, too long, or with a comma,
    which separates list names in a CSV ``groups`` cell)."""
    text = (name or "").strip()
    if not text:
        raise ValidationError("a list name is empty")
    if "," in text:
        raise ValidationError(f"list name {text!r} contains a comma (commas separate lists in CSV files)")
    if len(text) > 200:
        raise ValidationError(f"list name {text[:40]!r}... is longer than 200 characters")
    return text


def _insert_ignore(session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    else:
        marks = ", ".join(["?"] * len(columns))
        sql = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    for start in range(0, len(rows), 20000):
        connection.exec_driver_sql(sql, list(rows[start:start + 20000]))


def list_ids(session: Session, names: Sequence[str], *, create: bool, now: datetime | None = None) -> dict[str, int]:
    """Ids of lists by name; missing ones are created (``create``) or refused."""
    from sqlalchemy import insert, select

    from tomcore.store.models import TargetListRow

    wanted = sorted({check_list_name(n) for n in names})
    ids = dict(session.execute(select(TargetListRow.name, TargetListRow.id).where(TargetListRow.name.in_(wanted))).all())
    missing = [n for n in wanted if n not in ids]
    if missing and not create:
        raise NotFoundError(f"no target list named {', '.join(repr(m) for m in missing)}")
    if missing:
        from tomcore.store.base import utcnow

        stamp = now or utcnow()
        for name in missing:
            ids[name] = session.execute(
                insert(TargetListRow).values(name=name, created=stamp, modified=stamp).returning(TargetListRow.id)
            ).scalar_one()
    return ids


def add_memberships(session: Session, memberships: Mapping[int, Sequence[str]], now: datetime | None = None) -> None:
    """Put targets (by id) in lists (by name), creating lists that do not exist yet."""
    from tomcore.services.target_write import BulkWriter

    ids = list_ids(session, [n for names in memberships.values() for n in names], create=True, now=now)
    stamp = BulkWriter(session).time(now or datetime.now().astimezone())
    rows = [(ids[n.strip()], tid, stamp) for tid, names in memberships.items() for n in dict.fromkeys(names)]
    _insert_ignore(session, "target_list_members", ("list_id", "target_id", "added"), rows)


class ListService:
    """Target lists of one TOM."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    def all(self) -> list[TargetList]:
        """Every list with its size, by name."""
        from sqlalchemy import func, select

        from tomcore.store.models import TargetListMemberRow, TargetListRow

        with self.tom.db.session(readonly=True) as s:
            counts = dict(s.execute(select(TargetListMemberRow.list_id, func.count())
                                    .group_by(TargetListMemberRow.list_id)).all())
            return [_info(row, counts.get(row.id, 0))
                    for row in s.execute(select(TargetListRow).order_by(TargetListRow.name)).scalars()]

    def get(self, name: str, *, session: Session | None = None) -> TargetList:
        from sqlalchemy import func, select

        from tomcore.store.models import TargetListMemberRow, TargetListRow

        def read(s: Session) -> TargetList:
            row = s.execute(select(TargetListRow).where(TargetListRow.name == name.strip())).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no target list named {name!r}" + self._suggest(s, name))
            count = s.execute(select(func.count()).where(TargetListMemberRow.list_id == row.id)).scalar_one()
            return _info(row, int(count))

        if session is not None:
            return read(session)
        with self.tom.db.session(readonly=True) as s:
            return read(s)

    def _suggest(self, session: Session, name: str) -> str:
        from sqlalchemy import select

        from tomcore.store.models import TargetListRow

        names = session.execute(select(TargetListRow.name).order_by(TargetListRow.name).limit(20)).scalars().all()
        return f" (lists: {', '.join(names)})" if names else " (there are no lists yet; `tom lists create NAME`)"

    def create(self, name: str, description: str | None = None) -> TargetList:
        from sqlalchemy import select

        from tomcore.store.models import TargetListRow

        name = check_list_name(name)
        with self.tom.db.session() as s:
            if s.execute(select(TargetListRow.id).where(TargetListRow.name == name)).scalar() is not None:
                raise DuplicateError(f"a target list named {name!r} exists")
            now = self.tom.now()
            row = TargetListRow(name=name, description=description, created=now, modified=now)
            s.add(row)
            s.flush()
            return _info(row, 0)

    def delete(self, name: str) -> TargetList:
        """Delete a list (its targets stay)."""
        from sqlalchemy import delete

        from tomcore.store.models import TargetListRow

        with self.tom.db.session() as s:
            info = self.get(name, session=s)
            s.execute(delete(TargetListRow).where(TargetListRow.id == info.id))
            return info

    def target_ids(self, *, session: Session, names: Sequence[str] = (), query: TargetQuery | None = None) -> list[int]:
        """Ids of the targets given by name (or alias) and/or matching a filter."""
        ids: list[int] = []
        if names:
            resolved = self.tom.targets.resolve_ids(session, names)
            ids.extend(resolved[n.strip()] for n in names if n and n.strip())
        if query is not None:
            from tomcore.services.target_query import select_ids

            ids.extend(session.execute(select_ids(self.tom, session, query, ordered=False)).scalars())
        return list(dict.fromkeys(ids))

    def add(self, name: str, *, names: Sequence[str] = (), query: TargetQuery | None = None,
            create: bool = False) -> tuple[TargetList, int]:
        """Add targets to a list; returns the list and how many were new to it."""
        from sqlalchemy import func, select, update

        from tomcore.store.models import TargetListMemberRow, TargetListRow

        if not names and query is None:
            raise ValidationError("name targets to add, or give a filter")
        with self.tom.db.session() as s:
            lid = list_ids(s, [name], create=create, now=self.tom.now())[check_list_name(name)]
            ids = self.target_ids(session=s, names=names, query=query)
            before = s.execute(select(func.count()).where(TargetListMemberRow.list_id == lid)).scalar_one()
            from tomcore.services.target_write import BulkWriter

            stamp = BulkWriter(s).time(self.tom.now())
            _insert_ignore(s, "target_list_members", ("list_id", "target_id", "added"), [(lid, tid, stamp) for tid in ids])
            s.execute(update(TargetListRow).where(TargetListRow.id == lid).values(modified=self.tom.now()))
            info = self.get(name, session=s)
            return info, info.count - int(before)

    def remove(self, name: str, *, names: Sequence[str] = (), query: TargetQuery | None = None) -> tuple[TargetList, int]:
        """Take targets out of a list; returns the list and how many left it."""
        from sqlalchemy import delete, update

        from tomcore.store.models import TargetListMemberRow, TargetListRow

        if not names and query is None:
            raise ValidationError("name targets to remove, or give a filter")
        with self.tom.db.session() as s:
            info = self.get(name, session=s)
            ids = self.target_ids(session=s, names=names, query=query)
            removed = 0
            for start in range(0, len(ids), 900):
                result = s.execute(delete(TargetListMemberRow).where(
                    TargetListMemberRow.list_id == info.id, TargetListMemberRow.target_id.in_(ids[start:start + 900])))
                removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
            s.execute(update(TargetListRow).where(TargetListRow.id == info.id).values(modified=self.tom.now()))
            return self.get(name, session=s), removed


def _info(row: Any, count: int) -> TargetList:
    return TargetList(id=row.id, name=row.name, description=row.description, count=count,
                      created=row.created, modified=row.modified)
