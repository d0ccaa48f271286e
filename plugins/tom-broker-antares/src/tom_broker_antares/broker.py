"""The ANTARES broker: Elasticsearch queries from options, links.next paging, loci with
their CSV light curves, tags from the statistics endpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from tom_broker_antares.client import AntaresClient
from tom_broker_antares.mapping import (
    MAX_RADIUS_DEG,
    alert_from_locus,
    build_query,
    page_from_results,
    points_from_csv,
    web_url,
)
from tomcore.config import Setting
from tomcore.contracts.base import Param
from tomcore.contracts.brokers import Broker, Choice
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint
from tomcore.errors import NotFoundError, ServiceError, ValidationError

DEFAULT_BASE_URL = "https://api.antares.noirlab.edu/v2"
DEFAULT_WEB_URL = "https://antares.noirlab.edu/loci/"
FILTERS = ("ztf_object_id", "tags", "ra", "dec", "radius", "nobs_min", "nobs_max", "first_mjd_min", "first_mjd_max",
           "last_mjd_min", "last_mjd_max", "mag_min", "mag_max")


class AntaresBroker(Broker):
    name = "antares"
    title = "ANTARES"
    description = "Loci from the NSF NOIRLab ANTARES broker (REST API v2, Elasticsearch queries)."
    supports_since = True
    live_choices = ("tags",)
    settings = (
        Setting("base_url", DEFAULT_BASE_URL, help="The ANTARES REST API v2 root (TOM_ANTARES_BASE_URL)."),
        Setting("web_url", DEFAULT_WEB_URL, help="Locus pages on the ANTARES website."),
        Setting("max_pages", 1000, "int", help="A query stops after this many pages (and says so)."),
    )
    params = (
        Param("ztf_object_id", cli="--ztf-id", multiple=True, metavar="ZTFID", help="ZTF object id (ZTF24abcdxyz)."),
        Param("locus_id", metavar="ANTID", help="One ANTARES locus id; no other option with it."),
        Param("tags", cli="--tag", multiple=True, metavar="TAG",
              help="Loci with any of these tags (tom alerts choices antares tags)."),
        Param("ra", "float", minimum=0.0, maximum=360.0, metavar="DEG", help="Cone centre RA (degrees); needs --dec."),
        Param("dec", "float", minimum=-90.0, maximum=90.0, metavar="DEG", help="Cone centre Dec (degrees); needs --ra."),
        Param("radius", "float", minimum=0.0, maximum=MAX_RADIUS_DEG, metavar="DEG",
              help="Cone radius in degrees, at most 1 (default 0.01)."),
        Param("nobs_min", "int", minimum=0, help="At least this many measurements (num_mag_values)."),
        Param("nobs_max", "int", minimum=0, help="At most this many measurements."),
        Param("first_mjd_min", "float", metavar="MJD", help="First alert at or after this MJD."),
        Param("first_mjd_max", "float", metavar="MJD", help="First alert at or before this MJD."),
        Param("last_mjd_min", "float", metavar="MJD", help="Newest alert at or after this MJD."),
        Param("last_mjd_max", "float", metavar="MJD", help="Newest alert at or before this MJD."),
        Param("mag_min", "float", metavar="MAG", help="Newest alert magnitude at least this (fainter)."),
        Param("mag_max", "float", metavar="MAG", help="Newest alert magnitude at most this (brighter)."),
        Param("es_query", "json", metavar="JSON",
              help='A raw Elasticsearch query, {"query": {...}}, instead of the filter options.'),
        Param("page_size", "int", default=100, minimum=1, maximum=1000, help="Loci per request."),
    )

    def __init__(self) -> None:
        self._client: AntaresClient | None = None
        self._tags: dict[str, int] | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> AntaresClient:
        with self._lock:
            if self._client is None:
                self._client = AntaresClient(self.http_client(str(self.config["base_url"])))
            return self._client

    @client.setter
    def client(self, client: AntaresClient) -> None:
        self._client = client

    @property
    def _base_web(self) -> str:
        return str(self.config["web_url"]) if hasattr(self, "config") else DEFAULT_WEB_URL

    def web_url(self, object_id: str) -> str:
        return web_url(object_id, self._base_web)

    # -- parameters --------------------------------------------------------------------------------

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if (params.get("ra") is None) != (params.get("dec") is None):
            errors["ra" if params.get("ra") is None else "dec"] = ["a cone needs both ra and dec"]
        if params.get("radius") is not None and params.get("ra") is None:
            errors.setdefault("radius", []).append("needs ra and dec")
        for low, high in (("nobs_min", "nobs_max"), ("first_mjd_min", "first_mjd_max"),
                          ("last_mjd_min", "last_mjd_max"), ("mag_min", "mag_max")):
            if params.get(low) is not None and params.get(high) is not None and params[low] > params[high]:
                errors.setdefault(low, []).append(f"is above {high}")
        given = [f for f in FILTERS if params.get(f) not in (None, [])]
        if params.get("locus_id") and (given or params.get("es_query") is not None):
            errors.setdefault("locus_id", []).append(f"cannot be combined with {', '.join(given) or 'es_query'}")
        raw = params.get("es_query")
        if raw is not None:
            if not isinstance(raw, dict) or set(raw) != {"query"} or not isinstance(raw["query"], dict):
                errors.setdefault("es_query", []).append(
                    'must be a JSON object with the single key "query" (ANTARES refuses other top-level keys)')
            elif given:
                errors.setdefault("es_query", []).append(f"cannot be combined with {', '.join(given)}")
        if errors:
            raise ValidationError("invalid ANTARES query parameters", errors)
        return params

    def tags(self) -> dict[str, int]:
        """The tags and how many loci carry each (``loci/statistics``), cached."""
        if self._tags is None:
            stats = self.client.statistics()
            tags = stats.get("tags") if isinstance(stats.get("tags"), dict) else {}
            self._tags = {str(k): int(v) if isinstance(v, (int, float)) else 0 for k, v in tags.items()}
        return self._tags

    def choices(self, param: str) -> list[Choice]:
        if param == "tags":
            return [Choice(tag, f"{count} loci") for tag, count in sorted(self.tags().items())]
        return super().choices(param)

    def _check_tags(self, params: Mapping[str, Any]) -> None:
        if not params.get("tags"):
            return
        try:
            known = self.tags()
        except ServiceError:
            return  # cannot check now; the query itself will tell
        unknown = [t for t in params["tags"] if t not in known]
        if unknown and known:
            raise ValidationError("invalid ANTARES query parameters", {
                "tags": [f"unknown tags {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}"]})

    # -- the contract ------------------------------------------------------------------------------

    def query(self, params: Mapping[str, Any], *, limit: int | None = None,
              since: datetime | None = None) -> Iterator[AlertPage]:
        if params.get("locus_id"):
            try:
                alert = self.fetch(str(params["locus_id"]), with_light_curve=False)
            except NotFoundError:
                return
            yield AlertPage(alerts=[alert], total=1)
            return
        self._check_tags(params)
        size = int(params.get("page_size") or 100)
        if limit is not None:
            size = max(1, min(size, limit))
        max_pages = int(self.config["max_pages"]) if hasattr(self, "config") else 1000
        data = self.client.search(build_query(params, since=since), limit=size)
        given = 0
        number = 1
        while True:
            results = data["data"]
            if limit is not None:
                results = results[: limit - given]
            meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            total = meta.get("count") if isinstance(meta.get("count"), int) else None
            page = page_from_results(results, base_web=self._base_web)
            page.total = total if limit is None or total is None else min(total, limit)
            given += len(results)
            if results or page.problems:
                yield page
            links = data.get("links") if isinstance(data.get("links"), dict) else {}
            following = links.get("next")
            if not following or not data["data"] or (limit is not None and given >= limit):
                return
            if number >= max_pages:
                yield AlertPage(problems=[f"stopped after {max_pages} pages of {size}: narrow the query, "
                                          "give --limit, or raise [plugins.antares] max_pages"])
                return
            number += 1
            data = self.client.next_page(str(following))

    def fetch(self, object_id: str, *, with_light_curve: bool = True) -> Alert:
        locus = self.client.locus(object_id)
        alert = alert_from_locus(locus, base_web=self._base_web)
        if with_light_curve:
            alert.light_curve = points_from_csv(alert.object_id, locus.get("lightcurve"))
        return alert

    def light_curve(self, object_id: str) -> list[PhotometryPoint]:
        locus = self.client.locus(object_id)
        return points_from_csv(object_id, locus.get("lightcurve"))
