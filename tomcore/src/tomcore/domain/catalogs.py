"""What catalogs return."""

from __future__ import annotations

from typing import Any

import attrs

from tomcore.domain.targets import Target


@attrs.define(kw_only=True)
class CatalogEntry:
    """One object a catalog found for a term.

    :param catalog: the catalog's name.
    :param term: what was asked for.
    :param target: every target field the catalog could fill, with aliases and extras.
    :param note: something to show the user (a record number to pick an ambiguous match).
    :param raw: the catalog's record.
    """

    catalog: str
    term: str
    target: Target
    note: str | None = None
    raw: Any = attrs.field(default=None, repr=False)
