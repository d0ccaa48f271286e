"""Observation records and their status changes, as events and services expose them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs


@attrs.frozen
class Site:
    """An observatory site, used by facilities and the planner.

    :param code: short code (``ogg``, ``lsc``); unique within a facility.
    :param latitude, longitude: degrees (geodetic, east positive); ``elevation`` metres.
    :param ha_limits: the hour angles (hours, east negative) the mount can reach, e.g.
        ``(-4.6, 4.6)`` for the LCO 1 m telescopes; None when it has no such limit. The
        planner treats a target outside them as not observable.
    :param min_altitude: the lowest altitude (degrees) the telescope points to, when it is
        above the horizon; None for none.
    """

    code: str
    name: str
    latitude: float
    longitude: float
    elevation: float
    facility: str | None = None
    ha_limits: tuple[float, float] | None = None
    min_altitude: float | None = None


@attrs.define(kw_only=True)
class ObservationInfo:
    """An observation record as services return it."""

    id: int
    target_id: int
    target_name: str
    facility: str
    observation_type: str
    facility_ids: list[str]
    status: str
    parameters: dict[str, Any] = attrs.Factory(dict)
    payload: Any = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    terminal: bool = False
    failed: bool = False
    group: str | None = None
    cadence_id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None


@attrs.define(kw_only=True)
class StatusChange:
    """One record's status change, for ``on_observation_status_changed``."""

    observation: ObservationInfo
    old_status: str | None
    new_status: str
    time: datetime
