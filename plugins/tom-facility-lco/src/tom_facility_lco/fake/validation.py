"""The portal's checks of a request group, with errors in its nested DRF shape (apis.md §5.2)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tom_facility_lco.fake.common import (
    CONFIG_OVERHEAD,
    FRONT_PADDING,
    NOT_VISIBLE,
    REQUIRED,
    SITE_LATITUDES,
)
from tom_facility_lco.fake.common import number as _number
from tom_facility_lco.fake.common import parse as _parse

if TYPE_CHECKING:  # pragma: no cover
    from tom_facility_lco.fake.state import FakeLCO


_CERBERUS_TYPES: dict[str, tuple[type, ...]] = {
    "float": (int, float), "number": (int, float), "integer": (int,), "string": (str,), "boolean": (bool,),
    "dict": (dict,), "list": (list,)}


def schema_errors(schema: dict[str, Any], document: Any) -> dict[str, Any]:
    """The subset of Cerberus the portal's validation_schemas use (required, type, min, max,
    allowed, nested schema), with errors in the portal's nested DRF shape."""
    errors: dict[str, Any] = {}
    if not isinstance(document, dict):
        return {"non_field_errors": ["must be of dict type"]}
    for key, rule in schema.items():
        if key not in document:
            if rule.get("required"):
                errors[key] = ["required field"]
            continue
        value = document[key]
        kind = rule.get("type")
        if kind and (not isinstance(value, _CERBERUS_TYPES[kind]) or (isinstance(value, bool) and kind != "boolean")):
            errors[key] = [f"must be of {kind} type"]
        elif "allowed" in rule and value not in rule["allowed"]:
            errors[key] = [f"unallowed value {value}"]
        elif "min" in rule and value < rule["min"]:
            errors[key] = [f"min value is {rule['min']}"]
        elif "max" in rule and value > rule["max"]:
            errors[key] = [f"max value is {rule['max']}"]
        elif kind == "dict" and "schema" in rule:
            if inner := schema_errors(rule["schema"], value):
                errors[key] = inner
        elif kind == "list" and "schema" in rule:
            items = [schema_errors(rule["schema"].get("schema", {}), item) for item in value]
            if any(items):
                errors[key] = items
    return errors


def _merge(errors: dict[str, Any], more: dict[str, Any]) -> None:
    """Merge nested DRF-shaped errors (dicts by key, lists of children by position)."""
    for key, value in more.items():
        mine = errors.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            _merge(mine, value)
        elif isinstance(mine, list) and isinstance(value, list) and len(mine) == len(value) and all(
                isinstance(x, dict) for x in (*mine, *value)):
            for child, extra in zip(mine, value, strict=True):
                _merge(child, extra)
        elif isinstance(mine, list) and isinstance(value, list):
            mine.extend(value)
        elif mine is None:
            errors[key] = value


