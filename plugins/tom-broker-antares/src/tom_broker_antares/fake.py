"""A fake ANTARES REST API v2, for tests, the cross-broker test and the offline demo.

It answers like apis.md §2 describes: ``GET /v2/loci`` with ``elasticsearch_query`` (a JSON
string whose only top-level key is ``query``; ``bool`` with ``filter``/``must``/``should``/
``must_not``, ``term``, ``terms``, ``range``, ``match_all``, ``exists`` and ``sky_distance`` in
both its v2 form ``{"radius": "0.01 degree", "location": "10h00m29.6s +02d20m44.2s"}`` and
its v1 form ``{"distance": ..., "htm16": {"center": "ra dec"}}``, radius at most 1 degree;
anything else is a 400), ``sort`` and ``limit``; pages linked by ``links.next`` (a full URL
carrying every parameter) until it is null; each result wraps its locus in ``locus``.
``GET /v2/loci/{id}`` gives the locus with ``internal_properties``/``user_properties`` and the
light curve as CSV text (empty cells for nulls, ``ztf_candidate:``/``ztf_upper_limit:`` alert
ids, ``ant_survey`` 1/2); 404 for an unknown locus. ``GET /v2/loci/statistics`` gives the
tag counts. Properties may hold NaN, as the real ones do.

Failures are injected with :meth:`JsonApp.fail`; :attr:`AntaresFake.raw` serves raw bodies.
Run alone as a SIMULATED broker: ``python -m tom_broker_antares.fake --port 8766``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tomcore.domain.times import MJD_EPOCH
from tomcore.testing.fakehttp import JsonApp

PREFIX = "/v2"
CSV_COLUMNS = ("time", "alert_id", "ant_mjd", "ant_survey", "ant_ra", "ant_dec", "ant_passband", "ant_mag",
               "ant_magerr", "ant_maglim", "ant_mag_corrected", "ant_magerr_corrected")
TAGS = ("nuclear_transient", "extragalactic", "high_snr", "in_m31", "sso_confirmed", "young_extragalactic_candidate")


class BadQuery(Exception):
    pass


def _dumps(data: Any) -> str:
    return json.dumps(data, allow_nan=True)


def parse_hmsdms(text: str) -> tuple[float, float]:
    match = re.fullmatch(r"\s*(\d+)h(\d+)m([\d.]+)s\s+([+-]?)(\d+)d(\d+)m([\d.]+)s\s*", text)
    if not match:
        raise BadQuery(f"cannot parse location {text!r}")
    h, m, s, sign, d, dm, ds = match.groups()
    ra = (int(h) + int(m) / 60 + float(s) / 3600) * 15
    dec = int(d) + int(dm) / 60 + float(ds) / 3600
    return ra, -dec if sign == "-" else dec


def _degrees(text: Any) -> float:
    match = re.fullmatch(r"\s*([\d.eE+-]+)\s*(degree|degrees|deg)?\s*", str(text))
    if not match:
        raise BadQuery(f"cannot parse distance {text!r}")
    return float(match.group(1))


def _separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    s = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r2 - r1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(s))))


def _field(locus: dict[str, Any], path: str) -> Any:
    value: Any = locus
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def matches(clause: Any, locus: dict[str, Any]) -> bool:
    """Evaluate the Elasticsearch clauses ANTARES clients send against one locus."""
    if not isinstance(clause, dict) or len(clause) != 1:
        raise BadQuery(f"a query clause must be an object with one key, got {clause!r}")
    (kind, body), = clause.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        def listed(key: str) -> list[Any]:
            value = body.get(key, [])
            return value if isinstance(value, list) else [value]
        unknown = set(body) - {"filter", "must", "should", "must_not", "minimum_should_match"}
        if unknown:
            raise BadQuery(f"unsupported bool keys {sorted(unknown)}")
        # every clause is evaluated (no short cut), so a bad one is refused whatever the data
        ok = all([matches(c, locus) for c in listed("filter") + listed("must")])
        should = [matches(c, locus) for c in listed("should")]
        if should:
            ok = ok and any(should)
        return ok and not any([matches(c, locus) for c in listed("must_not")])
    if kind == "term":
        (path, value), = body.items()
        value = value.get("value") if isinstance(value, dict) else value
        found = _field(locus, path)
        return value in found if isinstance(found, list) else found == value
    if kind == "terms":
        (path, values), = body.items()
        found = _field(locus, path)
        return any(v in found for v in values) if isinstance(found, list) else found in values
    if kind == "exists":
        return _field(locus, body.get("field", "")) is not None
    if kind == "range":
        (path, bounds), = body.items()
        found = _field(locus, path)
        if not isinstance(found, (int, float)) or (isinstance(found, float) and math.isnan(found)):
            return False
        ops = {"gte": found.__ge__, "gt": found.__gt__, "lte": found.__le__, "lt": found.__lt__}
        unknown = set(bounds) - set(ops)
        if unknown:
            raise BadQuery(f"unsupported range operators {sorted(unknown)}")
        return all(ops[op](value) for op, value in bounds.items())
    if kind == "sky_distance":
        if "location" in body:
            ra, dec = parse_hmsdms(body["location"])
            radius = _degrees(body.get("radius"))
        elif "htm16" in body:
            ra, dec = (float(v) for v in str(body["htm16"].get("center", "")).split())
            radius = _degrees(body.get("distance"))
        else:
            raise BadQuery("sky_distance needs location and radius (or htm16.center and distance)")
        if radius > 1.0:
            raise BadQuery("sky_distance radius must be at most 1 degree")
        return _separation(ra, dec, locus["ra"], locus["dec"]) <= radius
    raise BadQuery(f"unsupported query clause {kind!r}")


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """A light curve as ANTARES serialises it: pandas-style CSV, empty cells for nulls."""
    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        return str(value)

    lines = [",".join(CSV_COLUMNS)]
    for row in rows:
        lines.append(",".join(cell(row.get(c)) for c in CSV_COLUMNS))
    return "\n".join(lines) + "\n"


def detection_row(mjd: float, band: str, mag: float, err: float, maglim: float, ra: float, dec: float,
                  candid: str) -> dict[str, Any]:
    when = MJD_EPOCH + timedelta(days=mjd)
    return {"time": when.strftime("%Y-%m-%d %H:%M:%S.%f"), "alert_id": f"ztf_candidate:{candid}", "ant_mjd": mjd,
            "ant_survey": 1, "ant_ra": ra, "ant_dec": dec, "ant_passband": band, "ant_mag": mag,
            "ant_magerr": err, "ant_maglim": maglim}


def upper_limit_row(mjd: float, band: str, maglim: float, ztf_id: str, pid: int) -> dict[str, Any]:
    when = MJD_EPOCH + timedelta(days=mjd)
    return {"time": when.strftime("%Y-%m-%d %H:%M:%S.%f"), "alert_id": f"ztf_upper_limit:{ztf_id}-{pid}",
            "ant_mjd": mjd, "ant_survey": 2, "ant_passband": band, "ant_maglim": maglim}


def rows_from_alerce(ztf_id: str, lightcurve: dict[str, Any]) -> list[dict[str, Any]]:
    """ANTARES light-curve rows for the same ZTF measurements as an ALeRCE light curve
    (ANTARES names ZTF's r band ``R``)."""
    bands = {1: "g", 2: "R", 3: "i"}
    rows = [detection_row(d["mjd"], bands[d["fid"]], d["magpsf"], d.get("sigmapsf"), d.get("diffmaglim"),
                          d.get("ra"), d.get("dec"), d.get("candid", "0")) for d in lightcurve.get("detections", [])]
    rows += [upper_limit_row(n["mjd"], bands[n["fid"]], n["diffmaglim"], ztf_id, 1000 + i)
             for i, n in enumerate(lightcurve.get("non_detections", []))]
    return sorted(rows, key=lambda r: r["ant_mjd"], reverse=True)


class AntaresFake(JsonApp):
    """The fake server. Fill it with :meth:`add_locus`, :meth:`make` or :meth:`populate`."""

    def __init__(self) -> None:
        super().__init__(strict_slashes=False)
        self.loci: dict[str, dict[str, Any]] = {}
        self.lightcurves: dict[str, list[dict[str, Any]] | str] = {}
        self.user_properties: dict[str, dict[str, Any]] = {}
        #: Raw bodies served instead of the JSON of a path (``/v2/loci/ANT...``).
        self.raw: dict[str, bytes] = {}
        self.route(PREFIX + "/loci", self.search)
        self.route(PREFIX + "/loci/statistics", self.statistics)
        self.route(PREFIX + "/loci/<locus_id>", self.locus)

    # -- data ----------------------------------------------------------------------------------

    def add_locus(self, locus_id: str, ra: float, dec: float, *, ztf_object_id: str | None = None,
                  tags: list[str] | None = None, rows: list[dict[str, Any]] | str | None = None,
                  properties: dict[str, Any] | None = None) -> None:
        rows = rows if rows is not None else []
        mjds = [r["ant_mjd"] for r in rows if isinstance(r, dict) and r.get("ant_mjd") is not None] if isinstance(rows, list) else []
        mags = [r["ant_mag"] for r in rows if isinstance(r, dict) and r.get("ant_mag") is not None] if isinstance(rows, list) else []
        newest = max(rows, key=lambda r: r["ant_mjd"]) if isinstance(rows, list) and rows else {}
        props = {"num_alerts": len(rows) if isinstance(rows, list) else 0, "num_mag_values": len(mags),
                 "newest_alert_magnitude": newest.get("ant_mag") if newest.get("ant_mag") is not None else math.nan,
                 "newest_alert_observation_time": max(mjds) if mjds else None,
                 "oldest_alert_observation_time": min(mjds) if mjds else None,
                 "brightest_alert_magnitude": min(mags) if mags else math.nan}
        if ztf_object_id:
            props["ztf_object_id"] = ztf_object_id
        props.update(properties or {})
        self.loci[locus_id] = {"locus_id": locus_id, "ra": ra, "dec": dec, "htm16": 123456789012,
                               "properties": props, "tags": list(tags or []), "grav_wave_events": [],
                               "catalogs": ["2mass_psc"]}
        self.lightcurves[locus_id] = rows

    def make(self, locus_id: str | None = None, *, ra: float | None = None, dec: float | None = None,
             ztf_object_id: str | None = None, tags: list[str] | None = None, n_det: int = 12, n_limits: int = 5,
             first: float | None = None, seed: int | None = None) -> str:
        rng = random.Random(seed if seed is not None else (locus_id or len(self.loci)))
        locus_id = locus_id or "ANT" + str(rng.randrange(2019, 2026)) + "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
        ra = rng.uniform(0, 360) if ra is None else ra
        dec = math.degrees(math.asin(rng.uniform(-1, 0.6))) if dec is None else dec
        first = rng.uniform(60300, 60400) if first is None else first
        ztf = ztf_object_id if ztf_object_id is not None else "ZTF" + str(rng.randrange(18, 25)) + "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
        rows = [detection_row(round(first + i * 1.3, 6), "g" if i % 2 else "R", round(18 + rng.random() * 2, 3),
                              round(0.05 + rng.random() * 0.1, 3), round(20 + rng.random(), 2), ra, dec,
                              str(2400000000000000000 + rng.randrange(10**15))) for i in range(n_det)]
        rows += [upper_limit_row(round(first - 1 - j * 2.2, 6), "g" if j % 2 else "R", round(19.5 + rng.random(), 2),
                                 ztf or "ZTF", 1000 + j) for j in range(n_limits)]
        rows.sort(key=lambda r: r["ant_mjd"], reverse=True)
        self.add_locus(locus_id, ra, dec, ztf_object_id=ztf or None,
                       tags=tags if tags is not None else rng.sample(TAGS, rng.randrange(0, 3)), rows=rows)
        return locus_id

    def populate(self, n: int, seed: int = 1) -> list[str]:
        rng = random.Random(seed)
        return [self.make(seed=rng.randrange(10**9)) for _ in range(n)]

    # -- routes --------------------------------------------------------------------------------

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

    @staticmethod
    def _error(status: int, title: str, detail: str) -> tuple[dict[str, Any], int]:
        return {"errors": [{"status": str(status), "title": title, "detail": detail}]}, status

    def not_found(self, request: Request) -> Response:
        data, status = self._error(404, "Not Found", "The requested resource was not found")
        return self.json_response(data, status)

    def search(self, request: Request) -> Any:
        args = request.args
        text = args.get("elasticsearch_query")
        try:
            query = json.loads(text) if text else {"query": {"match_all": {}}}
        except ValueError:
            return self._error(400, "Bad Request", "elasticsearch_query is not valid JSON")
        if not isinstance(query, dict) or set(query) != {"query"}:
            return self._error(400, "Bad Request", "elasticsearch_query must have exactly one top-level key, 'query'")
        try:
            limit = int(args.get("limit", 10))
            offset = int(args.get("page[offset]", 0))
        except ValueError:
            return self._error(400, "Bad Request", "limit and page[offset] must be integers")
        if limit < 1:
            return self._error(400, "Bad Request", "limit must be positive")
        try:
            matches(query["query"], {"locus_id": "", "ra": 0.0, "dec": 0.0, "properties": {}, "tags": []})
            found = [locus for locus in self.loci.values() if matches(query["query"], locus)]
        except BadQuery as exc:
            return self._error(400, "Bad Request", f"invalid elasticsearch_query: {exc}")
        sort = args.get("sort")
        if sort:
            key = sort.lstrip("-")
            found.sort(key=lambda locus: (_field(locus, key) is None, _field(locus, key) or 0),
                       reverse=sort.startswith("-"))
        chunk = found[offset:offset + limit]
        base = request.base_url
        params = {k: v for k, v in args.items() if k != "page[offset]"}
        following = None
        if offset + limit < len(found):
            following = base + "?" + urlencode({**params, "page[offset]": offset + limit})
        return {"data": [{"locus": dict(locus)} for locus in chunk], "meta": {"count": len(found)},
                "links": {"self": request.url, "next": following}}

    def locus(self, request: Request, locus_id: str) -> Any:
        locus = self.loci.get(locus_id)
        if locus is None:
            return self._error(404, "Not Found", f"Locus {locus_id} not found")
        rows = self.lightcurves.get(locus_id, [])
        return {"data": {"id": locus_id, "htm16": locus["htm16"], "ra": locus["ra"], "dec": locus["dec"],
                         "grav_wave_events": [], "tags": locus["tags"], "catalogs": locus["catalogs"],
                         "internal_properties": dict(locus["properties"]),
                         "user_properties": self.user_properties.get(locus_id, {}),
                         "lightcurve": rows if isinstance(rows, str) else rows_to_csv(rows)}}

    def statistics(self, request: Request) -> Any:
        counts: dict[str, int] = {}
        for locus in self.loci.values():
            for tag in locus["tags"]:
                counts[tag] = counts.get(tag, 0) + 1
        for tag in TAGS:
            counts.setdefault(tag, 0)
        nums = [locus["properties"].get("num_mag_values") or 0 for locus in self.loci.values()] or [0]
        return {"data": {"id": "statistics", "catalogs": {"2mass_psc": len(self.loci)}, "tags": counts,
                         "min_num_measurements": min(nums), "max_num_measurements": max(nums)}}


def main(argv: list[str] | None = None) -> None:
    """Serve a populated fake (a SIMULATED broker) until interrupted; print its API root."""
    from tomcore.testing.fakehttp import serve_until_interrupted

    parser = argparse.ArgumentParser(description="A simulated ANTARES API (not the real service).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--loci", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    app = AntaresFake()
    app.populate(args.loci, seed=args.seed)
    serve_until_interrupted(app, host=args.host, port=args.port, path=PREFIX)


if __name__ == "__main__":  # pragma: no cover
    main()
