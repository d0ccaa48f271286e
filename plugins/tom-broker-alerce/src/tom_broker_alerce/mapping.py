"""ALeRCE records to tomcore types, and query parameters to the server's query string.

Pure functions, no HTTP: the broker glues them to the client, and the benchmark feeds them
pre-fetched pages.

* An object (``/objects/`` item) becomes an :class:`Alert`: name and object id = ``oid``,
  position = ``meanra``/``meandec``, score = ``probability``, classification = ``class``,
  discovery/latest time = ``firstmjd``/``lastmjd``, extras ``alerce_class``,
  ``alerce_classifier``, ``alerce_probability``, ``alerce_ndet``.
* A light curve: each detection is a magnitude (``magpsf`` ± ``sigmapsf``), each
  non-detection an upper limit (``diffmaglim``); ``fid`` 1/2/3 is band g/r/i; telescope ZTF
  (or ATLAS for ``tid == "atlas"``); time ``mjd`` (MJD, UTC).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from tom_broker_alerce.structs import DECODER
from tomcore.contracts.brokers import BadRecord
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint
from tomcore.domain.times import MJD_EPOCH, datetime_to_mjd

BROKER = "alerce"
BANDS = {1: "g", 2: "r", 3: "i"}
TELESCOPES = {"ztf": "ZTF", "atlas": "ATLAS"}
#: The values the server accepts for ``order_by`` (anything else is a 400).
ORDER_BY = ("oid", "ndet", "g_r_max", "g_r_max_corr", "g_r_mean", "g_r_mean_corr", "meanra", "meandec",
            "sigmara", "sigmadec", "deltajd", "firstmjd", "lastmjd", "class_name", "classifier_name",
            "classifier_version", "probability", "ranking")
ORDER_MODE = ("ASC", "DESC")
#: The cone is applied by the server only when ra and dec are both non-zero: an exact 0 is
#: sent as this many degrees (4 micro-arcseconds) instead.
ZERO_NUDGE = 1e-9

_DAY = 86400.0


def _mjd_time(mjd: float) -> datetime:
    from datetime import timedelta

    return MJD_EPOCH + timedelta(seconds=mjd * _DAY)


def _number(record: Mapping[str, Any], key: str, oid: str, *, required: bool = False) -> float | None:
    value = record.get(key)
    if value is None:
        if required:
            raise BadRecord(f"{oid}: missing field {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise BadRecord(f"{oid}: {key} is not a number ({value!r})") from None
    if not math.isfinite(value):
        if required:
            raise BadRecord(f"{oid}: {key} is not a finite number ({value})")
        return None
    return float(value)


def build_query(params: Mapping[str, Any], *, since: datetime | None = None) -> list[tuple[str, Any]]:
    """The query string of ``GET /objects/`` (without paging) for validated parameters.

    Ranges are sent as the server reads them: the first value is the lower bound, the second
    the upper, so an upper bound alone gets a lower bound of 0. ``since`` raises the lower
    bound of ``lastmjd``.
    """
    query: list[tuple[str, Any]] = []
    for oid in params.get("oid") or ():
        query.append(("oid", oid))
    for key, server in (("classifier", "classifier"), ("classifier_version", "classifier_version"),
                        ("class_name", "class"), ("probability", "probability"), ("ranking", "ranking"),
                        ("order_by", "order_by"), ("order_mode", "order_mode")):
        if params.get(key) is not None:
            query.append((server, params[key]))
    lastmjd_min = params.get("lastmjd_min")
    if since is not None:
        since_mjd = datetime_to_mjd(since)
        lastmjd_min = since_mjd if lastmjd_min is None else max(lastmjd_min, since_mjd)
    bounds = {"ndet": (params.get("ndet_min"), params.get("ndet_max")),
              "firstmjd": (params.get("firstmjd_min"), params.get("firstmjd_max")),
              "lastmjd": (lastmjd_min, params.get("lastmjd_max"))}
    for server, (low, high) in bounds.items():
        if low is None and high is None:
            continue
        query.append((server, low if low is not None else 0))
        if high is not None:
            query.append((server, high))
    if params.get("ra") is not None and params.get("dec") is not None:
        query.append(("ra", params["ra"] or ZERO_NUDGE))
        query.append(("dec", params["dec"] or ZERO_NUDGE))
        if params.get("radius") is not None:
            query.append(("radius", params["radius"]))
    return query


def web_url(oid: str, base: str = "https://alerce.online/object/") -> str:
    return base.rstrip("/") + "/" + oid


def alert_from_item(item: Any, *, index: int = 0, base_web: str = "https://alerce.online/object/") -> Alert:
    """An :class:`Alert` from an ``/objects/`` item or an ``/objects/{oid}`` body."""
    if not isinstance(item, dict):
        raise BadRecord(f"record {index + 1}: not a JSON object")
    oid = item.get("oid")
    if not isinstance(oid, str) or not oid.strip():
        raise BadRecord(f"record {index + 1}: missing field oid")
    ra = _number(item, "meanra", oid, required=True)
    dec = _number(item, "meandec", oid, required=True)
    first = _number(item, "firstmjd", oid)
    last = _number(item, "lastmjd", oid)
    probability = _number(item, "probability", oid)
    ndet = _number(item, "ndet", oid)
    klass = item.get("class")
    classifier = item.get("classifier")
    extras: dict[str, Any] = {}
    if isinstance(klass, str) and klass:
        extras["alerce_class"] = klass
    if isinstance(classifier, str) and classifier:
        extras["alerce_classifier"] = classifier
    if probability is not None:
        extras["alerce_probability"] = probability
    if ndet is not None:
        extras["alerce_ndet"] = int(ndet)
    return Alert(
        broker=BROKER, object_id=oid, name=oid, ra=ra, dec=dec, score=probability,
        classification=klass if isinstance(klass, str) else None,
        discovery_time=_mjd_time(first) if first is not None else None,
        latest_time=_mjd_time(last) if last is not None else None,
        url=web_url(oid, base_web), extras=extras, raw=item,
    )


def page_from_items(items: list[Any], *, base_web: str = "https://alerce.online/object/") -> AlertPage:
    """Alerts of one page of ``/objects/`` items; unreadable items become problems."""
    page = AlertPage()
    for index, item in enumerate(items):
        try:
            page.alerts.append(alert_from_item(item, index=index, base_web=base_web))
        except BadRecord as exc:
            page.problems.append(str(exc))
    return page


def points_from_lightcurve(oid: str, data: Any) -> list[PhotometryPoint]:
    """Photometry points of a ``/lightcurve`` body: detections then upper limits.

    Rows without a usable time, band or magnitude (the server drops null and NaN keys) are
    left out; a body that is not the expected object raises :class:`BadRecord`.
    """
    if not isinstance(data, dict):
        raise BadRecord(f"{oid}: the light curve is not a JSON object")
    detections = data.get("detections")
    limits = data.get("non_detections")
    if detections is None and limits is None:
        raise BadRecord(f"{oid}: the light curve has neither detections nor non_detections")
    if not isinstance(detections or [], list) or not isinstance(limits or [], list):
        raise BadRecord(f"{oid}: the light curve's detections or non_detections is not a list")
    isfinite = math.isfinite
    points: list[PhotometryPoint] = []
    append = points.append
    for row in detections or ():
        if not isinstance(row, dict):
            continue
        mjd, mag, fid = row.get("mjd"), row.get("magpsf"), row.get("fid")
        if not isinstance(mjd, (int, float)) or not isinstance(mag, (int, float)) or not isfinite(mjd) \
                or not isfinite(mag) or fid is None:
            continue
        err = row.get("sigmapsf")
        append(PhotometryPoint(
            time=float(mjd), band=BANDS.get(fid) or f"fid{fid}", mag=float(mag),
            mag_err=float(err) if isinstance(err, (int, float)) and isfinite(err) else None,
            telescope=TELESCOPES.get(row.get("tid") or "ztf", "ZTF"), source=BROKER, source_id=oid,
        ))
    for row in limits or ():
        if not isinstance(row, dict):
            continue
        mjd, limit, fid = row.get("mjd"), row.get("diffmaglim"), row.get("fid")
        if not isinstance(mjd, (int, float)) or not isinstance(limit, (int, float)) or not isfinite(mjd) \
                or not isfinite(limit) or fid is None:
            continue
        append(PhotometryPoint(
            time=float(mjd), band=BANDS.get(fid) or f"fid{fid}", limit=float(limit),
            telescope=TELESCOPES.get(row.get("tid") or "ztf", "ZTF"), source=BROKER, source_id=oid,
        ))
    return points


# -- fast path: typed decoding of light-curve bodies ------------------------------------------

def points_from_lightcurve_body(oid: str, body: bytes) -> list[PhotometryPoint]:
    """Photometry points of a ``/lightcurve`` body (bytes), decoded straight into the few
    fields used; bodies the typed decoder refuses (NaN literals, odd types) go through the
    tolerant path of :func:`points_from_lightcurve`, and invalid JSON is a :class:`BadRecord`."""
    try:
        data = DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        from tom_broker_alerce.client import loads

        try:
            decoded = loads(body)
        except ValueError:
            raise BadRecord(f"{oid}: the light curve from ALeRCE is not valid JSON") from None
        return points_from_lightcurve(oid, decoded)
    if data.detections is None and data.non_detections is None:
        raise BadRecord(f"{oid}: the light curve has neither detections nor non_detections")
    points: list[PhotometryPoint] = []
    append = points.append
    bands, telescopes = BANDS, TELESCOPES
    for row in data.detections or ():
        mjd, mag, fid = row.mjd, row.magpsf, row.fid
        if mjd is None or mag is None or fid is None:
            continue
        append(PhotometryPoint(time=mjd, band=bands.get(fid) or f"fid{fid}", mag=mag, mag_err=row.sigmapsf,
                               telescope=telescopes.get(row.tid or "ztf", "ZTF"), source=BROKER, source_id=oid))
    for row in data.non_detections or ():
        mjd, limit, fid = row.mjd, row.diffmaglim, row.fid
        if mjd is None or limit is None or fid is None:
            continue
        append(PhotometryPoint(time=mjd, band=bands.get(fid) or f"fid{fid}", limit=limit,
                               telescope=telescopes.get(row.tid or "ztf", "ZTF"), source=BROKER, source_id=oid))
    return points


def top_probability(rows: Any, classifier: str = "lc_classifier") -> dict[str, Any] | None:
    """The ranking-1 row of ``classifier`` (else the most probable row) of a
    ``/probabilities`` body."""
    if not isinstance(rows, list):
        return None
    good = [r for r in rows if isinstance(r, dict) and isinstance(r.get("probability"), (int, float))
            and math.isfinite(r["probability"])]
    preferred = [r for r in good if r.get("classifier_name") == classifier]
    pool = preferred or good
    if not pool:
        return None
    return min(pool, key=lambda r: (r.get("ranking") or 99, -r["probability"]))
