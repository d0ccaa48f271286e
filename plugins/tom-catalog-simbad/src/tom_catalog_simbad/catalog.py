"""The ``simbad`` catalog: SIMBAD rows mapped to sidereal targets.

For each name it fills name (SIMBAD's main identifier), ra, dec (ICRS, epoch J2000), proper
motions, parallax and, from ``mesDistance``, the distance with its error; the object type,
radial velocity, redshift and spectral type become typed extras; every identifier of the
object becomes an alias. Many names are resolved with one query per ``batch_size`` names,
sent as a TAP upload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from tom_catalog_simbad.queries import (
    NAMES_TABLE,
    OIDS_TABLE,
    clean_identifier,
    distances_query,
    identifier_key,
    names_upload,
    objects_query,
    oids_upload,
)
from tomcore.config import Setting
from tomcore.contracts.catalogs import Catalog
from tomcore.domain.catalogs import CatalogEntry, Resolution
from tomcore.domain.targets import SIDEREAL, Target

if TYPE_CHECKING:  # pragma: no cover
    from tom_catalog_simbad.client import TapClient, TapResult
    from tomcore.config import SectionView

log = logging.getLogger("tom_catalog_simbad")

DEFAULT_TAP_URL = "https://simbad.cds.unistra.fr/simbad/sim-tap"
#: Distance units of ``mesDistance`` to parsecs.
DISTANCE_UNITS = {"pc": 1.0, "kpc": 1e3, "mpc": 1e6, "gpc": 1e9}


class SimbadCatalog(Catalog):
    """SIMBAD (CDS, Strasbourg) through its TAP service."""

    name = "simbad"
    title = "SIMBAD"
    description = ("Stars, galaxies and transients by name: position, proper motion, parallax, distance, "
                   "velocity or redshift, object type and every identifier.")
    target_type = SIDEREAL
    info_url = "https://simbad.cds.unistra.fr/simbad/"
    batch_size = 100
    settings = (
        Setting("tap_url", DEFAULT_TAP_URL, help="SIMBAD's TAP service; queries go to <tap_url>/sync. "
                "Mirror: https://simbad.harvard.edu/simbad/sim-tap"),
        Setting("batch_size", 100, "int", help="Names resolved per query when resolving many."),
        Setting("distances", True, "bool", help="Also read published distances (mesDistance), one more query per batch."),
        Setting("maxrec", 20000, "int", help="Most rows a query may return (MAXREC); a larger answer is split."),
        Setting("min_interval", 0.2, "float", help="Seconds between two queries (SIMBAD blacklists clients "
                "sending more than about 6 queries a second)."),
        Setting("timeout", None, "float", help="Seconds to wait for an answer (default: [http] timeout)."),
        Setting("retries", None, "int", help="Retries on 5xx and connection errors (default: [http] retries)."),
    )

    _client: TapClient | None = None

    def bind(self, config: SectionView, plugin_name: str) -> None:
        super().bind(config, plugin_name)
        self.batch_size = max(1, int(config["batch_size"]))
        self._client = None

    @property
    def client(self) -> TapClient:
        if self._client is None:
            from tom_catalog_simbad.client import TapClient

            self._client = TapClient(self.http_client(self.config["tap_url"], service=self.title),
                                     maxrec=self.config["maxrec"], min_interval=self.config["min_interval"])
        return self._client

    # -- the contract --------------------------------------------------------------------------

    def resolve(self, term: str, **options: Any) -> list[CatalogEntry]:
        return self.resolve_many([term], **options)[0].entries

    def resolve_many(self, terms: Sequence[str], *, progress: Callable[[int], None] | None = None,
                     **options: Any) -> list[Resolution]:
        """Resolve ``terms`` with one query per ``batch_size`` distinct names (uploaded as a
        table, plus one query for their distances)."""
        wanted = list(dict.fromkeys(t.strip() for t in terms if t and t.strip()))
        found: dict[str, list[CatalogEntry]] = {}
        for start in range(0, len(wanted), self.batch_size):
            chunk = wanted[start:start + self.batch_size]
            rows_by_index: dict[int, list[dict[str, Any]]] = {}
            for row in self._query_split(list(enumerate(chunk)), self._names_query):
                index = row.get("asked_index")
                if not isinstance(index, int) or not 0 <= index < len(chunk):
                    log.warning("SIMBAD answered a row for no name asked (asked_index %r)", index)
                    continue
                rows = rows_by_index.setdefault(index, [])
                if all(r.get("oid") != row.get("oid") for r in rows):
                    rows.append(row)
            oids = {row["oid"] for rows in rows_by_index.values() for row in rows if row.get("oid") is not None}
            distances: dict[int, list[dict[str, Any]]] = {}
            if oids and self.config["distances"]:
                for row in self._query_split(sorted(oids), self._distances_query):
                    distances.setdefault(row["oidref"], []).append(row)
            for index, term in enumerate(chunk):
                found[term] = [self.entry(term, row, distances.get(row["oid"], []) if row.get("oid") is not None else [])
                               for row in rows_by_index.get(index, [])]
            if progress is not None:
                progress(len(chunk))
        # a name of several objects comes back with all of them (status "ambiguous")
        return [Resolution(term=term, entries=found.get((term or "").strip(), [])) for term in terms]

    # -- steps ---------------------------------------------------------------------------------

    def _names_query(self, names: Sequence[tuple[int, str]]) -> TapResult:
        return self.client.query(objects_query(), uploads={NAMES_TABLE: names_upload(names)})

    def _distances_query(self, oids: Sequence[int]) -> TapResult:
        return self.client.query(distances_query(), uploads={OIDS_TABLE: oids_upload(oids)})

    def _query_split(self, items: Sequence[Any], run: Callable[[Sequence[Any]], TapResult]) -> list[dict[str, Any]]:
        """Run ``run(items)``; when the service truncates the answer (OVERFLOW), ask again
        in two halves."""
        result = run(items)
        if result.overflow:
            if len(items) > 1:
                middle = len(items) // 2
                return self._query_split(items[:middle], run) + self._query_split(items[middle:], run)
            log.warning("SIMBAD truncated the answer for %r at %d rows (maxrec)", items[0], len(result.rows))
        return result.rows

    def entry(self, term: str, row: dict[str, Any], distances: list[dict[str, Any]]) -> CatalogEntry:
        """Map one SIMBAD row (and its distances) to a catalog entry."""
        main_id = row.get("main_id") or row.get("matched_id") or term
        name = clean_identifier(main_id)
        aliases: list[str] = []
        seen = {identifier_key(name)}
        for identifier in (row.get("ids") or "").split("|"):
            alias = clean_identifier(identifier)
            key = identifier_key(alias)
            if alias and key not in seen:
                seen.add(key)
                aliases.append(alias)
        if identifier_key(term) not in seen:
            aliases.append(term)
        extras: dict[str, Any] = {}
        for key, column in (("object_type", "otype"), ("redshift", "rvz_redshift"),
                            ("radial_velocity", "rvz_radvel"), ("spectral_type", "sp_type")):
            if row.get(column) is not None:
                extras[key] = row[column]
        distance, distance_err, chosen = pick_distance(distances)
        target = Target(
            name=name, type=SIDEREAL, ra=_float(row.get("ra")), dec=_float(row.get("dec")),
            epoch=2000.0 if row.get("ra") is not None else None,
            pm_ra=_float(row.get("pmra")), pm_dec=_float(row.get("pmdec")), parallax=_float(row.get("plx_value")),
            distance=distance, distance_err=distance_err, aliases=aliases, extras=extras,
        )
        note = f"distance from {chosen['bibcode']}" if chosen and chosen.get("bibcode") else None
        return CatalogEntry(catalog=self.name, term=term, target=target, identifier=name, url=self.page_url(main_id),
                            note=note, raw={**row, "distances": distances})

    def page_url(self, main_id: str) -> str | None:
        """SIMBAD's web page of the object (next to the TAP service)."""
        parts = urlsplit(str(self.config["tap_url"]))
        path = parts.path.rstrip("/")
        if not path.endswith("/sim-tap"):
            return None
        # a page people open: no credentials of the TAP URL (user:password@) in it
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, f"{path[:-len('sim-tap')]}sim-id", f"Ident={quote(main_id)}", ""))


def pick_distance(rows: list[dict[str, Any]]) -> tuple[float | None, float | None, dict[str, Any] | None]:
    """The most recent published distance (by the year of its bibcode), in parsecs, with
    its error (the mean of the minus and plus errors given)."""
    usable = []
    for row in rows:
        factor = DISTANCE_UNITS.get((row.get("unit") or "").strip().lower())
        if factor is not None and _float(row.get("dist")) is not None:
            usable.append((row, factor))
    if not usable:
        return None, None, None
    row, factor = max(usable, key=lambda item: str(item[0].get("bibcode") or ""))
    errors = [abs(v) for v in (_float(row.get("minus_err")), _float(row.get("plus_err"))) if v is not None]
    distance = float(row["dist"]) * factor
    return distance, (sum(errors) / len(errors) * factor if errors else None), row


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)
