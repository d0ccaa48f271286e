"""ANTARES records to tomcore types, and query options to an Elasticsearch query.

Pure functions, no HTTP.

* A locus becomes an :class:`Alert`: object id = ``locus_id``; name = the ZTF object id when
  the locus has one (the name other brokers and TNS use), else the locus id; aliases = both;
  position ``ra``/``dec``; magnitude ``newest_alert_magnitude``; discovery/latest time from
  ``oldest``/``newest_alert_observation_time``; extras ``antares_tags`` (comma list),
  ``antares_num_alerts``, ``antares_num_mag_values``, ``antares_brightest_mag``.
* The CSV light curve: empty cells (and ``nan``) are nulls; a row is an upper limit when its
  alert id is ``ztf_upper_limit:...`` or its ``ant_survey`` is 2, or it has a limiting
  magnitude but no magnitude; a detection has a finite ``ant_mag`` (error ``ant_magerr``).
  Time ``ant_mjd`` (else ``time``, ISO UTC); band ``ant_passband`` (ZTF's ``R`` as ``r``);
  telescope from ``ant_survey`` (1, 2 ZTF; 3 DECAT; 4 LSST).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tomcore.contracts.brokers import BadRecord
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint
from tomcore.domain.times import MJD_EPOCH, datetime_to_mjd, parse_time_to_mjd

BROKER = "antares"
TELESCOPES = {1: "ZTF", 2: "ZTF", 3: "DECAT", 4: "LSST"}
UPPER_LIMIT_SURVEYS = {2}
REQUIRED_COLUMNS = ("ant_passband", "ant_mag", "ant_maglim")
#: The server refuses cones wider than this (degrees).
MAX_RADIUS_DEG = 1.0


def _finite(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def hmsdms(ra: float, dec: float) -> str:
    """``"10h00m29.6296s +02d20m44.2s"``, the location form of ANTARES' ``sky_distance``."""
    hours = (ra % 360.0) / 15.0
    h = int(hours)
    m = int((hours - h) * 60)
    s = ((hours - h) * 60 - m) * 60
    sign = "-" if dec < 0 else "+"
    d_abs = abs(dec)
    d = int(d_abs)
    dm = int((d_abs - d) * 60)
    ds = ((d_abs - d) * 60 - dm) * 60
    return f"{h:02d}h{m:02d}m{s:07.4f}s {sign}{d:02d}d{dm:02d}m{ds:06.3f}s"


def build_query(params: Mapping[str, Any], *, since: datetime | None = None) -> dict[str, Any]:
    """The Elasticsearch query for validated options (or the raw ``es_query``), with
    ``since`` as a lower bound on the newest alert's time."""
    filters: list[dict[str, Any]] = []
    raw = params.get("es_query")
    if raw is not None:
        filters.append(raw["query"])
    ztf = params.get("ztf_object_id") or []
    if len(ztf) == 1:
        filters.append({"term": {"properties.ztf_object_id": ztf[0]}})
    elif ztf:
        filters.append({"terms": {"properties.ztf_object_id": list(ztf)}})
    if params.get("tags"):
        filters.append({"terms": {"tags": list(params["tags"])}})
    if params.get("ra") is not None and params.get("dec") is not None:
        filters.append({"sky_distance": {"radius": f"{params.get('radius') or 0.01:g} degree",
                                         "location": hmsdms(params["ra"], params["dec"])}})
    ranges = {
        "properties.num_mag_values": (params.get("nobs_min"), params.get("nobs_max")),
        "properties.oldest_alert_observation_time": (params.get("first_mjd_min"), params.get("first_mjd_max")),
        "properties.newest_alert_observation_time": (params.get("last_mjd_min"), params.get("last_mjd_max")),
        "properties.newest_alert_magnitude": (params.get("mag_min"), params.get("mag_max")),
    }
    if since is not None:
        low, high = ranges["properties.newest_alert_observation_time"]
        since_mjd = datetime_to_mjd(since)
        ranges["properties.newest_alert_observation_time"] = (since_mjd if low is None else max(low, since_mjd), high)
    for field, (low, high) in ranges.items():
        bounds = {k: v for k, v in (("gte", low), ("lte", high)) if v is not None}
        if bounds:
            filters.append({"range": {field: bounds}})
    if raw is not None and len(filters) == 1:
        return {"query": raw["query"]}
    return {"query": {"bool": {"filter": filters}}}


def web_url(locus_id: str, base: str = "https://antares.noirlab.edu/loci/") -> str:
    return base.rstrip("/") + "/" + locus_id


def _time(mjd: float | None) -> datetime | None:
    return MJD_EPOCH + timedelta(days=mjd) if mjd is not None else None


