"""Observation templates (``tom.observations.templates``): named parameters for a facility,
applied with ``tom observe --template NAME TARGET`` (options given then override them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.errors import DuplicateError, NotFoundError, ValidationError
from tomcore.services.observation_records import jsonable

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom


@attrs.define(kw_only=True)
class TemplateInfo:
    name: str
    facility: str
    observation_type: str | None
    parameters: dict[str, Any]
    created: datetime | None = None
    modified: datetime | None = None


def _info(row: Any) -> TemplateInfo:
    return TemplateInfo(name=row.name, facility=row.facility, observation_type=row.observation_type,
                        parameters=dict(row.parameters or {}), created=row.created, modified=row.modified)


class TemplateService:
    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    def save(self, name: str, facility: str, params: Mapping[str, Any], *, observation_type: str | None = None,
             replace: bool = False) -> TemplateInfo:
        """Check ``params`` against the facility (required ones may be left for later) and
        save them under ``name``."""
        from sqlalchemy import select

        from tomcore.store.models import ObservationTemplateRow

        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationError("bad template name", {"name": ["must have 1 to 200 characters"]})
        component, chosen, checked = self.tom.observations.check(facility, params, observation_type=observation_type,
                                                                 partial=True)
        now = self.tom.now()
        with self.tom.db.session() as session:
            row = session.execute(select(ObservationTemplateRow).where(ObservationTemplateRow.name == name)).scalar()
            if row is not None and not replace:
                raise DuplicateError(f"a template named {name!r} exists (use --replace to overwrite it)")
            if row is None:
                row = ObservationTemplateRow(name=name, created=now)
                session.add(row)
            row.facility, row.observation_type = component.name, chosen
            # Only what was given: defaults apply when the template is used (and may change).
            row.parameters = jsonable({k: v for k, v in checked.items() if params.get(k) not in (None, [], ())})
            row.modified = now
            session.flush()
            return _info(row)

    def get(self, name: str) -> TemplateInfo:
        from sqlalchemy import select

        from tomcore.store.models import ObservationTemplateRow

        with self.tom.db.session(readonly=True) as session:
            row = session.execute(select(ObservationTemplateRow).where(ObservationTemplateRow.name == name)).scalar()
            if row is None:
                raise NotFoundError(f"no observation template named {name!r} (see `tom templates list`)")
            return _info(row)

    def list(self, facility: str | None = None) -> list[TemplateInfo]:
        from sqlalchemy import select

        from tomcore.store.models import ObservationTemplateRow

        query = select(ObservationTemplateRow).order_by(ObservationTemplateRow.name)
        if facility:
            query = query.where(ObservationTemplateRow.facility == facility.lower())
        with self.tom.db.session(readonly=True) as session:
            return [_info(r) for r in session.execute(query).scalars()]

    def delete(self, name: str) -> None:
        from sqlalchemy import delete

        from tomcore.store.models import ObservationTemplateRow

        with self.tom.db.session() as session:
            result: Any = session.execute(delete(ObservationTemplateRow).where(ObservationTemplateRow.name == name))
            if not result.rowcount:
                raise NotFoundError(f"no observation template named {name!r}")
