"""A fake ALeRCE ZTF API v1 server, for tests, benchmarks and the offline demo.

It answers like the real server (apis.md §1, alercebroker/web-services): routes under
``/ztf/v1``; list routes with a trailing slash and a **308 redirect** from the slash-less
form; ``GET /objects/`` with repeated ``oid``/``ndet``/``firstmjd``/``lastmjd``, the
classifier filters (``ranking`` defaulting to 1 when a classifier or class is given), the cone
(ignored when ra or dec is 0, as the server does; radius in arcsec, default 30), ``order_by``
checked against the allowed values (**400** with an ``errors`` body; without it, several
``oid`` come back in the order listed), ``count=false`` giving
``total``/``page``/``next`` null and ``has_next`` false (clients page until an empty page),
``count=true`` giving a total capped at 50 001; ``/objects/{oid}`` without class fields, 404
"Object not found"; ``/lightcurve`` (``survey_id`` ztf|atlas), ``/detections``,
``/non_detections`` with null and NaN keys omitted; ``/probabilities``; ``/classifiers/`` and
``/classifiers/{name}/{version}/classes``.

Failures are injected with :meth:`JsonApp.fail` (429 with Retry-After, 5xx, delays for
timeouts) and by putting raw bodies in :attr:`AlerceFake.raw` (malformed JSON) or NaN values
in an object. Run it alone for the demo (a simulated broker, not ALeRCE)::

    python -m tom_broker_alerce.fake --port 8765 --objects 40
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import random
from typing import Any

from werkzeug.wrappers import Request, Response

from tom_broker_alerce.mapping import ORDER_BY, ORDER_MODE
from tomcore.testing.fakehttp import JsonApp

PREFIX = "/ztf/v1"
CLASSIFIERS = [
    {"classifier_name": "lc_classifier", "classifier_version": "hierarchical_random_forest_1.1.0",
     "classes": ["SNIa", "SNIbc", "SNII", "SLSN", "QSO", "AGN", "Blazar", "YSO", "CV/Nova", "LPV", "E", "DSCT",
                 "RRL", "CEP", "Periodic-Other"]},
    {"classifier_name": "lc_classifier_top", "classifier_version": "hierarchical_random_forest_1.1.0",
     "classes": ["Transient", "Stochastic", "Periodic"]},
    {"classifier_name": "stamp_classifier", "classifier_version": "stamp_classifier_1.0.4",
     "classes": ["SN", "AGN", "VS", "asteroid", "bogus"]},
]
DEFAULT_CLASSIFIER = ("lc_classifier", "hierarchical_random_forest_1.1.0")
WERKZEUG_404 = ("The requested URL was not found on the server. If you entered the URL manually please check "
                "your spelling and try again.")
_TRUE = {"true", "yes", "t", "y", "1"}
_FALSE = {"false", "no", "f", "n", "0"}


def _dumps(data: Any) -> str:
    return json.dumps(data, allow_nan=True)


def skip_none(row: dict[str, Any]) -> dict[str, Any]:
    """What flask-restx's ``skip_none`` does to a light-curve row: null and NaN keys gone."""
    return {k: v for k, v in row.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}


def make_oid(rng: random.Random, year: int = 24) -> str:
    return f"ZTF{year}" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))


def make_lightcurve(rng: random.Random, ra: float, dec: float, first: float, n_det: int = 14,
                    n_nondet: int = 6) -> dict[str, list[dict[str, Any]]]:
    """A light curve in the server's format: detections with the keys the real server sends
    for an uncorrected object, and non-detections."""
    detections = []
    for i in range(n_det):
        mjd = round(first + i * 1.7 + rng.random() * 0.2, 6)
        fid = 1 + i % 2
        candid = str(2400000000000000000 + rng.randrange(10**15))
        detections.append({
            "tid": "ztf", "mjd": mjd, "candid": candid, "fid": fid, "pid": int(candid[:13]),
            "diffmaglim": round(20.2 + rng.random() * 0.6, 3), "isdiffpos": 1, "nid": 1500 + i,
            "distnr": round(rng.random() * 2, 3), "magpsf": round(18.5 + rng.random() * 1.5, 4),
            "sigmapsf": round(0.03 + rng.random() * 0.1, 4), "magap": round(18.6 + rng.random(), 4),
            "sigmagap": round(0.05 + rng.random() * 0.1, 4), "ra": ra + rng.gauss(0, 1e-5),
            "dec": dec + rng.gauss(0, 1e-5), "rb": round(0.6 + rng.random() * 0.4, 3), "rbversion": "t17_f5_c3",
            "drb": round(0.9 + rng.random() * 0.1, 4), "magapbig": round(18.6 + rng.random(), 4),
            "sigmagapbig": round(0.06 + rng.random() * 0.1, 4), "rfid": 1000000 + i, "has_stamp": True,
            "corrected": False, "dubious": False, "candid_alert": None, "step_id_corr": "23.x.x", "phase": 0.0,
            "magpsf_corr": None, "sigmapsf_corr": None,
        })
    non_detections = [{"tid": "ztf", "mjd": round(first - 1.0 - j * 2.1, 6), "fid": 1 + j % 2,
                       "diffmaglim": round(19.8 + rng.random(), 3)} for j in range(n_nondet)]
    return {"detections": detections, "non_detections": non_detections}


