"""Finding targets: the filters of ``tom targets list`` (and of export and lists).

A :class:`TargetQuery` holds every filter; :func:`select_ids` turns it into one SQL query on
indexed columns where it can (cone and near: the sky index; extras: the typed columns;
created: its index; lists: membership), the same on SQLite and PostgreSQL.

Filters, all combined with AND:

* ``names``: fuzzy, on the name or any alias: the normalised term (case, spaces, ``-``,
  ``_``, parentheses and SN/AT prefixes ignored) is contained in a normalised name; several
  terms match any of them;
* ``type``: sidereal or non-sidereal; ``lists``: member of any of these lists;
* ``cone``: ``(ra, dec, radius_deg)``, degrees or sexagesimal; ``near``: ``(name,
  radius_arcsec)`` around a target (the target itself included);
* ``extras``: ``KEY<op>VALUE`` with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, compared in
  the value's type (numbers as numbers, times as times, booleans, else text), or ``~``: the
  value's text contains VALUE, ignoring case (``classification~sn``); ``KEY`` alone means
  the target has that extra. A target without the key never matches a comparison;
* ``created_since``: an ISO date or time, or a duration back from now (``7d``, ``12h``,
  ``30m``, ``2w``).

Sorting: any of ``name``, ``type``, ``created``, ``modified``, a numeric field (``ra``,
``dec``, ``parallax``...), ``separation`` (with a cone or near), or an extra's key; ``-``
before a key sorts descending. Extras sort numbers, then times, then text, missing last.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.extras import BOOLEAN, DATETIME, NUMBER, STRING, TypedValue, infer, parse_datetime
from tomcore.domain.targets import NON_SIDEREAL, NUMERIC_FIELDS, SIDEREAL, Target, normalise_name
from tomcore.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from tomcore.app import Tom

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "~")
_FILTER = re.compile(r"^\s*(?P<key>[^<>=!~]+?)\s*(?P<op>==|>=|<=|!=|=|<|>|~)\s*(?P<value>.*?)\s*$")
_DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
SORT_FIELDS = ("name", "type", "created", "modified", "scheme", *NUMERIC_FIELDS, "galactic_lng", "galactic_lat")


@attrs.frozen
class ExtraFilter:
    """One ``--extra`` condition: ``key op value`` (``op`` None: the key exists)."""

    key: str
    op: str | None = None
    value: TypedValue | None = None

    @classmethod
    def parse(cls, text: str) -> ExtraFilter:
        """``"redshift>=0.1"``, ``"classification=SN Ia"``, ``"spectrum"``..."""
        match = _FILTER.match(text)
        if match is None:
            key = text.strip()
            if not key or any(c in key for c in "<>=!~"):
                raise ValidationError(f"--extra {text!r}: write KEY<op>VALUE with op one of {' '.join(OPERATORS)}")
            return cls(key)
        op = "=" if match["op"] == "==" else match["op"]
        if match["value"][:1] in ("<", ">", "=", "!", "~"):
            raise ValidationError(f"--extra {text!r}: one operator only, one of {' '.join(OPERATORS)}")
        if op == "~":  # contains, ignoring case, in the text of a value of any type
            if not match["value"]:
                raise ValidationError(f"--extra {text!r}: give the text to look for after ~")
            return cls(match["key"], op, TypedValue(STRING, match["value"]))
        value = infer(match["value"])
        if value.type == BOOLEAN and op not in ("=", "!="):
            raise ValidationError(f"--extra {text!r}: booleans compare only with = and !=")
        return cls(match["key"], op, value)

    def __str__(self) -> str:
        return self.key if self.op is None else f"{self.key}{self.op}{self.value.text if self.value else ''}"


def parse_since(text: str, now: datetime) -> datetime:
    """An ISO date/time, or a duration before ``now`` (``7d``, ``12h``, ``30m``, ``2w``)."""
    match = _DURATION.match(text)
    if match:
        return now - timedelta(**{_UNITS[match["unit"].lower()]: float(match["n"])})
    try:
        return parse_datetime(text)
    except ValueError:
        raise ValidationError(f"--created-since {text!r} is neither an ISO date/time nor a duration like 7d or 12h") from None


def parse_type(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip().upper().replace("-", "_")
    if value in ("NONSIDEREAL",):
        value = NON_SIDEREAL
    if value not in (SIDEREAL, NON_SIDEREAL):
        raise ValidationError(f"type {text!r} is not sidereal or non-sidereal")
    return value


@attrs.define(kw_only=True)
class TargetQuery:
    """Filters, order and window of a target listing (see the module docs)."""

    names: list[str] = attrs.Factory(list)
    type: str | None = None
    lists: list[str] = attrs.Factory(list)
    cone: tuple[float, float, float] | None = None
    near: tuple[str, float] | None = None
    extras: list[ExtraFilter] = attrs.Factory(list)
    created_since: datetime | None = None
    sort: list[str] = attrs.Factory(list)
    limit: int | None = None
    offset: int = 0

    @classmethod
    def build(cls, *, names: Sequence[str] = (), type: str | None = None, lists: Sequence[str] = (),
              cone: Sequence[Any] | None = None, near: Sequence[Any] | None = None, extras: Sequence[str] = (),
              created_since: str | None = None, sort: Sequence[str] = (), limit: int | None = None, offset: int = 0,
              now: datetime | None = None) -> TargetQuery:
        """A query from user text (the CLI's options), every value checked."""
        from tomcore.domain.coords import CoordinateError, parse_dec, parse_ra

        cone_value = None
        if cone is not None:
            try:
                radius = float(cone[2])
            except ValueError:
                raise ValidationError(f"--cone radius {cone[2]!r} is not a number of degrees") from None
            try:
                cone_value = (parse_ra(cone[0]), parse_dec(cone[1]), radius)
            except CoordinateError as exc:
                raise ValidationError(f"--cone: {exc}") from None
            if not 0 < radius <= 180:
                raise ValidationError(f"--cone radius {radius:g} must be in (0, 180] degrees")
        near_value = None
        if near is not None:
            try:
                arcsec = float(near[1])
            except ValueError:
                raise ValidationError(f"--near radius {near[1]!r} is not a number of arcseconds") from None
            if arcsec <= 0:
                raise ValidationError("--near radius must be positive")
            near_value = (str(near[0]), arcsec)
        sort_keys = [k.strip() for s in sort for k in s.split(",") if k.strip()]
        if limit is not None and limit < 0:
            raise ValidationError("--limit must not be negative")
        return cls(
            names=[n for n in names if n and n.strip()], type=parse_type(type), lists=list(lists), cone=cone_value,
            near=near_value, extras=[ExtraFilter.parse(e) for e in extras],
            created_since=parse_since(created_since, now or datetime.now().astimezone()) if created_since else None,
            sort=sort_keys, limit=limit, offset=offset,
        )

    @property
    def is_empty(self) -> bool:
        return not (self.names or self.type or self.lists or self.cone or self.near or self.extras or self.created_since)


@attrs.define
class QueryResult:
    """Targets found (in order), how many match in all, and separations (arcsec) from the
    cone's centre when there was one."""

    targets: list[Target]
    total: int
    separations: dict[int, float] = attrs.Factory(dict)
    centre: tuple[float, float] | None = None


def _centre(tom: Tom, session: Session, query: TargetQuery) -> tuple[float, float, float] | None:
    if query.cone is not None:
        return query.cone
    if query.near is not None:
        target = tom.targets.load(session, [tom.targets.resolve_id(session, query.near[0])]).popitem()[1]
        if target.ra is None or target.dec is None:
            raise ValidationError(f"--near {target.name!r}: the target has no fixed position (non-sidereal)")
        return (target.ra, target.dec, query.near[1] / 3600.0)
    return None


#: ``--extra`` operators; applied only to the filter's own operator (building ``<`` on a
#: boolean column is refused by SQLAlchemy).
_COMPARE: dict[str, Any] = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def select_ids(tom: Tom, session: Session, query: TargetQuery, *, ordered: bool = True) -> Select[Any]:
    """``SELECT targets.id`` with every filter (and the order and window when ``ordered``)."""
    from sqlalchemy import and_, exists, or_, select
    from sqlalchemy.orm import aliased

    from tomcore.services.sky import cone_filter, unit_vectors
    from tomcore.store.models import TargetExtraRow, TargetListMemberRow, TargetNameRow, TargetRow

    stmt = select(TargetRow.id)
    if query.names:
        terms = [normalise_name(n) for n in query.names]
        stmt = stmt.where(exists().where(TargetNameRow.target_id == TargetRow.id,
                                         or_(*(TargetNameRow.norm.like(_like_pattern(t), escape="\\") for t in terms))))
    if query.type:
        stmt = stmt.where(TargetRow.type == query.type)
    if query.lists:
        from tomcore.services.lists import list_ids

        ids = list(list_ids(session, query.lists, create=False).values())
        stmt = stmt.where(exists().where(TargetListMemberRow.target_id == TargetRow.id,
                                         TargetListMemberRow.list_id.in_(ids)))
    centre = _centre(tom, session, query)
    if centre is not None:
        stmt = stmt.where(cone_filter(TargetRow, *centre))
    for f in query.extras:
        cond = [TargetExtraRow.target_id == TargetRow.id, TargetExtraRow.key == f.key]
        if f.op == "~" and f.value is not None:
            cond.append(TargetExtraRow.value_text.ilike(_like_pattern(f.value.text), escape="\\"))
        elif f.op is not None and f.value is not None:
            column, value = {
                NUMBER: (TargetExtraRow.value_num, f.value.num), DATETIME: (TargetExtraRow.value_time, f.value.time),
                BOOLEAN: (TargetExtraRow.value_bool, f.value.flag), STRING: (TargetExtraRow.value_text, f.value.text),
            }[f.value.type]
            cond.append(TargetExtraRow.value_type == f.value.type)
            cond.append(_COMPARE[f.op](column, value))
        stmt = stmt.where(exists().where(and_(*cond)))
    if query.created_since is not None:
        stmt = stmt.where(TargetRow.created >= query.created_since)
    if not ordered:
        return stmt
    order: list[Any] = []
    columns: list[Any]
    keys = query.sort or (["separation"] if centre is not None else ["name"])
    for raw in keys:
        descending = raw.startswith("-")
        key = raw.lstrip("-+")
        if key == "separation":
            if centre is None:
                raise ValidationError("sorting by separation needs --cone or --near")
            x0, y0, z0 = (float(v) for v in unit_vectors(centre[0], centre[1]))
            columns = [(TargetRow.cx - x0) * (TargetRow.cx - x0) + (TargetRow.cy - y0) * (TargetRow.cy - y0)
                       + (TargetRow.cz - z0) * (TargetRow.cz - z0)]
        elif key in SORT_FIELDS:
            columns = [getattr(TargetRow, key)]
        else:
            extra = aliased(TargetExtraRow)
            stmt = stmt.outerjoin(extra, and_(extra.target_id == TargetRow.id, extra.key == key))
            columns = [extra.value_num, extra.value_time, extra.value_text]
            order.append(extra.value_type.is_(None))  # targets without the extra last
        for column in columns:
            order.append(column.is_(None))
            order.append(column.desc() if descending else column.asc())
    order.append(TargetRow.id)
    stmt = stmt.order_by(*order)
    if query.offset:
        stmt = stmt.offset(query.offset)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    return stmt


def find(tom: Tom, query: TargetQuery, *, count: bool = True) -> QueryResult:
    """The targets matching ``query`` (loaded with aliases, extras and lists)."""
    from sqlalchemy import func, select

    from tomcore.services.sky import separation_deg

    with tom.db.session(readonly=True) as session:
        ids = list(session.execute(select_ids(tom, session, query)).scalars())
        total = len(ids)
        if count and (query.limit is not None or query.offset):
            total = int(session.execute(select(func.count()).select_from(
                select_ids(tom, session, query, ordered=False).subquery())).scalar_one())
        targets = list(tom.targets.load(session, ids).values())
        centre = _centre(tom, session, query)
    separations: dict[int, float] = {}
    if centre is not None and targets:
        seps = separation_deg(centre[0], centre[1], [t.ra for t in targets], [t.dec for t in targets]) * 3600.0
        separations = {t.id: float(s) for t, s in zip(targets, seps.tolist(), strict=True) if t.id is not None}
    return QueryResult(targets, total, separations, (centre[0], centre[1]) if centre else None)


#: Targets loaded per step of :func:`stream`.
STREAM_CHUNK = 1000


def stream(tom: Tom, query: TargetQuery, *, chunk: int | None = None) -> Iterator[QueryResult]:
    """The targets matching ``query``, in order, a chunk of ``chunk`` (default
    :data:`STREAM_CHUNK`) at a time: memory stays bounded however many match (``tom
    targets list --json`` over a million targets).

    The ids come from one cursor read as it goes (a server-side cursor on PostgreSQL), in
    one read transaction, so the chunks come from one consistent snapshot. Each yielded
    :class:`QueryResult` holds one chunk (``total`` is the chunk's size) with its
    separations when there is a cone or near centre.
    """
    from tomcore.services.sky import separation_deg

    chunk = chunk or STREAM_CHUNK
    with tom.db.session(readonly=True) as session:
        centre = _centre(tom, session, query)
        result = session.execute(select_ids(tom, session, query).execution_options(yield_per=chunk))
        for ids in result.scalars().partitions(chunk):
            targets = list(tom.targets.load(session, ids).values())
            separations: dict[int, float] = {}
            if centre is not None and targets:
                seps = separation_deg(centre[0], centre[1], [t.ra for t in targets], [t.dec for t in targets]) * 3600.0
                separations = {t.id: float(s) for t, s in zip(targets, seps.tolist(), strict=True) if t.id is not None}
            yield QueryResult(targets, len(targets), separations, (centre[0], centre[1]) if centre else None)
