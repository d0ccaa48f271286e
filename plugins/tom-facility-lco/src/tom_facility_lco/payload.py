"""Build LCO request groups from a target and observation parameters, and turn the portal's
nested validation errors back into errors on those parameters (apis.md §5.2-5.3)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tom_facility_lco.client import iso
from tom_facility_lco.muscat import is_muscat, muscat_instrument_config
from tom_facility_lco.params import IMAGING, MUSCAT_IMAGING, SPECTRA
from tomcore.domain.targets import Target
from tomcore.errors import ValidationError

NAME_LIMIT = 50

#: TOM orbital field -> OCS field, for ORBITAL_ELEMENTS targets.
ORBITAL_NAMES = {
    "inclination": "orbinc",
    "lng_asc_node": "longascnode",
    "arg_of_perihelion": "argofperih",
    "semimajor_axis": "meandist",
    "mean_anomaly": "meananom",
    "mean_daily_motion": "dailymot",
    "epoch_of_elements": "epochofel",
    "epoch_of_perihelion": "epochofperih",
    "eccentricity": "eccentricity",
    "perihdist": "perihdist",
}
#: Fields each scheme needs on top of epochofel, orbinc, longascnode, eccentricity.
SCHEME_FIELDS: dict[str, tuple[str, ...]] = {
    "MPC_MINOR_PLANET": ("arg_of_perihelion", "semimajor_axis", "mean_anomaly"),
    "MPC_COMET": ("arg_of_perihelion", "perihdist", "epoch_of_perihelion"),
    "JPL_MAJOR_PLANET": ("arg_of_perihelion", "semimajor_axis", "mean_anomaly", "mean_daily_motion"),
}
BASE_ORBITAL = ("epoch_of_elements", "inclination", "lng_asc_node", "eccentricity")

#: Calibration exposure times (seconds) for spectrographs (FLOYDS' usual values).
ARC_EXPOSURE = 60.0
LAMP_FLAT_EXPOSURE = 50.0


def target_payload(target: Target) -> dict[str, Any]:
    """The OCS target of a TOM target: ICRS with proper motion, or ORBITAL_ELEMENTS."""
    name = target.name[:NAME_LIMIT]
    if target.is_sidereal:
        if target.ra is None or target.dec is None:
            raise ValidationError("the target has no position", {"target": ["a sidereal target needs ra and dec"]})
        return {
            "name": name, "type": "ICRS", "ra": target.ra, "dec": target.dec,
            "proper_motion_ra": target.pm_ra or 0.0, "proper_motion_dec": target.pm_dec or 0.0,
            "parallax": target.parallax or 0.0, "epoch": target.epoch or 2000.0,
        }
    scheme = target.scheme or ""
    if scheme not in SCHEME_FIELDS:
        raise ValidationError("the target cannot be observed", {"target": [f"scheme {scheme!r} is not one of {', '.join(SCHEME_FIELDS)}"]})
    payload: dict[str, Any] = {"name": name, "type": "ORBITAL_ELEMENTS", "scheme": scheme}
    missing = []
    for field in (*BASE_ORBITAL, *SCHEME_FIELDS[scheme]):
        value = getattr(target, field)
        if value is None:
            missing.append(field)
        else:
            payload[ORBITAL_NAMES[field]] = value
    if missing:
        raise ValidationError("the target lacks orbital elements", {"target": [f"{', '.join(missing)} required for scheme {scheme}"]})
    return payload


def _per_filter(values: Sequence[Any] | None, count: int, field: str, default: Any, errors: dict[str, list[str]]) -> list[Any]:
    values = list(values or [])
    if not values:
        return [default] * count
    if len(values) == 1:
        return values * count
    if len(values) != count:
        errors.setdefault(field, []).append(f"give one value or one per filter ({count}), not {len(values)}")
        return [values[0]] * count
    return values


def _codes(instrument: Mapping[str, Any], group: str) -> list[str]:
    elements = instrument.get("optical_elements", {}).get(group, [])
    return [str(e.get("code")) for e in elements if e.get("schedulable", True)]


def _default_code(instrument: Mapping[str, Any], group: str) -> str | None:
    elements = instrument.get("optical_elements", {}).get(group, [])
    for element in elements:
        if element.get("default"):
            return str(element.get("code"))
    return str(elements[0]["code"]) if elements else None


def _mode_codes(instrument: Mapping[str, Any], group: str) -> list[str]:
    return [str(m.get("code")) for m in instrument.get("modes", {}).get(group, {}).get("modes", []) if m.get("schedulable", True)]


def _check_code(value: str, allowed: list[str], field: str, what: str, errors: dict[str, list[str]]) -> str:
    by_lower = {code.lower(): code for code in allowed}
    if allowed and value.lower() not in by_lower:
        errors.setdefault(field, []).append(f"{value!r} is not a {what} of this instrument (available: {', '.join(allowed)})")
        return value
    return by_lower.get(value.lower(), value)


def build_request_group(
    target: Target,
    observation_type: str,
    params: Mapping[str, Any],
    *,
    instrument_code: str,
    instrument: Mapping[str, Any],
    proposal: str,
    name: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The request group for one target. Raises :class:`ValidationError` naming the
    parameters at fault for everything that can be checked here."""
    errors: dict[str, list[str]] = {}
    kind = str(instrument.get("type", "IMAGE")).upper()
    if observation_type in (IMAGING, MUSCAT_IMAGING) and kind == "SPECTRA":
        errors.setdefault("instrument", []).append(f"{instrument_code} is a spectrograph; use --type SPECTRA")
    elif observation_type == IMAGING and is_muscat(instrument):
        errors.setdefault("instrument", []).append(
            f"{instrument_code} exposes its four channels at once; use --type MUSCAT_IMAGING")
    elif observation_type == MUSCAT_IMAGING and not is_muscat(instrument):
        errors.setdefault("instrument", []).append(f"{instrument_code} is not a MuSCAT camera; use --type IMAGING")
    if observation_type == SPECTRA and kind != "SPECTRA":
        errors.setdefault("instrument", []).append(f"{instrument_code} is not a spectrograph; use --type IMAGING")
    try:
        target_body = target_payload(target)
    except ValidationError as exc:
        for key, reasons in exc.errors.items():
            errors.setdefault(key, []).extend(reasons)
        target_body = {}

    readout_modes = _mode_codes(instrument, "readout")
    readout = params.get("readout_mode")
    if readout:
        readout = _check_code(str(readout), readout_modes, "readout_mode", "readout mode", errors)
    else:
        readout = instrument.get("modes", {}).get("readout", {}).get("default") or (readout_modes[0] if readout_modes else None)

    constraints: dict[str, Any] = {
        "max_airmass": params.get("max_airmass", 1.6),
        "min_lunar_distance": params.get("min_lunar_distance", 30.0),
    }
    for key in ("max_lunar_phase", "max_seeing"):
        if params.get(key) is not None:
            constraints[key] = params[key]

    def instrument_config(exposure_time: float, exposure_count: int, elements: dict[str, str], **extra: Any) -> dict[str, Any]:
        config: dict[str, Any] = {"exposure_time": exposure_time, "exposure_count": exposure_count,
                                  "optical_elements": elements, "extra_params": {}}
        if readout:
            config["mode"] = readout
        config.update(extra)
        return config

    configuration_types = instrument.get("configuration_types", {}) or {}
    configurations: list[dict[str, Any]] = []
    if observation_type == SPECTRA:
        slits = _codes(instrument, "slits")
        slit = params.get("slit")
        slit = _check_code(str(slit), slits, "slit", "slit", errors) if slit else _default_code(instrument, "slits")
        times = list(params.get("exposure_time") or [])
        counts = list(params.get("exposure_count") or [1])
        if len(times) > 1 or len(counts) > 1:
            errors.setdefault("exposure_time", []).append("a spectrum takes one exposure time and one count")
        elements = {"slit": slit} if slit else {}
        rotator = params.get("rotator_mode", "VFLOAT")
        acquisition: dict[str, Any] = {"mode": params.get("acquisition_mode", "WCS")}
        if acquisition["mode"] == "BRIGHTEST":  # the portal's schema requires the radius
            if params.get("acquire_radius") is None:
                errors.setdefault("acquire_radius", []).append("is required with --acquisition-mode BRIGHTEST")
            else:
                acquisition["extra_params"] = {"acquire_radius": params["acquire_radius"]}
        spectrum = {
            "type": "SPECTRUM", "instrument_type": instrument_code,
            "instrument_configs": [instrument_config(times[0] if times else 0.0, counts[0], elements, rotator_mode=rotator)],
            "acquisition_config": acquisition,
            "guiding_config": {"mode": "ON", "optional": False},
            "constraints": constraints, "target": target_body,
        }

        def calibration(kind: str, seconds: float) -> dict[str, Any]:
            return {
                "type": kind, "instrument_type": instrument_code,
                "instrument_configs": [instrument_config(seconds, 1, dict(elements), rotator_mode=rotator)],
                "acquisition_config": {"mode": "OFF"}, "guiding_config": {"mode": "OFF", "optional": True},
                "constraints": constraints, "target": target_body,
            }

        when = params.get("calibrations", "both")
        can_calibrate = {"ARC", "LAMP_FLAT"} <= set(configuration_types) if configuration_types else True
        before = [calibration("LAMP_FLAT", LAMP_FLAT_EXPOSURE), calibration("ARC", ARC_EXPOSURE)]
        after = [calibration("ARC", ARC_EXPOSURE), calibration("LAMP_FLAT", LAMP_FLAT_EXPOSURE)]
        if when in ("before", "both") and can_calibrate:
            configurations += before
        configurations.append(spectrum)
        if when in ("after", "both") and can_calibrate:
            configurations += after
    elif observation_type == MUSCAT_IMAGING:
        configurations.append({
            "type": "EXPOSE", "instrument_type": instrument_code,
            "instrument_configs": [muscat_instrument_config(params, instrument, readout, errors)],
            "acquisition_config": {"mode": "OFF"},
            "guiding_config": {"optional": True} | ({"mode": params["guiding"]} if params.get("guiding") else {}),
            "constraints": constraints, "target": target_body,
        })
    else:
        filters = [str(f) for f in params.get("filter") or []]
        allowed = _codes(instrument, "filters")
        filters = [_check_code(f, allowed, "filter", "filter", errors) for f in filters]
        if not filters:
            errors.setdefault("filter", []).append("is required")
        count = max(len(filters), 1)
        times = _per_filter(params.get("exposure_time"), count, "exposure_time", None, errors)
        counts = _per_filter(params.get("exposure_count"), count, "exposure_count", 1, errors)
        guiding: dict[str, Any] = {"optional": True}
        if params.get("guiding"):
            guiding["mode"] = params["guiding"]
        configurations.append({
            "type": "EXPOSE", "instrument_type": instrument_code,
            "instrument_configs": [instrument_config(t, c, {"filter": f}) for f, t, c in zip(filters, times, counts, strict=False)],
            "acquisition_config": {"mode": "OFF"}, "guiding_config": guiding,
            "constraints": constraints, "target": target_body,
        })
    for config in configurations:
        for ic in config["instrument_configs"]:
            t = ic["exposure_time"]
            if t is None or not math.isfinite(float(t)):
                errors.setdefault("exposure_time", []).append("is required")
                break

    now = now or datetime.now(UTC)
    start = params.get("start") or now
    end = params.get("end")
    if end is None:
        errors.setdefault("end", []).append("is required")
    elif end <= start:
        errors.setdefault("end", []).append(f"{iso(end)} is not after the start {iso(start)}")
    elif end <= now:
        errors.setdefault("end", []).append(f"{iso(end)} is in the past")
    location: dict[str, Any] = {"telescope_class": str(instrument.get("class", ""))}
    if params.get("site"):
        location["site"] = params["site"]
    request: dict[str, Any] = {
        "configurations": configurations,
        "windows": [{"start": iso(start), "end": iso(end)}] if end is not None else [],
        "location": location,
    }
    for key, api_key in (("acceptability_threshold", "acceptability_threshold"),
                         ("configuration_repeats", "configuration_repeats"),
                         ("optimization_type", "optimization_type"), ("observation_note", "observation_note")):
        if params.get(key) is not None:
            request[api_key] = params[key]
    if len(name) > NAME_LIMIT:
        errors.setdefault("name", []).append(f"is longer than {NAME_LIMIT} characters")
    if params.get("observation_note") and len(str(params["observation_note"])) > 255:
        errors.setdefault("observation_note", []).append("is longer than 255 characters")
    if errors:
        raise ValidationError("the request is not valid", errors)
    return {
        "name": name, "proposal": proposal, "ipp_value": params.get("ipp", 1.05), "operator": "SINGLE",
        "observation_type": params.get("observation_mode", "NORMAL"), "requests": [request],
    }


