"""The ALeRCE broker: parameters, paging, object detail and light curves."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from tom_broker_alerce.client import AlerceClient
from tom_broker_alerce.mapping import (
    ORDER_BY,
    ORDER_MODE,
    alert_from_item,
    build_query,
    page_from_items,
    points_from_lightcurve_body,
    top_probability,
    web_url,
)
from tomcore.config import Setting
from tomcore.contracts.base import Param
from tomcore.contracts.brokers import Broker, Choice
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint
from tomcore.errors import ServiceError, ValidationError

DEFAULT_BASE_URL = "https://api.alerce.online/ztf/v1"
DEFAULT_WEB_URL = "https://alerce.online/object/"


class AlerceBroker(Broker):
    name = "alerce"
    title = "ALeRCE"
    description = "ZTF objects classified by ALeRCE (api.alerce.online, ZTF API v1)."
    score_description = "probability of the class (classifier lc_classifier unless chosen)"
    supports_since = True
    live_choices = ("classifier", "class_name")
    settings = (
        Setting("base_url", DEFAULT_BASE_URL, help="The ALeRCE ZTF API root (TOM_ALERCE_BASE_URL)."),
        Setting("web_url", DEFAULT_WEB_URL, help="Object pages on the ALeRCE website."),
        Setting("max_pages", 1000, "int", help="A query stops after this many pages (and says so)."),
    )
    params = (
        Param("oid", multiple=True, metavar="OID",
              help="ZTF object id; one value may use * as a wildcard (ZTF21*), several are matched exactly."),
        Param("classifier", help="Classifier name, e.g. lc_classifier, stamp_classifier (tom alerts choices alerce classifier)."),
        Param("classifier_version", help="Classifier version, e.g. hierarchical_random_forest_1.1.0."),
        Param("class_name", cli="--class", metavar="CLASS", help="Class within the classifier, e.g. SNIa."),
        Param("probability", "float", minimum=0.0, maximum=1.0, help="Minimum probability of the class."),
        Param("ranking", "int", minimum=1, help="Rank of the class (the server uses 1 when a classifier or class is given)."),
        Param("ndet_min", "int", minimum=0, help="Minimum number of detections."),
        Param("ndet_max", "int", minimum=0, help="Maximum number of detections."),
        Param("firstmjd_min", "float", metavar="MJD", help="First detection at or after this MJD."),
        Param("firstmjd_max", "float", metavar="MJD", help="First detection at or before this MJD."),
        Param("lastmjd_min", "float", metavar="MJD", help="Last detection at or after this MJD."),
        Param("lastmjd_max", "float", metavar="MJD", help="Last detection at or before this MJD."),
        Param("ra", "float", minimum=0.0, maximum=360.0, metavar="DEG", help="Cone centre RA (degrees); needs --dec."),
        Param("dec", "float", minimum=-90.0, maximum=90.0, metavar="DEG", help="Cone centre Dec (degrees); needs --ra."),
        Param("radius", "float", minimum=0.0, maximum=36000.0, metavar="ARCSEC",
              help="Cone radius in arcseconds (the server's default is 30)."),
        Param("order_by", choices=ORDER_BY, help="Sort column."),
        Param("order_mode", choices=ORDER_MODE, help="Sort direction."),
        Param("page_size", "int", default=100, minimum=1, maximum=1000, help="Objects per request."),
    )

    def __init__(self) -> None:
        self._client: AlerceClient | None = None
        self._classifiers: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def client(self) -> AlerceClient:
        with self._lock:
            if self._client is None:
                self._client = AlerceClient(self.http_client(str(self.config["base_url"])))
            return self._client

    @client.setter
    def client(self, client: AlerceClient) -> None:
        self._client = client

    def web_url(self, object_id: str) -> str:
        base = self.config["web_url"] if hasattr(self, "config") else DEFAULT_WEB_URL
        return web_url(object_id, str(base))

    @property
    def _base_web(self) -> str:
        return str(self.config["web_url"]) if hasattr(self, "config") else DEFAULT_WEB_URL

    # -- parameters --------------------------------------------------------------------------------

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if (params.get("ra") is None) != (params.get("dec") is None):
            errors["ra" if params.get("ra") is None else "dec"] = ["a cone needs both ra and dec"]
        if params.get("radius") is not None and params.get("ra") is None:
            errors.setdefault("radius", []).append("needs ra and dec")
        for low, high in (("ndet_min", "ndet_max"), ("firstmjd_min", "firstmjd_max"), ("lastmjd_min", "lastmjd_max")):
            if params.get(low) is not None and params.get(high) is not None and params[low] > params[high]:
                errors.setdefault(low, []).append(f"is above {high}")
        if errors:
            raise ValidationError("invalid ALeRCE query parameters", errors)
        return params

    def classifiers(self) -> list[dict[str, Any]]:
        """The server's classifiers (cached): name, version and classes."""
        if self._classifiers is None:
            self._classifiers = [c for c in self.client.classifiers() if isinstance(c, dict)]
        return self._classifiers

    def choices(self, param: str) -> list[Choice]:
        if param == "classifier":
            return [Choice(str(c.get("classifier_name")), f"version {c.get('classifier_version')}; classes: "
                           + ", ".join(map(str, c.get("classes") or []))) for c in self.classifiers()]
        if param == "class_name":
            owners: dict[str, list[str]] = {}
            for c in self.classifiers():
                for klass in c.get("classes") or []:
                    owners.setdefault(str(klass), []).append(str(c.get("classifier_name")))
            return [Choice(k, ", ".join(dict.fromkeys(v))) for k, v in sorted(owners.items())]
        return super().choices(param)

    def _check_live(self, params: Mapping[str, Any]) -> None:
        """Check classifier and class against the server's list (the server itself does
        not, and answers an empty list for a misspelt name)."""
        if not params.get("classifier") and not params.get("class_name"):
            return
        try:
            known = self.classifiers()
        except ServiceError:
            return  # cannot check now; the query itself will tell
        names = {c.get("classifier_name") for c in known}
        classifier = params.get("classifier")
        if classifier and classifier not in names:
            raise ValidationError("invalid ALeRCE query parameters", {
                "classifier": [f"{classifier!r} is not one of: {', '.join(sorted(map(str, names)))}"]})
        klass = params.get("class_name")
        if klass:
            pool = [c for c in known if not classifier or c.get("classifier_name") == classifier]
            classes = {str(k) for c in pool for k in (c.get("classes") or [])}
            if classes and klass not in classes:
                raise ValidationError("invalid ALeRCE query parameters", {
                    "class_name": [f"{klass!r} is not a class of {classifier or 'any classifier'}: "
                                   f"{', '.join(sorted(classes))}"]})

    # -- the contract ------------------------------------------------------------------------------

    def query(self, params: Mapping[str, Any], *, limit: int | None = None,
              since: datetime | None = None) -> Iterator[AlertPage]:
        self._check_live(params)
        base = build_query(params, since=since)
        size = int(params.get("page_size") or 100)
        if limit is not None:
            size = max(1, min(size, limit))
        max_pages = int(self.config["max_pages"]) if hasattr(self, "config") else 1000
        given = 0
        number = 1
        while True:
            if number > max_pages:
                yield AlertPage(problems=[f"stopped after {max_pages} pages of {size}: narrow the query, "
                                          "give --limit, or raise [plugins.alerce] max_pages"])
                return
            data = self.client.search([*base, ("page", number), ("page_size", size), ("count", "false")])
            items = data["items"]
            if not items:
                return
            if limit is not None:
                items = items[: limit - given]
            page = page_from_items(items, base_web=self._base_web)
            given += len(items)
            yield page
            if limit is not None and given >= limit:
                return
            # Page on until an empty page, even after a short one: the server reports no total
            # (count=false) and a deployment may cap page_size below what was asked.
            number += 1

    def fetch(self, object_id: str) -> Alert:
        item = self.client.object(object_id)
        alert = alert_from_item(item, base_web=self._base_web)
        probabilities = self.client.probabilities(object_id)
        top = top_probability(probabilities)
        if top is not None:
            alert.classification = str(top.get("class_name"))
            alert.score = float(top["probability"])
            alert.extras.update(alerce_class=alert.classification, alerce_probability=alert.score,
                                alerce_classifier=str(top.get("classifier_name")))
        alert.light_curve = self.light_curve(object_id)
        detections = [p for p in alert.light_curve if p.mag is not None]
        if detections:
            alert.mag = max(detections, key=lambda p: p.time).mag
        alert.raw = {"object": item, "probabilities": probabilities}
        return alert

    def light_curve(self, object_id: str) -> list[PhotometryPoint]:
        return points_from_lightcurve_body(object_id, self.client.lightcurve_body(object_id))
