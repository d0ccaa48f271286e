"""The catalog contract: resolve a name or designation to target fields.

A catalog plugin subclasses :class:`Catalog`, sets ``name`` (how users pick it:
``tom catalog query simbad M31``, ``tom targets add --from simbad:M31``), ``title``,
``description`` and its ``settings``, and implements :meth:`Catalog.resolve`. Catalogs that
can ask their service about many names in one request override :meth:`Catalog.resolve_many`
and set ``batch_size``.

A catalog only maps: it returns :class:`~tomcore.domain.catalogs.CatalogEntry` objects and
never writes to the database. The core (``tom.catalogs``) creates or updates targets from
them through the one matcher.

Errors: a term that matches nothing is an empty list, not an exception; a term that needs
the user to choose between several objects raises :class:`~tomcore.errors.AmbiguousError`
with the candidates (identifier and description, such as Horizons record numbers); a service
that fails raises :class:`~tomcore.errors.ServiceError` (``tomcore.http.HttpClient`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from tomcore.contracts.base import Component, Param
from tomcore.domain.catalogs import CatalogEntry, Resolution
from tomcore.errors import AmbiguousError

__all__ = ["Catalog", "CatalogEntry", "Resolution"]


class Catalog(Component):
    """Base class of catalogs (SIMBAD, JPL Horizons...)."""

    #: How many terms :meth:`resolve_many` can send in one request (1: one at a time).
    batch_size: int = 1
    #: Options :meth:`resolve` accepts (``-o KEY=VALUE`` on the command line), validated
    #: and converted by the core before the catalog sees them.
    params: ClassVar[tuple[Param, ...]] = ()
    #: What the target type of its entries usually is (``SIDEREAL``, ``NON_SIDEREAL``), for
    #: listings; None when it varies.
    target_type: ClassVar[str | None] = None
    #: Where people can read about the catalog.
    info_url: ClassVar[str | None] = None

    def resolve(self, term: str, **options: Any) -> list[CatalogEntry]:
        """Every object matching ``term``; an empty list when nothing matches.

        An ambiguous term that needs the user to choose raises
        :class:`tomcore.errors.AmbiguousError` with the candidates.
        """
        raise NotImplementedError

    def resolve_many(self, terms: Sequence[str], *, progress: Callable[[int], None] | None = None,
                     **options: Any) -> list[Resolution]:
        """Resolve several terms; one :class:`Resolution` per term, in order.

        The default calls :meth:`resolve` for each term and records an ambiguous term on its
        own resolution so the rest of the batch still resolves. Catalogs that can ask for
        many names in one request override this (sending ``batch_size`` terms per request).
        ``progress(n)`` is called as terms are done.
        """
        results = []
        for term in terms:
            try:
                results.append(Resolution(term=term, entries=self.resolve(term, **options)))
            except AmbiguousError as exc:
                results.append(Resolution(term=term, error=exc))
            if progress is not None:
                progress(1)
        return results
