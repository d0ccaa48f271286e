"""Catalogs: list them, look a term up, and create or update targets from what they return.

``tom.catalogs`` is the one place catalog plugins are used. It validates a catalog's
options, resolves terms (many names in batches of the catalog's ``batch_size``), and turns
entries into targets through :meth:`tomcore.services.targets.TargetService.save`, so a
catalog target is matched against existing ones by name, alias and position exactly like a
hand-made or imported one.

Used by ``tom catalog list|query``, ``tom targets add --from CATALOG:TERM`` and
``tom targets import FILE --resolve CATALOG``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.contracts.base import validate_params
from tomcore.domain.catalogs import CatalogEntry, Resolution
from tomcore.domain.targets import MODEL_FIELDS, unique_names
from tomcore.errors import AmbiguousError, NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.contracts.catalogs import Catalog
    from tomcore.services.matcher import MatchCandidate
    from tomcore.services.targets import SaveOutcome, SaveReport


@attrs.define
class CreateResult:
    """What creating a target from a catalog entry did.

    :param action: ``created``, ``updated``, ``unchanged`` (updated with nothing new) or
        ``exists`` (an existing target matched and was left alone).
    :param target: the target as saved, or the existing one it matched.
    """

    entry: CatalogEntry
    outcome: SaveOutcome
    action: str
    target: Any = None

    @property
    def matches(self) -> list[MatchCandidate]:
        return list(self.outcome.candidates)


@attrs.define
class ImportReport:
    """The outcome of importing names through a catalog: what each name resolved to, and
    what saving the found targets did."""

    catalog: str
    resolutions: list[Resolution]
    save: SaveReport | None = None

    @property
    def not_found(self) -> list[str]:
        return [r.term for r in self.resolutions if r.status == "not found"]

    @property
    def ambiguous(self) -> list[Resolution]:
        return [r for r in self.resolutions if r.status == "ambiguous"]

    @property
    def failed(self) -> list[Resolution]:
        return [r for r in self.resolutions if r.status == "error"]

    def counts(self) -> dict[str, int]:
        counts = {"names": len(self.resolutions), "found": sum(r.found for r in self.resolutions),
                  "not found": len(self.not_found), "ambiguous": len(self.ambiguous)}
        saved = self.save.counts() if self.save is not None else {}
        for key in ("created", "updated", "unchanged", "skipped", "error"):
            counts[key] = saved.get(key, 0)
        return counts


def parse_spec(spec: str) -> tuple[str, str]:
    """``"simbad:M31"`` -> ``("simbad", "M31")``; the term may itself hold colons."""
    catalog, sep, term = spec.partition(":")
    if not sep or not catalog.strip() or not term.strip():
        raise ValidationError("invalid catalog reference", {"from": [f"{spec!r} is not CATALOG:TERM (e.g. simbad:M31)"]})
    return catalog.strip(), term.strip()


def read_names(source: str | Path | Iterable[str]) -> list[str]:
    """Names from a file (or lines): one per line; blank lines and ``#`` comments skipped;
    repeats dropped, order kept."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            lines: Iterable[str] = path.read_text(encoding="utf-8-sig").splitlines()
        except FileNotFoundError:
            raise NotFoundError(f"no such file: {path}") from None
        except UnicodeDecodeError as exc:
            raise ValidationError(f"{path} is not a UTF-8 text file", {str(path): [str(exc)]}) from None
    else:
        lines = source
    names = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            names.append(text)
    return unique_names(names)


