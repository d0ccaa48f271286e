"""Typed extra values: number, string, boolean, datetime.

Python values keep their type (:func:`typed`): an int or float is a number, a bool a
boolean, a datetime or date a datetime, anything else a string. Text typed by people (a CSV
cell, ``--extra KEY=VALUE``) is read by :func:`infer`: a number if it is one, a boolean if
it is ``true``/``false``, a datetime if it is an ISO 8601 date or time, and a string
otherwise; :func:`parse_text` gives the Python value. Each is stored in a typed column so
that filters and sorting compare numbers as numbers and times as times.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

NUMBER, STRING, BOOLEAN, DATETIME = "number", "string", "boolean", "datetime"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


class TypedValue(NamedTuple):
    type: str
    text: str
    num: float | None = None
    flag: bool | None = None
    time: datetime | None = None

    @property
    def value(self) -> Any:
        if self.type == NUMBER:
            return self.num
        if self.type == BOOLEAN:
            return self.flag
        if self.type == DATETIME:
            return self.time
        return self.text


def parse_datetime(text: str) -> datetime:
    text = text.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def typed(value: Any, as_type: str | None = None) -> TypedValue:
    """The typed form of a Python value (a str stays a string; see :func:`infer` for text);
    ``as_type`` forces a type (and raises ValueError when the value is not of it)."""
    if as_type is not None:
        return _as(value, as_type)
    if isinstance(value, bool):
        return TypedValue(BOOLEAN, "true" if value else "false", flag=value)
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return TypedValue(STRING, str(value))
        return TypedValue(NUMBER, repr(value) if isinstance(value, float) else str(value), num=number)
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return TypedValue(DATETIME, aware.isoformat(), time=aware)
    if isinstance(value, date):
        aware = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return TypedValue(DATETIME, value.isoformat(), time=aware)
    if isinstance(value, TypedValue):
        return value
    return TypedValue(STRING, str(value))


@functools.lru_cache(maxsize=1 << 16)
def infer(text: str) -> TypedValue:
    """The typed reading of text a person wrote (stripped): number, boolean, ISO datetime,
    else string."""
    text = text.strip()
    if _NUMBER.match(text):
        return TypedValue(NUMBER, text, num=float(text))
    lowered = text.lower()
    if lowered in ("true", "false"):
        return TypedValue(BOOLEAN, lowered, flag=lowered == "true")
    if _ISO.match(text):
        try:
            return TypedValue(DATETIME, text, time=parse_datetime(text))
        except ValueError:
            pass
    return TypedValue(STRING, text)


_INT = re.compile(r"^[+-]?\d+$")


def number_value(text: str, number: float | None) -> int | float | None:
    """The Python number an extra's text stands for: an int for an integer literal (exact,
    however large), else the float."""
    if _INT.match(text):
        return int(text)
    return number


def parse_text(text: str, as_type: str | None = None) -> Any:
    """The Python value of text (``"12"`` -> 12, ``"0.5"`` -> 0.5, ``"true"`` -> True, an
    ISO time -> aware datetime, else the stripped text); ``as_type`` forces the type."""
    tv = _as(text, as_type) if as_type else infer(text)
    if tv.type == NUMBER:
        return number_value(tv.text, tv.num)
    return tv.value


def _as(value: Any, as_type: str) -> TypedValue:
    if as_type not in (NUMBER, STRING, BOOLEAN, DATETIME):
        raise ValueError(f"{as_type!r} is not one of number, string, boolean, datetime")
    if as_type == STRING:
        return TypedValue(STRING, str(value).strip() if isinstance(value, str) else str(value))
    guessed = infer(value) if isinstance(value, str) else typed(value)
    if guessed.type == as_type:
        return guessed
    if as_type == NUMBER and guessed.type == BOOLEAN:
        raise ValueError(f"{value!r} is not a number")
    raise ValueError(f"{value!r} is not a {as_type}")


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"KEY=VALUE"`` (typed from the text) or ``"KEY:TYPE=VALUE"`` (forced) to
    ``(key, python value)``; ValueError saying what is wrong."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ValueError(f"{text!r}: write KEY=VALUE")
    forced = None
    if ":" in key:
        name, _, kind = key.rpartition(":")
        if kind.strip().lower() in (NUMBER, STRING, BOOLEAN, DATETIME) and name.strip():
            key, forced = name.strip(), kind.strip().lower()
    if len(key) > 100:
        raise ValueError(f"extra key {key[:30]!r}... is longer than 100 characters")
    try:
        return key, parse_text(value, forced)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
