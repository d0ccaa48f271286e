"""The catalog contract: resolve a name or designation to target fields."""

from __future__ import annotations

from collections.abc import Sequence

from tomcore.contracts.base import Component
from tomcore.domain.catalogs import CatalogEntry


class Catalog(Component):
    """Base class of catalogs (SIMBAD, JPL Horizons...)."""

    #: How many terms :meth:`resolve_many` sends per request.
    batch_size: int = 1

    def resolve(self, term: str) -> list[CatalogEntry]:
        """Every entry matching ``term``; an empty list when nothing matches.

        An ambiguous term that needs the user to choose raises
        :class:`tomcore.errors.AmbiguousError` with the candidates.
        """
        raise NotImplementedError

    def resolve_many(self, terms: Sequence[str]) -> dict[str, list[CatalogEntry]]:
        """Resolve several terms; the default calls :meth:`resolve` for each.

        Catalogs that can ask for many names in one request override this.
        """
        return {term: self.resolve(term) for term in terms}