# --------------------------------------------------------------------------------------------
# Errors: the portal's nested DRF shape -> errors per observation parameter
# --------------------------------------------------------------------------------------------

_TOP = {"name": "name", "proposal": "proposal", "ipp_value": "ipp", "observation_type": "observation_mode",
        "operator": "request", "non_field_errors": "request", "requests": "request"}
_REQUEST = {"acceptability_threshold": "acceptability_threshold", "configuration_repeats": "configuration_repeats",
            "optimization_type": "optimization_type", "observation_note": "observation_note", "non_field_errors": "request",
            "cadence": "request"}
_CONSTRAINTS = {"max_airmass", "min_lunar_distance", "max_lunar_phase", "max_seeing"}
_IC_EXTRA = {"exposure_mode", "exposure_time_g", "exposure_time_r", "exposure_time_i", "exposure_time_z"}
_IC = {"exposure_time": "exposure_time", "exposure_count": "exposure_count", "mode": "readout_mode",
       "rotator_mode": "rotator_mode"}


def _guess(message: str, default: str) -> str:
    text = message.lower()
    for needle, field in (("visible", "request"), ("filter", "filter"), ("slit", "slit"),
                          ("optical element", "optical_element"), ("readout", "readout_mode"),
                          ("exposure", "exposure_time"), ("instrument", "instrument"), ("airmass", "max_airmass"),
                          ("lunar", "min_lunar_distance"), ("window start", "start"), ("window", "end"), ("semester", "end"),
                          ("proposal", "proposal"), ("ipp", "ipp")):
        if needle in text:
            return field
    return default


