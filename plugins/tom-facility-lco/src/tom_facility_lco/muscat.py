"""MuSCAT (2M0-SCICAM-MUSCAT): four channels (g, r, i, z) exposed at once.

The portal takes one instrument config for the four channels (apis.md §5.2, §5.7; the TOM
Toolkit's ``MUSCAT_IMAGING``): each channel's exposure time in ``extra_params.exposure_time_<band>``,
the instrument's ``exposure`` mode group as ``extra_params.exposure_mode``, ``exposure_time``
set to the longest channel (what the portal schedules), and one code for every optical-element
group the instrument lists (``narrowband_g_position``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tom_facility_lco.params import MUSCAT_CHANNELS

#: The mode group MuSCAT has and other imagers have not (apis.md §5.7).
EXPOSURE_GROUP = "exposure"


def is_muscat(instrument: Mapping[str, Any]) -> bool:
    """An instrument whose channels are exposed at once (it has an ``exposure`` mode group)."""
    return EXPOSURE_GROUP in (instrument.get("modes") or {})


def _singular(group: str) -> str:
    return group[:-1] if group.endswith("s") else group


def _exposure_times(params: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, float]:
    common = list(params.get("exposure_time") or [])
    if len(common) > 1:
        errors.setdefault("exposure_time", []).append(
            f"give one value for every channel (or --exposure-time-{'/-'.join(MUSCAT_CHANNELS)}), not {len(common)}")
    times: dict[str, float] = {}
    for band in MUSCAT_CHANNELS:
        value = params.get(f"exposure_time_{band}")
        if value is None and common:
            value = common[0]
        if value is None:
            errors.setdefault(f"exposure_time_{band}", []).append("is required (or --exposure-time for every channel)")
            continue
        times[band] = float(value)
    return times


def _exposure_mode(params: Mapping[str, Any], instrument: Mapping[str, Any], errors: dict[str, list[str]]) -> str | None:
    group = (instrument.get("modes") or {}).get(EXPOSURE_GROUP) or {}
    codes = [str(m.get("code")) for m in group.get("modes", []) if m.get("schedulable", True)]
    wanted = params.get("exposure_mode")
    if not wanted:
        return group.get("default") or (codes[0] if codes else None)
    by_lower = {code.lower(): code for code in codes}
    if str(wanted).lower() not in by_lower:
        errors.setdefault("exposure_mode", []).append(
            f"{wanted!r} is not an exposure mode of this instrument (available: {', '.join(codes)})")
        return str(wanted)
    return by_lower[str(wanted).lower()]


def _optical_elements(params: Mapping[str, Any], instrument: Mapping[str, Any],
                      errors: dict[str, list[str]]) -> dict[str, str]:
    groups = {_singular(g): [e for e in elements if e.get("schedulable", True)]
              for g, elements in (instrument.get("optical_elements") or {}).items()}
    chosen: dict[str, str] = {}
    for name, elements in groups.items():
        default = next((e for e in elements if e.get("default")), elements[0] if elements else None)
        if default is not None:
            chosen[name] = str(default.get("code"))
    for item in params.get("optical_element") or []:
        name, sep, code = str(item).partition("=")
        name, code = name.strip().lower(), code.strip()
        if not sep or not name or not code:
            errors.setdefault("optical_element", []).append(f"{item!r} is not GROUP=CODE")
            continue
        if name not in groups and _singular(name) in groups:
            name = _singular(name)  # the portal's plural group name
        if name not in groups:
            errors.setdefault("optical_element", []).append(
                f"{name!r} is not an optical-element group of this instrument (available: {', '.join(groups)})")
            continue
        codes = {str(e.get("code")).lower(): str(e.get("code")) for e in groups[name]}
        if code.lower() not in codes:
            errors.setdefault("optical_element", []).append(
                f"{code!r} is not a {name} of this instrument (available: {', '.join(codes.values())})")
            continue
        chosen[name] = codes[code.lower()]
    return chosen


def muscat_instrument_config(params: Mapping[str, Any], instrument: Mapping[str, Any], readout: str | None,
                             errors: dict[str, list[str]]) -> dict[str, Any]:
    """The one instrument config of a MuSCAT exposure; problems go to ``errors`` by parameter."""
    times = _exposure_times(params, errors)
    counts = list(params.get("exposure_count") or [1])
    if len(counts) > 1:
        errors.setdefault("exposure_count", []).append("MuSCAT takes one count (every channel exposes together)")
    extra: dict[str, Any] = {}
    mode = _exposure_mode(params, instrument, errors)
    if mode:
        extra["exposure_mode"] = mode
    extra.update({f"exposure_time_{band}": seconds for band, seconds in times.items()})
    config: dict[str, Any] = {
        "exposure_time": max(times.values(), default=0.0),  # a missing channel is an error already
        "exposure_count": counts[0],
        "optical_elements": _optical_elements(params, instrument, errors),
        "extra_params": extra,
    }
    if readout:
        config["mode"] = readout
    return config