class Validator:
    """The portal's checks of a request group, giving errors in its nested DRF shape."""

    def __init__(self, lco: FakeLCO) -> None:
        self.lco = lco

    def check(self, body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        if not isinstance(body, dict):
            return {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}, {}
        errors: dict[str, Any] = {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = [REQUIRED]
        elif len(name) > 50:
            errors["name"] = ["Ensure this field has no more than 50 characters."]
        proposal = body.get("proposal")
        if not proposal:
            errors["proposal"] = ["Please provide a proposal."]
        elif proposal not in self.lco.proposals:
            errors.setdefault("non_field_errors", []).append("You do not belong to the proposal you are trying to submit with")
        ipp = _number(body.get("ipp_value"))
        if "ipp_value" not in body:
            errors["ipp_value"] = [REQUIRED]
        elif ipp is None:
            errors["ipp_value"] = ["A valid number is required."]
        elif ipp < 0.5:
            errors["ipp_value"] = ["Ensure this value is greater than or equal to 0.5."]
        elif ipp > 2.0:
            errors["ipp_value"] = ["Ensure this value is less than or equal to 2.0."]
        operator = body.get("operator")
        if operator is None:
            errors["operator"] = [REQUIRED]
        elif operator not in ("SINGLE", "MANY"):
            errors["operator"] = [f'"{operator}" is not a valid choice.']
        kind = body.get("observation_type", "NORMAL")
        if kind not in ("NORMAL", "RAPID_RESPONSE", "TIME_CRITICAL"):
            errors["observation_type"] = [f'"{kind}" is not a valid choice.']
        requests = body.get("requests")
        durations: dict[str, Any] = {"requests": []}
        if not isinstance(requests, list) or not requests:
            errors["requests"] = [REQUIRED] if requests is None else ["This list may not be empty."]
            return errors, {}
        if operator == "SINGLE" and len(requests) != 1:
            errors.setdefault("non_field_errors", []).append("'Single' type requestgroups must have exactly one child request.")
        request_errors = []
        total = 0.0
        for req in requests:
            req_errors, duration = self.check_request(req, kind)
            request_errors.append(req_errors)
            durations["requests"].append(duration)
            total += duration.get("duration", 0.0)
        if any(request_errors):
            errors["requests"] = request_errors
        durations["duration"] = total
        return errors, durations

    def check_request(self, req: Any, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
        errors: dict[str, Any] = {}
        if not isinstance(req, dict):
            return {"non_field_errors": ["Invalid data."]}, {}
        now = self.lco.now()
        windows = req.get("windows")
        if not isinstance(windows, list) or not windows:
            errors["windows"] = [REQUIRED] if windows is None else [{"non_field_errors": ["You must specify at least 1 window"]}]
            windows = []
        window_errors = []
        spans = []
        for window in windows:
            werr: dict[str, Any] = {}
            start = _parse(window.get("start")) if window.get("start") else now
            end = _parse(window.get("end"))
            if "end" not in window:
                werr["end"] = [REQUIRED]
            elif end is None:
                werr["end"] = ["Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]
            if start is None:
                werr["start"] = ["Datetime has wrong format."]
            if not werr and start is not None and end is not None:
                if end <= start:
                    werr["non_field_errors"] = ["The observation window end time cannot be earlier than the start time"]
                elif end <= now:
                    werr["non_field_errors"] = ["Window end time must be in the future"]
                elif not any(s <= start and end <= e for s, e in self.lco.semesters):
                    werr["non_field_errors"] = ["The observation window does not fit within any defined semester."]
                else:
                    spans.append((start, end))
            window_errors.append(werr)
        if any(window_errors):
            errors["windows"] = window_errors
        if kind == "RAPID_RESPONSE":
            for start, _end in spans:
                if start > now + timedelta(minutes=1):
                    errors.setdefault("non_field_errors", []).append(
                        "The Rapid Response observation window start time cannot be in the future.")
        rapid_spans = spans if kind == "RAPID_RESPONSE" else []
        location = req.get("location")
        tel_class = None
        if not isinstance(location, dict) or not location.get("telescope_class"):
            errors["location"] = {"telescope_class": [REQUIRED]}
        else:
            tel_class = location["telescope_class"]
            if tel_class not in ("0m4", "1m0", "2m0"):
                errors["location"] = {"telescope_class": [f'"{tel_class}" is not a valid choice.']}
            if location.get("site") and location["site"] not in SITE_LATITUDES:
                errors.setdefault("location", {})["site"] = [f'"{location["site"]}" is not a valid choice.']
        threshold = req.get("acceptability_threshold")
        if threshold is not None and not (0 <= (_number(threshold) or -1) <= 100):
            errors["acceptability_threshold"] = ["Ensure this value is less than or equal to 100."]
        repeats = req.get("configuration_repeats", 1)
        if not isinstance(repeats, int) or repeats < 1:
            errors["configuration_repeats"] = ["Ensure this value is greater than or equal to 1."]
            repeats = 1
        if req.get("optimization_type", "TIME") not in ("TIME", "AIRMASS"):
            errors["optimization_type"] = [f'"{req.get("optimization_type")}" is not a valid choice.']
        if "cadence" in req:
            errors["cadence"] = ["Please use the cadence endpoint to expand your cadence request"]
        configurations = req.get("configurations")
        if not isinstance(configurations, list) or not configurations:
            errors["configurations"] = [REQUIRED] if configurations is None else ["This list may not be empty."]
            return errors, {}
        config_errors = []
        config_durations = []
        for config in configurations:
            cerr, cdur = self.check_configuration(config, tel_class)
            config_errors.append(cerr)
            config_durations.append(cdur)
        if any(config_errors):
            errors["configurations"] = config_errors
        duration = (FRONT_PADDING + sum(c.get("duration", 0.0) for c in config_durations)) * repeats
        for _start, end in rapid_spans:
            if end > now + timedelta(hours=24, seconds=duration):
                errors.setdefault("non_field_errors", []).append(
                    "A RAPID_RESPONSE observation window must end within 24 hours (plus the request's duration) "
                    "of now.")
        if not errors and spans:
            self.check_visibility(req, errors, spans, duration)
        largest = max(((e - s).total_seconds() for s, e in spans), default=0.0)
        return errors, {"duration": round(duration), "configurations": config_durations, "largest_interval": largest}

    def check_configuration(self, config: Any, tel_class: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        errors: dict[str, Any] = {}
        if not isinstance(config, dict):
            return {"non_field_errors": ["Invalid data."]}, {}
        code = config.get("instrument_type")
        info = self.lco.instruments.get(code) if isinstance(code, str) else None
        if info is None:
            errors["instrument_type"] = [f"Invalid instrument type {code!r}. Valid instruments may include: "
                                         f"{', '.join(sorted(self.lco.instruments))}"]
            return errors, {}
        if tel_class is not None and info["class"] != tel_class:
            errors.setdefault("non_field_errors", []).append(
                f"Invalid instrument type {code} at site=None, enc=None, tel=None for telescope class {tel_class}")
        ctype = config.get("type")
        if ctype not in info["configuration_types"]:
            errors["type"] = [f"configuration type {ctype} is not valid for instrument type {code}"]
        for key in ("acquisition_config", "guiding_config", "constraints"):
            if not isinstance(config.get(key), dict):
                errors[key] = [REQUIRED]
        constraints = config.get("constraints") if isinstance(config.get("constraints"), dict) else {}
        cerr: dict[str, Any] = {}
        for key, low, high, default in (("max_airmass", 1.0, 25.0, 1.6), ("min_lunar_distance", 0.0, 180.0, 30.0),
                                        ("max_lunar_phase", 0.0, 1.0, 1.0)):
            value = _number(constraints.get(key, default))
            if value is None:
                cerr[key] = ["A valid number is required."]
            elif value < low:
                cerr[key] = [f"Ensure this value is greater than or equal to {low}."]
            elif value > high:
                cerr[key] = [f"Ensure this value is less than or equal to {high}."]
        if cerr:
            errors["constraints"] = cerr
        acquisition = config.get("acquisition_config") if isinstance(config.get("acquisition_config"), dict) else {}
        acq_modes = [m["code"] for m in info["modes"].get("acquisition", {}).get("modes", [])]
        if acquisition.get("mode", "OFF") not in [*acq_modes, "OFF"]:
            errors["acquisition_config"] = {"mode": [f"Invalid acquisition mode {acquisition.get('mode')}"]}
        elif acquisition.get("mode") == "BRIGHTEST" and (acquisition.get("extra_params") or {}).get(
                "acquire_radius") is None:  # the mode's validation_schema (Cerberus)
            errors["acquisition_config"] = {"extra_params": {"acquire_radius": ["required field"]}}
        guiding = config.get("guiding_config") if isinstance(config.get("guiding_config"), dict) else {}
        guide_modes = [m["code"] for m in info["modes"].get("guiding", {}).get("modes", [])]
        if "mode" in guiding and guiding["mode"] not in guide_modes:
            errors["guiding_config"] = {"mode": [f"Invalid guiding mode {guiding['mode']}"]}
        requires_elements = info["configuration_types"].get(ctype, {}).get("requires_optical_elements", True)
        readout = info["modes"].get("readout", {})
        readout_modes = {m["code"]: m for m in readout.get("modes", [])}
        ics = config.get("instrument_configs")
        duration = CONFIG_OVERHEAD + (90.0 if acquisition.get("mode", "OFF") != "OFF" else 0.0)
        base = duration
        ic_durations = []
        if not isinstance(ics, list) or not ics:
            errors["instrument_configs"] = [REQUIRED] if ics is None else ["This list may not be empty."]
        else:
            ic_errors = []
            for ic in ics:
                ierr: dict[str, Any] = {}
                if not isinstance(ic, dict):
                    ic_errors.append({"non_field_errors": ["Invalid data."]})
                    continue
                exposure = _number(ic.get("exposure_time"))
                if "exposure_time" not in ic:
                    ierr["exposure_time"] = [REQUIRED]
                elif exposure is None or exposure < 0:
                    ierr["exposure_time"] = ["Ensure this value is greater than or equal to 0."]
                count = ic.get("exposure_count", 1)
                if not isinstance(count, int) or count < 1:
                    ierr["exposure_count"] = ["Ensure this value is greater than or equal to 1."]
                    count = 1
                mode = ic.get("mode") or readout.get("default")
                if mode not in readout_modes:
                    ierr["mode"] = [f"Invalid readout mode {mode}. Valid readout modes are "
                                    f"{', '.join(readout_modes)}"]
                if "exposure" in info["modes"]:
                    self.check_exposure_modes(info, ic, ierr)
                elements = ic.get("optical_elements") or {}
                if requires_elements:
                    for group, choices in info["optical_elements"].items():
                        singular = group[:-1] if group.endswith("s") else group
                        codes = {c["code"].lower() for c in choices if c.get("schedulable")}
                        if singular not in elements:
                            errors.setdefault("non_field_errors", []).append(
                                f"Must set optical element of type {singular} for instrument type {code}")
                        elif str(elements[singular]).lower() not in codes:
                            errors.setdefault("non_field_errors", []).append(
                                f"optical element {elements[singular]} of type {singular} is not available")
                ic_errors.append(ierr)
                overhead = readout_modes.get(mode, {}).get("overhead", 0.0)
                ic_duration = count * ((exposure or 0.0) + overhead)
                ic_durations.append({"duration": ic_duration})
                duration += ic_duration
            if any(ic_errors):
                errors["instrument_configs"] = ic_errors
        if info.get("validation_schema") and isinstance(ics, list):
            _merge(errors, schema_errors(info["validation_schema"], config))
        repeat = config.get("repeat_duration")
        if str(ctype).startswith("REPEAT_"):
            seconds = _number(repeat)
            if repeat is None:
                errors["repeat_duration"] = [f"Must specify a repeat_duration for a {ctype} configuration"]
            elif seconds is None or seconds < duration - base:
                errors["repeat_duration"] = [f"Configuration repeat_duration of {repeat} is less than the minimum "
                                             f"one pass of the instrument_configs ({duration - base:g} s)"]
            else:
                duration = base + seconds  # the sequence fills the repeat duration
        elif repeat is not None:
            errors["repeat_duration"] = [f"You may only specify a repeat_duration for REPEAT_* type configurations, "
                                         f"not {ctype}"]
        target = config.get("target")
        terr = self.check_target(target)
        if terr:
            errors["target"] = terr
        return errors, {"instrument_configs": ic_durations, "duration": duration}

    def check_exposure_modes(self, info: dict[str, Any], ic: dict[str, Any], ierr: dict[str, Any]) -> None:
        """MuSCAT: ``extra_params.exposure_mode`` must be one of the instrument's ``exposure``
        modes, and ``exposure_time`` (what the portal schedules) must cover the longest channel."""
        raw = ic.get("extra_params")
        extra: dict[str, Any] = raw if isinstance(raw, dict) else {}
        group = info["modes"]["exposure"]
        codes = [m["code"] for m in group.get("modes", []) if m.get("schedulable", True)]
        mode = extra.get("exposure_mode")
        if mode is not None and mode not in codes:
            ierr.setdefault("extra_params", {})["exposure_mode"] = [
                f"Invalid exposure mode {mode}. Valid exposure modes are {', '.join(codes)}"]
        channels = [_number(v) for k, v in extra.items() if str(k).startswith("exposure_time_")]
        longest = max((c for c in channels if c is not None), default=None)
        exposure = _number(ic.get("exposure_time"))
        if longest is not None and exposure is not None and exposure < longest:
            ierr.setdefault("exposure_time", []).append(
                f"exposure_time {exposure:g} is shorter than the longest channel exposure time {longest:g}")

    def check_target(self, target: Any) -> dict[str, Any]:
        if not isinstance(target, dict):
            return {"non_field_errors": [REQUIRED]}
        errors: dict[str, Any] = {}
        if not target.get("name"):
            errors["name"] = [REQUIRED]
        elif len(str(target["name"])) > 50:
            errors["name"] = ["Ensure this field has no more than 50 characters."]
        kind = target.get("type")
        if kind == "ICRS":
            for key, low, high in (("ra", 0.0, 360.0), ("dec", -90.0, 90.0), ("parallax", 0.0, 2000.0),
                                   ("epoch", None, 2100.0)):
                if key not in target:
                    if key in ("ra", "dec"):
                        errors[key] = [REQUIRED]
                    continue
                value = _number(target[key])
                if value is None:
                    errors[key] = ["A valid number is required."]
                elif low is not None and value < low:
                    errors[key] = [f"Ensure this value is greater than or equal to {low:g}."]
                elif value > high:
                    errors[key] = [f"Ensure this value is less than or equal to {high:g}."]
        elif kind == "ORBITAL_ELEMENTS":
            scheme = target.get("scheme")
            per_scheme = {
                "MPC_MINOR_PLANET": ("argofperih", "meandist", "meananom"),
                "MPC_COMET": ("argofperih", "perihdist", "epochofperih"),
                "JPL_MAJOR_PLANET": ("argofperih", "meandist", "meananom", "dailymot"),
                "JPL_MINOR_PLANET": ("argofperih", "perihdist", "epochofperih"),
                "ASA_MAJOR_PLANET": ("longofperih", "meandist", "meanlong", "dailymot"),
                "ASA_MINOR_PLANET": ("argofperih", "meandist", "meananom"),
                "ASA_COMET": ("argofperih", "perihdist", "epochofperih"),
            }
            if scheme not in per_scheme:
                errors["scheme"] = [f'"{scheme}" is not a valid choice.']
                return errors
            for key in ("epochofel", "orbinc", "longascnode", "eccentricity", *per_scheme[scheme]):
                if target.get(key) is None:
                    errors[key] = [REQUIRED]
            epoch = _number(target.get("epochofel"))
            if epoch is not None and not 10000 <= epoch <= 100000:
                errors["epochofel"] = ["Ensure this value is between 10000 and 100000."]
            inc = _number(target.get("orbinc"))
            if inc is not None and not 0 <= inc <= 180:
                errors["orbinc"] = ["Ensure this value is less than or equal to 180."]
            ecc = _number(target.get("eccentricity"))
            if ecc is not None and ecc > 0.9 and "COMET" not in scheme:
                errors["eccentricity"] = [f"ORBITAL_ELEMENTS pointing of scheme {scheme} requires eccentricity to be lower than 0.9"]
        elif kind in ("HOUR_ANGLE", "SATELLITE"):
            errors["type"] = [f"{kind} targets are not allowed for scheduled observations"]
        else:
            errors["type"] = [f'"{kind}" is not a valid choice.']
        return errors

    def check_visibility(self, req: dict[str, Any], errors: dict[str, Any], spans: list[Any], duration: float) -> None:
        """A crude but honest check: the best airmass an ICRS target reaches (at transit) from
        any allowed site must be under the limit, and the window must hold the duration."""
        config = req["configurations"][0]
        target = config["target"]
        if target.get("name") in self.lco.invisible:
            errors.setdefault("non_field_errors", []).append(NOT_VISIBLE)
            return
        longest = max((e - s).total_seconds() for s, e in spans)
        if longest < duration:
            errors.setdefault("non_field_errors", []).append(
                f"According to the constraints of the request, the target will only be visible for a maximum of "
                f"{longest / 3600:.2f} hours within the time window. This is less than the duration of your request "
                f"{duration / 3600:.2f} hours. Consider expanding the time window or loosening the airmass or "
                "lunar separation constraints.")
            return
        if target.get("type") != "ICRS":
            return

        max_airmass = float(config["constraints"].get("max_airmass", 1.6))
        site = req["location"].get("site")
        latitudes = [SITE_LATITUDES[site]] if site in SITE_LATITUDES else list(SITE_LATITUDES.values())
        best = min(abs(lat - float(target["dec"])) for lat in latitudes)
        airmass = 1.0 / math.cos(math.radians(best)) if best < 89.9 else float("inf")
        if airmass > max_airmass:
            errors.setdefault("non_field_errors", []).append(NOT_VISIBLE)


