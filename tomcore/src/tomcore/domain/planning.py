"""What the planner answers: nights at sites and the visibility of targets in them.

All times are UTC. Altitudes are geometric (no refraction) and airmass is sec(z), as in
astroplan and the LCO scheduler.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from tomcore.domain.observations import Site

SORT_KEYS = ("time", "airmass", "hours", "start", "end", "name", "site")


@attrs.frozen
class Constraints:
    """When a target counts as observable.

    :param max_airmass: highest airmass (sec z) allowed.
    :param min_moon_separation: degrees kept from the Moon (0 for no limit); applied
        whether or not the Moon is up, as the LCO scheduler does.
    :param max_moon_illumination: on a night when the Moon is more illuminated than this
        fraction (0 to 1, LCO's ``max_lunar_phase``), a target is observable only while
        the Moon is down; None or 1 for no limit.
    :param twilight: the night runs between the ends of this twilight (``astronomical``:
        Sun 18 degrees below the horizon; ``nautical``: 12; ``civil``: 6).
    :param step_minutes: spacing of the time grid the night is sampled on; crossings are
        interpolated between grid points.
    :param ha_limits: hour-angle limits (hours, east negative) replacing the sites' own.
    :param min_altitude: lowest altitude (degrees) replacing the sites' own.
    :param horizon: altitude (degrees) of the rise and set times.
    """

    max_airmass: float = 2.0
    min_moon_separation: float = 30.0
    max_moon_illumination: float | None = None
    twilight: str = "astronomical"
    step_minutes: float = 5.0
    ha_limits: tuple[float, float] | None = None
    min_altitude: float | None = None
    horizon: float = 0.0

    def problems(self) -> dict[str, list[str]]:
        from tomcore.services.almanac import TWILIGHTS

        errors: dict[str, list[str]] = {}
        if not self.max_airmass >= 1.0:
            errors["max_airmass"] = [f"{self.max_airmass:g} is below 1 (airmass 1 is the zenith)"]
        if not 0.0 <= self.min_moon_separation <= 180.0:
            errors["min_moon_separation"] = [f"{self.min_moon_separation:g} is outside [0, 180] degrees"]
        if self.max_moon_illumination is not None and not 0.0 <= self.max_moon_illumination <= 1.0:
            errors["max_moon_illumination"] = [f"{self.max_moon_illumination:g} is outside [0, 1]"]
        if self.twilight not in TWILIGHTS:
            errors["twilight"] = [f"{self.twilight!r} is not one of {', '.join(TWILIGHTS)}"]
        if not 0.1 <= self.step_minutes <= 60.0:
            errors["step_minutes"] = [f"{self.step_minutes:g} is outside [0.1, 60] minutes"]
        if self.ha_limits is not None:
            east, west = self.ha_limits
            if not -12.0 <= east < west <= 12.0:
                errors["ha_limits"] = [f"({east:g}, {west:g}) must be east < west within [-12, 12] hours"]
        if self.min_altitude is not None and not -90.0 <= self.min_altitude < 90.0:
            errors["min_altitude"] = [f"{self.min_altitude:g} is outside [-90, 90) degrees"]
        if not -90.0 < self.horizon < 90.0:
            errors["horizon"] = [f"{self.horizon:g} is outside (-90, 90) degrees"]
        return errors


@attrs.frozen
class Night:
    """The dark part of one night at a site.

    ``date`` is the local date of the evening. ``start``/``end`` are the end of evening
    twilight and the start of morning twilight; both None when the Sun never gets that low
    (high-latitude summer). The Moon's rise and set are those inside the night.
    """

    site: Site
    date: date
    twilight: str
    start: datetime | None
    end: datetime | None
    moon_illumination: float
    moon_rise: datetime | None = None
    moon_set: datetime | None = None

    @property
    def hours(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return (self.end - self.start).total_seconds() / 3600.0


@attrs.frozen
class Visibility:
    """One target at one site during one night.

    :param observable: some time of the night meets every constraint.
    :param rise, set, transit: the target crossing the horizon upward, downward, and the
        meridian (upper transit), when that happens during the night; None otherwise
        (``rise`` is None for a target already up at dusk).
    :param start, end: the first and last moments the target is observable.
    :param hours: the time it is observable (all constraints), in hours.
    :param best_time: when it is highest while observable (when it is highest during the
        night if never observable); ``min_airmass`` and ``altitude`` are its airmass and
        altitude (degrees) then, and ``moon_separation`` its distance from the Moon.
    :param reason: why it is not observable.
    """

    target: str
    site: str
    night: date
    observable: bool
    hours: float = 0.0
    best_time: datetime | None = None
    min_airmass: float | None = None
    altitude: float | None = None
    start: datetime | None = None
    end: datetime | None = None
    rise: datetime | None = None
    transit: datetime | None = None
    set: datetime | None = None
    moon_separation: float | None = None
    moon_illumination: float | None = None
    target_id: int | None = None
    facility: str | None = None
    reason: str | None = None


@attrs.define
class Plan:
    """The answer of :meth:`tomcore.services.planning.PlanningService.plan`."""

    constraints: Constraints
    nights: list[Night] = attrs.Factory(list)
    rows: list[Visibility] = attrs.Factory(list)

    @property
    def observable(self) -> list[Visibility]:
        return [row for row in self.rows if row.observable]
