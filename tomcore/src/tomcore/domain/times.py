"""Time conversions that need no astropy: MJD (UTC) to and from aware datetimes.

Brokers and facilities give times as MJD (``60311.2471``), JD or ISO strings; the core keeps
datetimes in UTC and photometry times as MJD. These helpers are exact to the microsecond and
cost nothing to import (leap seconds are ignored, as MJD in UTC conventionally does).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

#: The MJD epoch, 1858-11-17T00:00:00 UTC.
MJD_EPOCH = datetime(1858, 11, 17, tzinfo=UTC)
#: JD - MJD.
JD_OFFSET = 2400000.5


def mjd_to_datetime(mjd: float) -> datetime:
    """An aware UTC datetime from an MJD; ``ValueError`` for a non-finite value."""
    if not math.isfinite(mjd):
        raise ValueError(f"{mjd!r} is not a finite MJD")
    return MJD_EPOCH + timedelta(days=float(mjd))


def datetime_to_mjd(when: datetime) -> float:
    """The MJD of a datetime (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - MJD_EPOCH) / timedelta(days=1)


def parse_time_to_mjd(value: str) -> float:
    """An ISO 8601 time (``2024-01-20 05:55:12.000000``, ``...T...Z``) as MJD (UTC)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime_to_mjd(datetime.fromisoformat(text))