class CatalogService:
    """The catalogs of one TOM (``tom.catalogs``)."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    # -- catalogs ------------------------------------------------------------------------------

    def get(self, name: str) -> Catalog:
        """The catalog called ``name``; an error listing the installed ones otherwise."""
        catalog: Catalog = self.tom.components.catalogs.get(name)
        return catalog

    def all(self) -> list[Catalog]:
        return [catalog for _name, catalog in self.tom.components.catalogs.items()]

    def describe(self) -> list[dict[str, Any]]:
        """One row per catalog: name, title, what it gives, plugin, batch size, options."""
        rows = []
        for catalog in self.all():
            rows.append({
                "name": catalog.name,
                "title": catalog.display_name,
                "description": catalog.description,
                "target_type": catalog.target_type,
                "batch_size": catalog.batch_size,
                "options": [{"name": p.name, "type": p.type, "help": p.help, "choices": p.choices} for p in catalog.params],
                "plugin": catalog.plugin_name,
                "info_url": catalog.info_url,
            })
        return rows

    def options(self, catalog: Catalog, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """Check and convert options given for ``catalog`` (every bad one reported at once)."""
        return validate_params(catalog.params, dict(values or {}), what=f"{catalog.name} options")

    # -- looking up ----------------------------------------------------------------------------

    def query(self, catalog: str, term: str, options: Mapping[str, Any] | None = None) -> list[CatalogEntry]:
        """Everything ``catalog`` returns for ``term``, mapped to target fields (may be empty)."""
        component = self.get(catalog)
        if not term or not term.strip():
            raise ValidationError("nothing to look up", {"term": ["is empty"]})
        return component.resolve(term.strip(), **self.options(component, options))

    def lookup(self, catalog: str, term: str, options: Mapping[str, Any] | None = None) -> CatalogEntry:
        """The one object ``catalog`` finds for ``term``: :class:`NotFoundError` when none,
        :class:`AmbiguousError` listing them when several."""
        entries = self.query(catalog, term, options)
        component = self.get(catalog)
        if not entries:
            raise NotFoundError(f"{component.display_name}: nothing found for {term.strip()!r}")
        if len(entries) > 1:
            raise AmbiguousError(
                f"{component.display_name}: {term.strip()!r} matches {len(entries)} objects; ask for one of them",
                [(e.identifier or e.name, e.name) for e in entries])
        return entries[0]

    def resolve_many(self, catalog: str, terms: Sequence[str], *, options: Mapping[str, Any] | None = None,
                     progress: Callable[[int], None] | None = None) -> list[Resolution]:
        """Resolve ``terms`` in batches of the catalog's ``batch_size`` (one request per batch
        where the catalog supports it); one resolution per term, in order."""
        component = self.get(catalog)
        checked = self.options(component, options)
        size = max(1, int(component.batch_size or 1))
        results: list[Resolution] = []
        for start in range(0, len(terms), size):
            results += component.resolve_many(list(terms[start:start + size]), progress=progress, **checked)
        return results

    # -- creating targets ----------------------------------------------------------------------

    def create(self, catalog: str, term: str, *, update: bool = False, name: str | None = None,
               aliases: Sequence[str] = (), extras: Mapping[str, Any] | None = None, lists: Sequence[str] = (),
               fields: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
               on_duplicate: str | None = None) -> CreateResult:
        """Look ``term`` up and create the target through the matcher.

        A target matching an existing one (by name, alias or position) is left alone and
        reported (``action="exists"``), or updated with the catalog's values when
        ``update`` is set. ``name`` replaces the catalog's name (which becomes an alias);
        ``aliases``, ``extras`` and ``lists`` are added; ``fields`` (typed target fields)
        replace the catalog's values. ``on_duplicate="error"`` refuses a match with
        :class:`ValidationError` instead.
        """
        entry = self.lookup(catalog, term, options)
        return self.save_entry(entry, update=update, name=name, aliases=aliases, extras=extras, lists=lists,
                               fields=fields, on_duplicate=on_duplicate)

    def add_from(self, spec: str, **kwargs: Any) -> CreateResult:
        """:meth:`create` from a ``CATALOG:TERM`` reference (``tom targets add --from``)."""
        catalog, term = parse_spec(spec)
        return self.create(catalog, term, **kwargs)

    def save_entry(self, entry: CatalogEntry, *, update: bool = False, name: str | None = None,
                   aliases: Sequence[str] = (), extras: Mapping[str, Any] | None = None, lists: Sequence[str] = (),
                   fields: Mapping[str, Any] | None = None, on_duplicate: str | None = None) -> CreateResult:
        """Create (or update) the target of one catalog entry through the matcher."""
        target = prepare_target(entry, name=name, aliases=aliases, extras=extras, lists=lists, fields=fields)
        mode = on_duplicate or ("update" if update else "skip")
        report = self.tom.targets.save([target], on_duplicate=mode, overwrite=True, source=entry.catalog)
        outcome = report.outcomes[0]
        if outcome.action == "skipped":
            existing = None
            if outcome.candidates:
                existing = self.tom.targets.get_by_id(outcome.candidates[0].target_id)
            return CreateResult(entry, outcome, "exists", existing)
        return CreateResult(entry, outcome, outcome.action, outcome.target)

    def import_names(self, catalog: str, names: Sequence[str], *, on_duplicate: str = "skip", overwrite: bool = True,
                     lists: Sequence[str] = (), options: Mapping[str, Any] | None = None,
                     progress: Callable[[int], None] | None = None,
                     save_progress: Callable[[int], None] | None = None, dry_run: bool = False) -> ImportReport:
        """Resolve ``names`` through ``catalog`` in batches, then save every target found in
        one transaction through the matcher.

        Names the catalog does not know, or that match several objects, are reported and
        not imported; targets that cannot be saved (a catalog object without coordinates)
        are reported in ``save``. ``dry_run`` resolves without saving.
        """
        wanted = unique_names(names)
        resolutions = self.resolve_many(catalog, wanted, options=options, progress=progress)
        report = ImportReport(catalog, resolutions)
        found = [r for r in resolutions if r.found]
        if dry_run or not found:
            return report
        targets = [prepare_target(r.entries[0], lists=lists) for r in found]
        report.save = self.tom.targets.save(
            targets, on_duplicate=on_duplicate, overwrite=overwrite, skip_invalid=True, source=catalog,
            labels=[repr(r.term) for r in found], progress=save_progress)
        return report


def prepare_target(entry: CatalogEntry, *, name: str | None = None, aliases: Sequence[str] = (),
                   extras: Mapping[str, Any] | None = None, lists: Sequence[str] = (),
                   fields: Mapping[str, Any] | None = None) -> Any:
    """A copy of the entry's target with the caller's name, aliases, extras, lists and
    field values."""
    target = copy.deepcopy(entry.target)
    target.id = None
    for key, value in dict(fields or {}).items():
        if key not in MODEL_FIELDS or key in ("name", "galactic_lng", "galactic_lat"):
            raise ValidationError("invalid target field", {key: ["is not a target field that can be set"]})
        setattr(target, key, value)
    if name and name.strip() and name.strip() != target.name:
        target.aliases = [target.name, *target.aliases]
        target.name = name.strip()
    target.aliases = [a for a in unique_names([*target.aliases, *aliases]) if a != target.name]
    target.extras.update(dict(extras or {}))
    target.lists = unique_names([*target.lists, *lists])
    return target
