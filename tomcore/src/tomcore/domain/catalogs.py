"""What catalogs return: entries mapped to target fields, and the outcome of resolving a term.

A catalog (SIMBAD, JPL Horizons...) turns a *term* (a name or a designation) into zero or
more :class:`CatalogEntry` objects. Each entry carries a :class:`~tomcore.domain.targets.Target`
with every field the catalog could fill (coordinates and proper motions, or orbital
elements), the object's other names as aliases, values the target model has no column for as
typed extras (``redshift``, ``object_type``...), and the catalog's own record.
"""

from __future__ import annotations

from typing import Any

import attrs

from tomcore.domain.targets import MODEL_FIELDS, Target
from tomcore.errors import AmbiguousError, TomError


@attrs.define(kw_only=True)
class CatalogEntry:
    """One object a catalog found for a term.

    :param catalog: the catalog's name (``simbad``).
    :param term: what was asked for.
    :param target: every target field the catalog could fill, with aliases and extras; its
        ``id`` is None (the core decides whether it is a new target).
    :param identifier: the catalog's own identifier of the object (SIMBAD's main identifier,
        Horizons' record number), to ask for exactly this object again.
    :param url: a page about the object at the catalog, for people.
    :param note: something to show the user about this entry.
    :param raw: the catalog's record, as the catalog gave it (a row as a dict, parsed text).
    """

    catalog: str
    term: str
    target: Target
    identifier: str | None = None
    url: str | None = None
    note: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def aliases(self) -> list[str]:
        return self.target.aliases

    def fields(self) -> dict[str, Any]:
        """The target fields the catalog filled (those left None are omitted)."""
        return {key: value for key, value in self.target.fields().items() if value is not None}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly view: the mapped fields, aliases and extras (no raw record)."""
        return {
            "catalog": self.catalog,
            "term": self.term,
            "identifier": self.identifier,
            "url": self.url,
            "note": self.note,
            **{key: getattr(self.target, key) for key in MODEL_FIELDS},
            "aliases": list(self.target.aliases),
            "extras": dict(self.target.extras),
        }


@attrs.define(kw_only=True)
class Resolution:
    """What a catalog made of one term of a batch.

    :param entries: the objects found (empty: not found).
    :param error: why this term could not be resolved when the rest of the batch could
        (an :class:`~tomcore.errors.AmbiguousError` listing candidates, for example).
    """

    term: str
    entries: list[CatalogEntry] = attrs.Factory(list)
    error: TomError | None = None

    @property
    def found(self) -> bool:
        """Exactly one object was found."""
        return self.status == "found"

    @property
    def status(self) -> str:
        """``found``, ``not found``, ``ambiguous`` (several objects) or ``error``."""
        if self.error is not None:
            return "ambiguous" if isinstance(self.error, AmbiguousError) else "error"
        if not self.entries:
            return "not found"
        return "ambiguous" if len(self.entries) > 1 else "found"
