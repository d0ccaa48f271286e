"""Reading targets by id into :class:`Target` values, fast.

:func:`load` reads the targets, their aliases, extras and lists with plain driver queries
(four per 900 ids), converting the few typed columns itself (times, booleans), so that
loading thousands of targets (an update batch, a list command) costs a few microseconds
per row, not an ORM object each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tomcore.domain.extras import number_value
from tomcore.domain.targets import MODEL_FIELDS, Target

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

CHUNK = 900
_TARGET_SQL = f"SELECT id, created, modified, {', '.join(MODEL_FIELDS)} FROM targets WHERE id "


def _time_reader(postgres: bool) -> Any:
    """A function turning a stored ``UTCDateTime`` value into an aware UTC datetime."""
    if postgres:
        return lambda value: None if value is None else (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC))
    parse = datetime.fromisoformat
    seen: dict[str, datetime] = {}  # a batch's targets share their times

    def read(value: str | None) -> datetime | None:
        if value is None:
            return None
        found = seen.get(value)
        if found is None:
            found = seen[value] = parse(value).replace(tzinfo=UTC)
        return found

    return read


def load(session: Session, ids: Iterable[int]) -> dict[int, Target]:
    """Targets by id with aliases (in the order given), extras (by key) and lists (by
    name), in the order of ``ids``; unknown ids are left out."""
    from tomcore.services.target_write import driver_rows

    session.flush()  # as an ORM query would: pending changes are visible to the reads below
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    when = _time_reader(postgres)
    wanted = list(dict.fromkeys(ids))
    found: dict[int, Target] = {}
    fields = MODEL_FIELDS
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        params: tuple[Any, ...]
        if postgres:
            where, params = "= ANY(%s)", (chunk,)
        else:
            where, params = f"IN ({', '.join(['?'] * len(chunk))})", tuple(chunk)
        for row in driver_rows(connection, _TARGET_SQL + where, params):
            found[row[0]] = Target(id=row[0], created=when(row[1]), modified=when(row[2]),
                                   **dict(zip(fields, row[3:], strict=True)))
        for tid, name in driver_rows(connection,
            f"SELECT target_id, name FROM target_names WHERE target_id {where} AND NOT is_primary ORDER BY id", params
        ):
            found[tid].aliases.append(name)
        for tid, key, kind, text, num, flag, time in driver_rows(connection,
            "SELECT target_id, key, value_type, value_text, value_num, value_bool, value_time FROM target_extras "
            f"WHERE target_id {where} ORDER BY target_id, key", params
        ):
            if kind == "number":
                value: Any = number_value(text, num)
            elif kind == "boolean":
                value = bool(flag)
            elif kind == "datetime":
                value = when(time)
            else:
                value = text
            found[tid].extras[key] = value
        for tid, list_name in driver_rows(connection,
            "SELECT m.target_id, l.name FROM target_list_members m JOIN target_lists l ON l.id = m.list_id "
            f"WHERE m.target_id {where} ORDER BY l.name", params
        ):
            found[tid].lists.append(list_name)
    return {tid: found[tid] for tid in wanted if tid in found}


def row_to_target(row: Any) -> Target:
    """A :class:`Target` (without aliases, extras and lists) from a ``targets`` row (an
    ORM object or a named row)."""
    values = {f: getattr(row, f) for f in MODEL_FIELDS}
    return Target(id=row.id, created=row.created, modified=row.modified, **values)


def extra_value(row: Any) -> Any:
    """The Python value of a ``target_extras`` row: int or float, bool, aware datetime, str."""
    if row.value_type == "number":
        return number_value(row.value_text, row.value_num)
    if row.value_type == "boolean":
        return bool(row.value_bool)
    if row.value_type == "datetime":
        return row.value_time
    return row.value_text
