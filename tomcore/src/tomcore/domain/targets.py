"""Targets as the core and plugins exchange them.

:class:`Target` is a plain value: the services return it, events carry it, brokers and
catalogs build it (with ``id`` unset) to ask the core to create or update one. Field names
and units follow the TOM Toolkit so its CSV files import unchanged.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from operator import attrgetter, is_not
from typing import Any

import attrs

from tomcore.domain.coords import CoordinateError, parse_dec, parse_ra

SIDEREAL = "SIDEREAL"
NON_SIDEREAL = "NON_SIDEREAL"
TARGET_TYPES = (SIDEREAL, NON_SIDEREAL)

MPC_MINOR_PLANET = "MPC_MINOR_PLANET"
MPC_COMET = "MPC_COMET"
JPL_MAJOR_PLANET = "JPL_MAJOR_PLANET"
SCHEMES = (MPC_MINOR_PLANET, MPC_COMET, JPL_MAJOR_PLANET)

#: Sidereal model fields (degrees, Julian years, mas/yr, mas, pc).
SIDEREAL_FIELDS = ("ra", "dec", "epoch", "pm_ra", "pm_dec", "parallax", "distance", "distance_err")
#: Fields derived by the core, never given.
DERIVED_FIELDS = ("galactic_lng", "galactic_lat")
#: Orbital elements of non-sidereal targets (MJD, degrees, AU, degrees/day, days).
ORBITAL_FIELDS = (
    "epoch_of_elements", "mean_anomaly", "arg_of_perihelion", "eccentricity", "lng_asc_node",
    "inclination", "mean_daily_motion", "semimajor_axis", "epoch_of_perihelion", "perihdist",
    "abs_mag", "slope", "ephemeris_period", "ephemeris_period_err", "ephemeris_epoch",
    "ephemeris_epoch_err",
)
#: Every numeric model field, in the order exports write them.
NUMERIC_FIELDS = SIDEREAL_FIELDS + ORBITAL_FIELDS
MODEL_FIELDS = ("name", "type", *SIDEREAL_FIELDS, *DERIVED_FIELDS, "scheme", *ORBITAL_FIELDS)

REQUIRED_SIDEREAL = ("ra", "dec")
REQUIRED_NON_SIDEREAL = ("scheme", "epoch_of_elements", "inclination", "lng_asc_node", "arg_of_perihelion", "eccentricity")
REQUIRED_PER_SCHEME: dict[str, tuple[str, ...]] = {
    MPC_COMET: ("perihdist", "epoch_of_perihelion"),
    MPC_MINOR_PLANET: ("mean_anomaly", "semimajor_axis"),
    JPL_MAJOR_PLANET: ("mean_daily_motion", "mean_anomaly", "semimajor_axis"),
}

EXTRA_TYPES = ("number", "string", "boolean", "datetime")

#: Characters ignored in names: every Unicode whitespace (as ``str.isspace``), ``-``, ``_``
#: and parentheses.
_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_DROP = str.maketrans("", "", _WHITESPACE + "-_()")


@functools.lru_cache(maxsize=1 << 18)
def normalise_name(name: str) -> str:
    """The form names are matched in: case, spaces, ``-``, ``_``, parentheses and the
    survey prefixes ``SN``/``AT`` (before a year) ignored. ``"SN 2024abc"``,
    ``"AT2024abc"`` and ``"2024ABC"`` all give ``"2024abc"``."""
    text = name.casefold().translate(_DROP)
    if text[:2] in ("sn", "at") and text[2:3].isdecimal():
        return text[2:]
    return text


def _opt_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


@attrs.define(kw_only=True, eq=True)
class Target:
    """A target: a star, a transient, an asteroid, a comet...

    Build one with only ``name`` and fields you know; leave ``id`` as None to ask the core
    to create it. ``extras`` hold any other typed value (number, string, boolean,
    datetime); ``aliases`` are other names it is known by; ``lists`` the target lists
    (groups) it belongs to.
    """

    name: str
    type: str = SIDEREAL
    ra: float | None = None
    dec: float | None = None
    epoch: float | None = None
    pm_ra: float | None = None
    pm_dec: float | None = None
    parallax: float | None = None
    distance: float | None = None
    distance_err: float | None = None
    galactic_lng: float | None = None
    galactic_lat: float | None = None
    scheme: str | None = None
    epoch_of_elements: float | None = None
    mean_anomaly: float | None = None
    arg_of_perihelion: float | None = None
    eccentricity: float | None = None
    lng_asc_node: float | None = None
    inclination: float | None = None
    mean_daily_motion: float | None = None
    semimajor_axis: float | None = None
    epoch_of_perihelion: float | None = None
    perihdist: float | None = None
    abs_mag: float | None = None
    slope: float | None = None
    ephemeris_period: float | None = None
    ephemeris_period_err: float | None = None
    ephemeris_epoch: float | None = None
    ephemeris_epoch_err: float | None = None
    aliases: list[str] = attrs.Factory(list)
    extras: dict[str, Any] = attrs.Factory(dict)
    lists: list[str] = attrs.Factory(list)
    id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None

    @property
    def is_sidereal(self) -> bool:
        return self.type == SIDEREAL

    @property
    def names(self) -> list[str]:
        """The name followed by every alias."""
        return [self.name, *self.aliases]

    def fields(self) -> dict[str, Any]:
        """The model fields (no aliases, extras, lists or bookkeeping) as a dict."""
        return {f: getattr(self, f) for f in MODEL_FIELDS}

    def problems(self, partial: bool = False) -> dict[str, list[str]]:
        """Every reason this target cannot be saved, by field. Empty when it can.

        ``partial`` leaves out missing required fields (a target that only adds names,
        fields or extras to an existing one need not be complete)."""
        name, numbers = self.name, _NUMERIC_GET(self)
        # the common case in one pass: a named sidereal target with finite, in-range numbers
        if (not partial and self.type == SIDEREAL and name and len(name) <= 200 and name[0] > " " and name[-1] > " "
                and self.ra is not None and self.dec is not None):
            fine = True
            for alias in self.aliases:
                if not alias or len(alias) > 200 or alias.isspace():
                    fine = False
                    break
            if fine:
                for key, value in self.extras.items():
                    if not key or len(key) > 100 or (value.__class__ is float and value - value != 0):
                        fine = False
                        break
            if fine:
                try:
                    total = sum(filter(_NOT_NONE, numbers))
                    if total - total == 0 and 0.0 <= self.ra < 360.0 and -90.0 <= self.dec <= 90.0:
                        return {}
                except TypeError:
                    pass
        errors: dict[str, list[str]] = {}

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        if not self.name or not self.name.strip():
            add("name", "is empty")
        elif len(self.name) > 200:
            add("name", "is longer than 200 characters")
        if self.type not in TARGET_TYPES:
            add("type", f"{self.type!r} is not one of {', '.join(TARGET_TYPES)}")
        try:  # fast path: the sum of finite numbers is finite (else look at each)
            total = sum(filter(_NOT_NONE, numbers))
            finite = total - total == 0
        except TypeError:
            finite = False
        if not finite:
            for field, value in zip(NUMERIC_FIELDS, numbers, strict=True):
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    add(field, f"{value!r} is not a number")
                elif not math.isfinite(value):
                    add(field, "is not a finite number")
        if self.type == SIDEREAL:
            for field in () if partial else REQUIRED_SIDEREAL:
                if getattr(self, field) is None:
                    add(field, "is required for a sidereal target")
            dec, ra = self.dec, self.ra
            if isinstance(dec, (int, float)) and dec == dec and not -90 <= dec <= 90 and dec not in (_INF, -_INF):
                add("dec", f"{dec:g} is outside [-90, 90]")
            if isinstance(ra, (int, float)) and ra == ra and not 0 <= ra < 360 and ra not in (_INF, -_INF):
                add("ra", f"{ra:g} is outside [0, 360)")
        elif self.type == NON_SIDEREAL:
            if self.scheme not in SCHEMES and not (partial and self.scheme is None):
                add("scheme", f"{self.scheme!r} is not one of {', '.join(SCHEMES)}" if self.scheme else "is required for a non-sidereal target")
            required = () if partial else REQUIRED_NON_SIDEREAL[1:] + REQUIRED_PER_SCHEME.get(self.scheme or "", ())
            for field in required:
                if getattr(self, field) is None:
                    add(field, f"is required for scheme {self.scheme}" if self.scheme in SCHEMES else "is required for a non-sidereal target")
            if isinstance(self.eccentricity, (int, float)) and self.eccentricity < 0:
                add("eccentricity", "is negative")
        for alias in self.aliases:
            if not alias or not alias.strip():
                add("aliases", "an alias is empty")
            elif len(alias) > 200:
                add("aliases", f"alias {alias[:40]!r}... is longer than 200 characters")
        for key, value in self.extras.items():
            if not key or len(key) > 100:
                add("extras", f"key {key!r} must have 1 to 100 characters")
            if value.__class__ is float and value - value != 0:
                add(f"extras.{key}", "is not a finite number")
        return errors


_NUMERIC_GET = attrgetter(*NUMERIC_FIELDS)
_NOT_NONE = functools.partial(is_not, None)
_INF = math.inf


def coerce_fields(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Convert raw field values (strings from a CSV or the CLI) to typed target fields.

    Accepts degrees or sexagesimal for ``ra``/``dec`` and wraps RA; returns the converted
    fields and the errors by field. Unknown keys are left out (callers treat them as extras).
    """
    fields: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, raw in values.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            if key == "ra":
                fields[key] = parse_ra(raw)
            elif key == "dec":
                fields[key] = parse_dec(raw)
            elif key in NUMERIC_FIELDS:
                number = float(raw)
                if not math.isfinite(number):
                    raise ValueError(f"{raw!r} is not a finite number")
                fields[key] = number
            elif key == "type":
                text = str(raw).strip().upper().replace("-", "_")
                fields[key] = text
            elif key == "scheme":
                fields[key] = str(raw).strip().upper()
            elif key == "name":
                fields[key] = str(raw).strip()
        except CoordinateError as exc:
            errors.setdefault(key, []).append(str(exc))
        except (TypeError, ValueError):
            errors.setdefault(key, []).append(f"{raw!r} is not a number")
    return fields, errors


def unique_names(names: Iterable[str]) -> list[str]:
    """Names without blanks and exact repeats, order kept."""
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
