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
class StatusEntry:
    """One entry of a record's status history.

    :param source: what recorded it: ``submit``, ``update`` (polling), ``cancel``,
        ``manual`` (set by hand) or ``add`` (a record of an observation made elsewhere).
    """

    status: str
    time: datetime
    source: str = "update"
    detail: dict[str, Any] | None = None


@attrs.define(kw_only=True)
class ObservationInfo:
    """An observation record as services return it and events carry it.

    :param facility_id: the facility's id of the request (one record per request).
    :param name: the unique name it was submitted under.
    :param parameters: the observation parameters as given (after defaults and checks).
    :param payload: the exact body submitted to the facility.
    :param terminal, failed, success: what the facility says of ``status``.
    :param terminal_at: when it last reached a terminal state.
    :param history: oldest first; filled by ``show``, None in lists.
    """

    id: int
    target_id: int
    target_name: str
    facility: str
    observation_type: str
    facility_id: str | None
    status: str
    name: str | None = None
    parameters: dict[str, Any] = attrs.Factory(dict)
    payload: Any = None
    scheduled_start: datetime | None = None
    scheduled_end: datetime | None = None
    terminal: bool = False
    failed: bool = False
    success: bool = False
    terminal_at: datetime | None = None
    group: str | None = None
    cadence_id: int | None = None
    template: str | None = None
    note: str | None = None
    url: str | None = None
    data_count: int = 0
    created: datetime | None = None
    modified: datetime | None = None
    history: list[StatusEntry] | None = None


@attrs.define(kw_only=True)
class StatusChange:
    """One record's status change, for ``on_observation_status_changed``.

    ``old_status`` is None when the record was just created (submitted or added).
    """

    observation: ObservationInfo
    old_status: str | None
    new_status: str
    time: datetime
    detail: dict[str, Any] | None = None
    #: A request the facility had ended came back to life (LCO: COMPLETED back to PENDING).
    reopened: bool = False