def make_object(rng: random.Random, oid: str | None = None, ra: float | None = None, dec: float | None = None,
                first: float | None = None, n_det: int = 14, n_nondet: int = 6) -> tuple[dict[str, Any], dict, list]:
    """(object, light curve, probabilities) in the server's formats."""
    oid = oid or make_oid(rng)
    ra = rng.uniform(0, 360) if ra is None else ra
    dec = math.degrees(math.asin(rng.uniform(-1, 0.6))) if dec is None else dec
    first = round(rng.uniform(60300, 60400), 6) if first is None else first
    lightcurve = make_lightcurve(rng, ra, dec, first, n_det, n_nondet)
    mjds = [d["mjd"] for d in lightcurve["detections"]] or [first]
    obj = {
        "oid": oid, "ndethist": str(n_det + 2), "ncovhist": 100 + n_det, "mjdstarthist": first - 0.5,
        "mjdendhist": max(mjds), "corrected": False, "stellar": False, "ndet": n_det,
        "g_r_max": round(rng.uniform(-0.5, 1), 3), "g_r_max_corr": None, "g_r_mean": round(rng.uniform(-0.5, 1), 3),
        "g_r_mean_corr": None, "firstmjd": min(mjds), "lastmjd": max(mjds), "deltajd": round(max(mjds) - min(mjds), 4),
        "meanra": ra, "meandec": dec, "sigmara": 0.00012, "sigmadec": 0.00009, "step_id_corr": "23.x.x",
    }
    probabilities = []
    for classifier in CLASSIFIERS:
        weights = [rng.random() ** 3 for _ in classifier["classes"]]
        total = sum(weights)
        ranked = sorted(zip(classifier["classes"], weights, strict=True), key=lambda kv: -kv[1])
        rank = {name: r + 1 for r, (name, _) in enumerate(ranked)}
        for name, weight in zip(classifier["classes"], weights, strict=True):
            probabilities.append({"classifier_name": classifier["classifier_name"],
                                  "classifier_version": classifier["classifier_version"], "class_name": name,
                                  "probability": round(weight / total, 4), "ranking": rank[name]})
    return obj, lightcurve, probabilities


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE with ``*`` also a wildcard, as the server builds it."""
    glob = pattern.replace("*", "%").replace("%", "*").replace("_", "?")
    return fnmatch.fnmatchcase(value, glob)


def _separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    s = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r2 - r1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(s))))


class AlerceFake(JsonApp):
    """The fake server. Fill it with :meth:`add_object` or :meth:`populate`."""

    def __init__(self) -> None:
        super().__init__(strict_slashes=True)
        self.objects: dict[str, dict[str, Any]] = {}
        self.lightcurves: dict[str, dict[str, Any]] = {}
        self.probabilities: dict[str, list[dict[str, Any]]] = {}
        self.classifiers = [dict(c) for c in CLASSIFIERS]
        #: Raw bodies served instead of the JSON of a path (``/ztf/v1/objects/X/lightcurve``).
        self.raw: dict[str, bytes] = {}
        for rule, handler in (
            ("/objects/", self.search), ("/objects/<oid>", self.object), ("/objects/<oid>/lightcurve", self.lightcurve),
            ("/objects/<oid>/detections", self.detections), ("/objects/<oid>/non_detections", self.non_detections),
            ("/objects/<oid>/probabilities", self.object_probabilities), ("/classifiers/", self.classifier_list),
            ("/classifiers/<name>/<version>/classes", self.classifier_classes),
        ):
            self.route(PREFIX + rule, handler)

    # -- data ----------------------------------------------------------------------------------

    def add_object(self, obj: dict[str, Any], lightcurve: dict[str, Any] | None = None,
                   probabilities: list[dict[str, Any]] | None = None) -> None:
        self.objects[obj["oid"]] = obj
        self.lightcurves[obj["oid"]] = lightcurve or {"detections": [], "non_detections": []}
        self.probabilities[obj["oid"]] = probabilities or []

    def make(self, oid: str | None = None, *, ra: float | None = None, dec: float | None = None,
             first: float | None = None, n_det: int = 14, n_nondet: int = 6, seed: int | None = None) -> str:
        """Add one generated object (deterministic for a seed); return its oid."""
        rng = random.Random(seed if seed is not None else (oid or len(self.objects)))
        obj, lc, probs = make_object(rng, oid, ra, dec, first, n_det, n_nondet)
        self.add_object(obj, lc, probs)
        return obj["oid"]

    def populate(self, n: int, seed: int = 1) -> list[str]:
        rng = random.Random(seed)
        oids = []
        for _ in range(n):
            obj, lc, probs = make_object(rng)
            self.add_object(obj, lc, probs)
            oids.append(obj["oid"])
        return oids

    # -- helpers -------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        raw = self.raw.get(request.path)
        if raw is not None and not self.faults:
            with self._lock:
                self.requests.append({"method": request.method, "path": request.path,
                                      "args": request.args.to_dict(flat=False), "json": None,
                                      "headers": dict(request.headers), "data": b""})
            return Response(raw, status=200, mimetype="application/json")
        return super().dispatch(request)

    def json_response(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(_dumps(data), status=status, headers=headers or {}, mimetype="application/json")

    def not_found(self, request: Request) -> Response:
        return self.json_response({"message": WERKZEUG_404}, 404)

    @staticmethod
    def _bad(errors: dict[str, str]) -> tuple[dict[str, Any], int]:
        return {"errors": errors, "message": "Input payload validation failed"}, 400

    def _probability_rows(self, oid: str, classifier: str | None, version: str | None, klass: str | None,
                          probability: float | None, ranking: int | None) -> list[dict[str, Any] | None]:
        """The probability rows an object is joined to, as the server does: with no class
        filter, the default classifier's ranking-1 row (or None: a left join); with one, every
        row matching it, so an object comes once per matching row (the ranking defaults to 1
        only when a classifier, its version or a class is given)."""
        rows = self.probabilities.get(oid, ())
        if all(v is None for v in (classifier, version, klass, probability, ranking)):
            default = [r for r in rows if (r["classifier_name"], r["classifier_version"]) == DEFAULT_CLASSIFIER
                       and r["ranking"] == 1]
            return [default[0] if default else None]
        if ranking is None and (classifier or klass or version):
            ranking = 1
        return [row for row in rows
                if (not classifier or row["classifier_name"] == classifier)
                and (not version or row["classifier_version"] == version)
                and (not klass or row["class_name"] == klass)
                and (not probability or row["probability"] >= probability)
                and (not ranking or row["ranking"] == ranking)]

    # -- routes --------------------------------------------------------------------------------

    def search(self, request: Request) -> Any:
        args = request.args
        errors: dict[str, str] = {}

        def one(name: str, kind: Any, default: Any = None) -> Any:
            value = args.get(name)
            if value is None or value == "":
                return default
            try:
                return kind(value)
            except ValueError:
                errors[name] = f"{name} {kind.__name__} The value {value!r} is not a valid {kind.__name__}."
                return default

        def many(name: str, kind: Any) -> list[Any]:
            out = []
            for value in args.getlist(name):
                try:
                    out.append(kind(value))
                except ValueError:
                    errors[name] = f"{name} The value {value!r} is not a valid {kind.__name__}."
            return out

        order_by, order_mode = args.get("order_by"), args.get("order_mode")
        if order_by is not None and order_by not in ORDER_BY:
            errors["order_by"] = f"Column used for ordering The value {order_by!r} is not a valid choice for 'order_by'."
        if order_mode is not None and order_mode not in ORDER_MODE:
            errors["order_mode"] = f"Ordering could be ascendent or descendent The value {order_mode!r} is not a valid choice for 'order_mode'."
        count_text = (args.get("count") or "false").lower()
        if count_text not in _TRUE | _FALSE:
            errors["count"] = f"Compute total of objects The value {count_text!r} is not a valid boolean."
        page = max(1, one("page", int, 1))
        page_size = one("page_size", int, 10)
        page_size = 10 if page_size < 0 else page_size
        ndet, firstmjd, lastmjd = many("ndet", int), many("firstmjd", float), many("lastmjd", float)
        ra, dec, radius = one("ra", float), one("dec", float), one("radius", float, 30.0)
        probability, ranking = one("probability", float), one("ranking", int)
        if errors:
            return self._bad(errors)
        classifier, version, klass = args.get("classifier"), args.get("classifier_version"), args.get("class")
        oids = args.getlist("oid")
        rows = []
        for oid, obj in self.objects.items():
            if len(oids) == 1 and not _like(oids[0], oid):
                continue
            if len(oids) > 1 and oid not in oids:
                continue
            if ndet and not (obj["ndet"] >= ndet[0] and (len(ndet) < 2 or obj["ndet"] <= ndet[1])):
                continue
            if firstmjd and not (obj["firstmjd"] >= firstmjd[0] and (len(firstmjd) < 2 or obj["firstmjd"] <= firstmjd[1])):
                continue
            if lastmjd and not (obj["lastmjd"] >= lastmjd[0] and (len(lastmjd) < 2 or obj["lastmjd"] <= lastmjd[1])):
                continue
            if ra and dec and _separation_deg(ra, dec, obj["meanra"], obj["meandec"]) > radius / 3600.0:
                continue
            for row in self._probability_rows(oid, classifier, version, klass, probability, ranking):
                item = dict(obj)
                item.update({"class": row["class_name"] if row else None,
                             "classifier": row["classifier_name"] if row else None,
                             "probability": row["probability"] if row else None})
                rows.append(item)
        if order_by:
            key = {"class_name": "class", "classifier_name": "classifier"}.get(order_by, order_by)
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key) if r.get(key) is not None else 0),
                      reverse=order_mode == "DESC")
        elif len(oids) > 1:  # no order_by: the server orders by the oids as listed
            rows.sort(key=lambda r: oids.index(r["oid"]))
        start = (page - 1) * page_size
        items = rows[start:start + page_size]
        count = count_text in _TRUE
        total = min(len(rows), 50001) if count else None
        has_next = bool(count and page < math.ceil((total or 0) / page_size)) if page_size else False
        return {"total": total, "page": None, "next": page + 1 if has_next else None, "has_next": has_next,
                "prev": page - 1 if page > 1 else None, "has_prev": page > 1, "items": items}

    def object(self, request: Request, oid: str) -> Any:
        obj = self.objects.get(oid)
        if obj is None:
            return {"message": "Object not found"}, 404
        return {k: v for k, v in obj.items() if k not in ("class", "classifier", "probability")}

    def _survey_rows(self, request: Request, oid: str) -> tuple[Any, int] | tuple[list, list]:
        if oid not in self.objects:
            return {"message": WERKZEUG_404}, 404
        survey = request.args.get("survey_id", "ztf")
        if survey not in ("ztf", "atlas"):
            return self._bad({"survey_id": f"Survey id The value {survey!r} is not a valid choice for 'survey_id'."})
        lc = self.lightcurves.get(oid) or {}
        detections = [skip_none(d) for d in lc.get("detections", []) if d.get("tid", "ztf") == survey]
        non_detections = [skip_none(d) for d in lc.get("non_detections", []) if d.get("tid", "ztf") == survey]
        if survey == "atlas" and not detections:
            return {"message": WERKZEUG_404}, 404
        return detections, non_detections

    def lightcurve(self, request: Request, oid: str) -> Any:
        result = self._survey_rows(request, oid)
        if isinstance(result[1], int):
            return result
        return {"detections": result[0], "non_detections": result[1]}

    def detections(self, request: Request, oid: str) -> Any:
        result = self._survey_rows(request, oid)
        return result if isinstance(result[1], int) else result[0]

    def non_detections(self, request: Request, oid: str) -> Any:
        result = self._survey_rows(request, oid)
        return result if isinstance(result[1], int) else result[1]

    def object_probabilities(self, request: Request, oid: str) -> Any:
        if oid not in self.objects:
            return {"message": "Object not found"}, 404
        rows = self.probabilities.get(oid, [])
        classifier, version = request.args.get("classifier"), request.args.get("classifier_version")
        return [r for r in rows if (classifier is None or r["classifier_name"] == classifier)
                and (version is None or r["classifier_version"] == version)]

    def classifier_list(self, request: Request) -> Any:
        return self.classifiers

    def classifier_classes(self, request: Request, name: str, version: str) -> Any:
        for c in self.classifiers:
            if c["classifier_name"] == name and c["classifier_version"] == version:
                return [{"name": k} for k in c["classes"]]
        return {"message": "Classifier not found"}, 404


def main(argv: list[str] | None = None) -> None:
    """Serve a populated fake (a SIMULATED broker) until interrupted; print its API root."""
    from tomcore.testing.fakehttp import serve_until_interrupted

    parser = argparse.ArgumentParser(description="A simulated ALeRCE ZTF API (not the real service).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--objects", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    app = AlerceFake()
    app.populate(args.objects, seed=args.seed)
    serve_until_interrupted(app, host=args.host, port=args.port, path=PREFIX)


if __name__ == "__main__":  # pragma: no cover
    main()