def alert_from_locus(locus: Any, *, index: int = 0, base_web: str = "https://antares.noirlab.edu/loci/") -> Alert:
    """An :class:`Alert` from a search result's ``locus`` or a ``/loci/{id}`` ``data`` object
    (whose ``internal_properties`` and ``user_properties`` are merged, as the client does)."""
    if not isinstance(locus, dict):
        raise BadRecord(f"record {index + 1}: not a JSON object")
    locus_id = locus.get("locus_id") or locus.get("id")
    if not isinstance(locus_id, str) or not locus_id.strip():
        raise BadRecord(f"record {index + 1}: missing field locus_id")
    ra, dec = locus.get("ra"), locus.get("dec")
    for key, value in (("ra", ra), ("dec", dec)):
        if value is None:
            raise BadRecord(f"{locus_id}: missing field {key}")
        if _finite(value) is None:
            raise BadRecord(f"{locus_id}: {key} is not a finite number ({value!r})")
    properties: dict[str, Any] = {}
    for key in ("properties", "internal_properties", "user_properties"):
        if isinstance(locus.get(key), dict):
            properties.update(locus[key])
    ztf = properties.get("ztf_object_id")
    ztf = ztf.strip() if isinstance(ztf, str) and ztf.strip() else None
    tags = [str(t) for t in locus.get("tags") or [] if t]
    extras: dict[str, Any] = {}
    if tags:
        extras["antares_tags"] = ", ".join(tags)
    for key, extra in (("num_alerts", "antares_num_alerts"), ("num_mag_values", "antares_num_mag_values")):
        number = _finite(properties.get(key))
        if number is not None:
            extras[extra] = int(number)
    brightest = _finite(properties.get("brightest_alert_magnitude"))
    if brightest is not None:
        extras["antares_brightest_mag"] = brightest
    return Alert(
        broker=BROKER, object_id=locus_id, name=ztf or locus_id, ra=float(ra), dec=float(dec),
        mag=_finite(properties.get("newest_alert_magnitude")),
        discovery_time=_time(_finite(properties.get("oldest_alert_observation_time"))),
        latest_time=_time(_finite(properties.get("newest_alert_observation_time"))),
        url=web_url(locus_id, base_web), aliases=[a for a in (locus_id, ztf) if a], extras=extras, raw=locus,
    )


def page_from_results(results: list[Any], *, base_web: str = "https://antares.noirlab.edu/loci/") -> AlertPage:
    """Alerts of one ``GET loci`` page (each element wraps its locus in ``locus``)."""
    page = AlertPage()
    for index, element in enumerate(results):
        try:
            locus = element.get("locus", element) if isinstance(element, dict) else element
            page.alerts.append(alert_from_locus(locus, index=index, base_web=base_web))
        except BadRecord as exc:
            page.problems.append(str(exc))
    return page


def points_from_csv(locus_id: str, text: Any) -> list[PhotometryPoint]:
    """Photometry points of a locus' CSV light curve (detections and upper limits)."""
    if text is None or text == "":
        return []
    if not isinstance(text, str):
        raise BadRecord(f"{locus_id}: the light curve is not CSV text")
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing or not ({"ant_mjd", "time"} & columns):
        raise BadRecord(f"{locus_id}: the light curve CSV lacks the columns {', '.join(missing) or 'ant_mjd/time'}")
    points: list[PhotometryPoint] = []
    for row in reader:
        mjd = _finite(row.get("ant_mjd"))
        if mjd is None and row.get("time"):
            try:
                mjd = parse_time_to_mjd(row["time"])
            except ValueError:
                mjd = None
        band = (row.get("ant_passband") or "").strip()
        if mjd is None or not band:
            continue
        survey_value = _finite(row.get("ant_survey"))
        survey = int(survey_value) if survey_value is not None else None
        if survey in (1, 2):
            band = band.lower()  # ZTF's "R" is the same r band as ALeRCE's
        alert_id = row.get("alert_id") or ""
        mag, err, limit = _finite(row.get("ant_mag")), _finite(row.get("ant_magerr")), _finite(row.get("ant_maglim"))
        upper = alert_id.startswith("ztf_upper_limit:") or survey in UPPER_LIMIT_SURVEYS or (mag is None and limit is not None)
        telescope = TELESCOPES.get(survey) if survey is not None else None
        if upper:
            if limit is None:
                continue
            points.append(PhotometryPoint(time=mjd, band=band, limit=limit, telescope=telescope,
                                          source=BROKER, source_id=locus_id))
        elif mag is not None:
            points.append(PhotometryPoint(time=mjd, band=band, mag=mag, mag_err=err, telescope=telescope,
                                          source=BROKER, source_id=locus_id))
    return points