def _field_for(path: list[str | int], message: str) -> str:
    keys = [p for p in path if isinstance(p, str)]
    if not keys:
        return "request"
    if keys[0] != "requests":
        return _TOP.get(keys[0], keys[0]) if keys[0] != "non_field_errors" else _guess(message, "request")
    rest = keys[1:]
    if not rest:
        return _guess(message, "request")
    head = rest[0]
    if head == "windows":
        tail = rest[1] if len(rest) > 1 else "non_field_errors"
        return "start" if tail == "start" else "end"
    if head == "location":
        return "site" if "site" in rest[1:] else "instrument"
    if head != "configurations":
        if head == "non_field_errors":
            return _guess(message, "request")
        return _REQUEST.get(head, head)
    conf = rest[1:]
    if not conf or conf[0] == "non_field_errors":
        return _guess(message, "configuration")
    key = conf[0]
    if key == "instrument_type":
        return "instrument"
    if key == "target":
        return "target"
    if key == "constraints":
        inner = conf[1] if len(conf) > 1 else ""
        return inner if inner in _CONSTRAINTS else "constraints"
    if key == "acquisition_config":
        return "acquire_radius" if "acquire_radius" in conf else "acquisition_mode"
    if key == "guiding_config":
        return "guiding"
    if key == "instrument_configs":
        inner = conf[1:] or ["non_field_errors"]
        if inner[0] == "optical_elements":
            element = str(inner[1]) if len(inner) > 1 else ""
            if element and element not in ("filter", "slit"):
                return "optical_element"
            return element or _guess(message, "filter")
        if inner[0] == "extra_params":
            if len(inner) > 1 and inner[1] in _IC_EXTRA:
                return inner[1]  # MuSCAT's exposure_mode and per-channel exposure times
            return "extra_params." + ".".join(inner[1:]) if len(inner) > 1 else "extra_params"
        if inner[0] in _IC:
            return _IC[inner[0]]
        return _guess(message, "instrument_config")
    return _guess(message, key)


def flatten_errors(errors: Any) -> dict[str, list[str]]:
    """The portal's error structure (dicts mirroring the request, lists with one entry per
    child, ``{}`` for valid children, ``non_field_errors``) as reasons per parameter.

    A child of a list of several (the second filter of a sequence) is named in the reason.
    """
    result: dict[str, list[str]] = {}

    def walk(node: Any, path: list[str | int], label: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)], label)
        elif isinstance(node, list):
            if node and all(isinstance(x, str) for x in node):
                for message in node:
                    field = _field_for(path, message)
                    result.setdefault(field, []).append(f"{label}{message}" if label else message)
                return
            several = sum(1 for x in node if x) > 1 or len(node) > 1
            for index, child in enumerate(node):
                sublabel = label
                if several and path and path[-1] in ("instrument_configs", "configurations", "windows"):
                    noun = {"instrument_configs": "exposure", "configurations": "configuration", "windows": "window"}[str(path[-1])]
                    sublabel = f"{label}{noun} {index + 1}: "
                walk(child, [*path, index], sublabel)
        elif isinstance(node, str):
            result.setdefault(_field_for(path, node), []).append(f"{label}{node}")

    walk(errors, [], "")
    return result
