"""States, rules and small helpers shared by the fake portal and archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

PENDING, COMPLETED, WINDOW_EXPIRED, CANCELED, FAILURE_LIMIT_REACHED = (
    "PENDING", "COMPLETED", "WINDOW_EXPIRED", "CANCELED", "FAILURE_LIMIT_REACHED")
TERMINAL = {COMPLETED, WINDOW_EXPIRED, CANCELED, FAILURE_LIMIT_REACHED}
#: new state -> the states it may come from (apis.md §5.6)
ALLOWED = {
    COMPLETED: {PENDING, WINDOW_EXPIRED, CANCELED, FAILURE_LIMIT_REACHED},
    WINDOW_EXPIRED: {PENDING},
    CANCELED: {PENDING},
    FAILURE_LIMIT_REACHED: {PENDING},
    PENDING: {COMPLETED},
}
SINGLE_ORDER = (WINDOW_EXPIRED, PENDING, COMPLETED, FAILURE_LIMIT_REACHED, CANCELED)
MANY_ORDER = (PENDING, COMPLETED, WINDOW_EXPIRED, FAILURE_LIMIT_REACHED, CANCELED)

#: Site code -> latitude, for the fake's visibility check (airmass at transit).
SITE_LATITUDES = {"coj": -31.27, "cpt": -32.38, "elp": 30.68, "lsc": -30.17, "ogg": 20.71, "tfn": 28.30}
SITE_TELESCOPES = {"1m0": ("doma", "1m0a"), "2m0": ("clma", "2m0a"), "0m4": ("aqwa", "0m4a")}

NOT_VISIBLE = ("According to the constraints of the request, the target will not be visible within the time window. "
               "Check that the target is in the nighttime sky. Consider modifying the time window or loosening the "
               "airmass or lunar separation constraints. If the target is non sidereal, double check that the "
               "provided elements are correct.")
REQUIRED = "This field is required."
FRONT_PADDING = 90.0
CONFIG_OVERHEAD = 16.0
#: Cancelling deletes PENDING blocks starting further ahead than this; nearer ones are CANCELED.
CANCEL_DELETE_AHEAD = timedelta(hours=72)


def append_slash(request: Any, response: Any) -> Any:
    """Django's CommonMiddleware (APPEND_SLASH): a path without its trailing slash is a 301 to
    the slashed URL, for a POST too (the client then GETs it: a POST must use the slash)."""
    if response.status_code == 308 and not request.path.endswith("/"):
        response.status_code = 301
    return response


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None
    return float(value)


