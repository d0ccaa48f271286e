"""Planning: which targets are observable on a night, from which sites, and when.

``tom.planning`` answers for whole target lists at many sites at once: per target and site,
the rise, transit and set inside the night, the first and last observable moments, the
observable hours, the best time with its airmass, and the Moon's distance. Sites come from
the facility plugins (``Facility.sites()``) or are given as coordinates. The computation
(:mod:`tomcore.services.visibility`) is vectorised over targets and times and works offline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.observations import Site
from tomcore.domain.planning import SORT_KEYS, Constraints, Night, Plan, Visibility
from tomcore.domain.targets import MODEL_FIELDS, Target
from tomcore.errors import AmbiguousError, ConfigError, NotFoundError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom
    from tomcore.services.visibility import NightGrid

_COORDINATES = re.compile(r"^\s*([-+]?[\d.]+)\s*,\s*([-+]?[\d.]+)\s*(?:,\s*([-+]?[\d.]+)\s*)?$")
_CHUNK = 900


def parse_site(text: str) -> Site | None:
    """A site from ``LAT,LON[,ELEV]`` (degrees, east positive; metres), or None when
    ``text`` is not coordinates (then it is a site code)."""
    match = _COORDINATES.match(text)
    if match is None:
        return None
    lat, lon = float(match[1]), float(match[2])
    elevation = float(match[3]) if match[3] else 0.0
    errors: dict[str, list[str]] = {}
    if not -90 <= lat <= 90:
        errors["latitude"] = [f"{lat:g} is outside [-90, 90]"]
    if not -180 <= lon <= 360:
        errors["longitude"] = [f"{lon:g} is outside [-180, 360]"]
    if not -500 <= elevation <= 9000:
        errors["elevation"] = [f"{elevation:g} m is not on the Earth's surface"]
    if errors:
        raise ValidationError(f"bad site {text!r}", errors)
    if lon > 180:
        lon -= 360
    return Site(code="custom", name=f"latitude {lat:g}, longitude {lon:g}, {elevation:g} m", latitude=lat,
                longitude=lon, elevation=elevation)


class PlanningService:
    """Observability of targets at sites (``tom.planning``)."""

    def __init__(self, tom: Tom) -> None:
        self.tom = tom

    # -- defaults and sites --------------------------------------------------------------------

    def constraints(self, **given: Any) -> Constraints:
        """Constraints from the ``[planning]`` settings, with ``given`` values (not None)
        taking precedence; checked."""
        settings = self.tom.settings
        values: dict[str, Any] = {
            "max_airmass": settings.get("planning", "max_airmass"),
            "min_moon_separation": settings.get("planning", "min_moon_separation"),
            "max_moon_illumination": settings.get("planning", "max_moon_illumination"),
            "twilight": settings.get("planning", "twilight"),
            "step_minutes": settings.get("planning", "step_minutes"),
        }
        values.update({k: v for k, v in given.items() if v is not None})
        constraints = Constraints(**values)
        problems = constraints.problems()
        if problems:
            raise ValidationError("bad planning constraints", problems)
        return constraints

    def facility_sites(self, facility: str) -> list[Site]:
        """The sites a facility plugin declares, each tagged with the facility's name."""
        component = self.tom.components.facilities.get(facility)
        sites = [s if s.facility else attrs.evolve(s, facility=component.name) for s in component.sites()]
        if not sites:
            raise ConfigError(f"facility {component.name!r} declares no sites; give --site LAT,LON,ELEV")
        return sites

    def resolve_sites(self, facility: str | None = None, sites: Sequence[str] = ()) -> list[Site]:
        """The sites to plan for: ``sites`` are codes (of ``facility``'s sites, or of any
        facility's) or ``LAT,LON[,ELEV]``; no codes means every site of ``facility``. With
        neither, the ``planning.facility`` and ``planning.sites`` settings are used."""
        if facility is None and not sites:
            facility = self.tom.settings.get("planning", "facility") or None
            configured = self.tom.settings.get("planning", "sites") or []
            sites = [s.strip() for s in configured.split(";")] if isinstance(configured, str) else list(configured)
            sites = [s for s in sites if s]
            if facility is None and not sites:
                raise ConfigError("say where to plan for: give a facility (--facility lco) or a site "
                                  "(--site CODE or --site LAT,LON,ELEV), or set planning.facility")
        known = self.facility_sites(facility) if facility else None
        if not sites:
            assert known is not None
            return known
        chosen: list[Site] = []
        for text in sites:
            custom = parse_site(text)
            if custom is not None:
                chosen.append(custom)
            elif known is not None:
                match = [s for s in known if s.code.lower() == text.strip().lower()]
                if not match:
                    raise NotFoundError(f"facility {facility!r} has no site {text!r} (sites: "
                                        f"{', '.join(s.code for s in known)})")
                chosen.append(match[0])
            else:
                chosen.append(self._find_site(text.strip()))
        unique = list({(s.facility, s.code, s.latitude, s.longitude): s for s in chosen}.values())
        customs = [i for i, s in enumerate(unique) if s.facility is None and s.code == "custom"]
        if len(customs) > 1:  # custom, custom2, custom3...
            for number, i in enumerate(customs[1:], start=2):
                unique[i] = attrs.evolve(unique[i], code=f"custom{number}")
        return unique

    def _find_site(self, code: str) -> Site:
        found: list[Site] = []
        for name in self.tom.components.facilities.names():
            try:
                found += [s for s in self.facility_sites(name) if s.code.lower() == code.lower()]
            except ConfigError:
                continue
        if not found:
            raise NotFoundError(f"no facility has a site {code!r}; give --facility, or --site LAT,LON,ELEV")
        if len(found) > 1:
            raise AmbiguousError(f"several facilities have a site {code!r}; give --facility",
                                 [(s.facility or "", s.name) for s in found])
        return found[0]

    # -- targets -------------------------------------------------------------------------------

    def select_targets(self, names: Sequence[str] = (), lists: Sequence[str] = (), *,
                       session: Session | None = None) -> list[Target]:
        """Targets by name or alias and by list membership (all targets when neither is
        given), sorted by name. Only the position and orbit fields are loaded."""
        if session is None:
            with self.tom.db.session(readonly=True) as session:
                return self.select_targets(names, lists, session=session)
        from sqlalchemy import select

        from tomcore.store.models import TargetListMemberRow, TargetListRow, TargetRow

        ids: set[int] = set()
        if names:
            problems: dict[str, list[str]] = {}
            for name in dict.fromkeys(n.strip() for n in names if n.strip()):
                try:
                    ids.add(self.tom.targets.resolve_id(session, name))
                except (NotFoundError, AmbiguousError) as exc:
                    problems[name] = [str(exc).splitlines()[0]]
            if problems:
                raise NotFoundError("unknown targets:\n" + "\n".join(f"  {k}: {v[0]}" for k, v in problems.items()))
        for list_name in lists:
            list_id = session.execute(select(TargetListRow.id).where(TargetListRow.name == list_name)).scalar()
            if list_id is None:
                raise NotFoundError(f"no target list named {list_name!r}")
            ids.update(session.execute(
                select(TargetListMemberRow.target_id).where(TargetListMemberRow.list_id == list_id)).scalars())
        columns = [TargetRow.id, *(getattr(TargetRow, f) for f in MODEL_FIELDS)]
        if not names and not lists:
            rows = session.execute(select(*columns).order_by(TargetRow.name)).all()
        else:
            wanted = sorted(ids)
            rows = []
            for begin in range(0, len(wanted), _CHUNK):
                rows += session.execute(select(*columns).where(TargetRow.id.in_(wanted[begin:begin + _CHUNK]))).all()
            rows.sort(key=lambda r: r.name)
        return [Target(id=row[0], **dict(zip(MODEL_FIELDS, row[1:], strict=True))) for row in rows]

    # -- planning ------------------------------------------------------------------------------

    def night_of(self, site: Site, day: date | None = None, twilight: str = "astronomical") -> Night:
        """The night of ``day`` (local date of the evening; default: the current or next
        night) at ``site``."""
        from tomcore.services.almanac import SiteGeometry

        geo = SiteGeometry.of(site)
        night, _grid = self._night(geo, day, twilight, 5.0)
        return night

    def _night(self, geo: Any, day: date | None, twilight: str, step: float) -> tuple[Night, NightGrid | None]:
        from tomcore.services.almanac import (
            Moments,
            current_night_date,
            datetime_from_mjd,
            find_night,
            moon_illumination,
        )
        from tomcore.services.visibility import NightGrid

        if day is None:
            day = current_night_date(geo, self.tom.now(), twilight)
        span = find_night(geo, day, twilight)
        if span.start is None or span.end is None:
            middle = Moments.at([0.5 * (span.window[0] + span.window[1])])
            return Night(geo.site, day, twilight, None, None, float(moon_illumination(middle)[0])), None
        grid = NightGrid.build(span, geo, step)
        moon_rise, moon_set = grid.crossings(grid.moon_sin_alt)
        night = Night(geo.site, day, twilight, datetime_from_mjd(span.start), datetime_from_mjd(span.end),
                      grid.illumination, _dt(moon_rise), _dt(moon_set))
        return night, grid

    def plan(self, targets: Sequence[Target], sites: Sequence[Site], *, night: date | None = None,
             constraints: Constraints | None = None, sort: str = "time",
             progress: Callable[[int], None] | None = None) -> Plan:
        """The visibility of every target at every site on one night (one row per target
        and site, all of them, observable first, sorted by ``sort``)."""
        constraints = constraints or self.constraints()
        problems = constraints.problems()
        if problems:
            raise ValidationError("bad planning constraints", problems)
        if sort not in SORT_KEYS:
            raise ValidationError("bad sort", {"sort": [f"{sort!r} is not one of {', '.join(SORT_KEYS)}"]})
        from tomcore.services.almanac import SiteGeometry

        result = Plan(constraints)
        for site in sites:
            geo = SiteGeometry.of(site)
            night_info, grid = self._night(geo, night, constraints.twilight, constraints.step_minutes)
            result.nights.append(night_info)
            if grid is None:
                result.rows += [_row(t, site, night_info, False, reason=f"no {constraints.twilight} darkness that night")
                                for t in targets]
            else:
                result.rows += self._evaluate(targets, site, night_info, grid, constraints)
            if progress is not None:
                progress(1)
        result.rows = sort_rows(result.rows, sort)
        return result

    def _evaluate(self, targets: Sequence[Target], site: Site, night: Night, grid: NightGrid,
                  constraints: Constraints) -> list[Visibility]:
        from tomcore.services.visibility import evaluate

        ha_limits, min_altitude = _limits(site, constraints)
        rows: list[Visibility] = []
        for block, ra, dec, problem in positions(targets, grid):
            if problem is not None:
                rows += [_row(t, site, night, False, reason=f"no position: {problem}") for t in block]
                continue
            outcome = evaluate(grid, ra, dec, constraints, ha_limits, min_altitude)
            rows += _rows(block, site, night, outcome, constraints, ha_limits, min_altitude)
        return rows

    def curves(self, targets: Sequence[Target], sites: Sequence[Site], *, night: date | None = None,
               constraints: Constraints | None = None, margin_hours: float = 1.5) -> list[SiteCurves]:
        """Altitude and airmass of each target through the night at each site (from
        ``margin_hours`` before dusk to as long after dawn), with the Sun's and the Moon's
        altitudes, for visibility charts."""
        import numpy as np

        from tomcore.services.almanac import SiteGeometry, sin_altitude, sun_cirs
        from tomcore.services.visibility import NightGrid, fields

        constraints = constraints or self.constraints()
        result = []
        for site in sites:
            geo = SiteGeometry.of(site)
            night_info, dark = self._night(geo, night, constraints.twilight, constraints.step_minutes)
            span = dark.span if dark is not None else None
            if span is None:
                from tomcore.services.almanac import find_night

                span = find_night(geo, night_info.date, constraints.twilight)
                start, end = span.window
            else:
                assert span.start is not None and span.end is not None
                start = max(span.window[0], span.start - margin_hours / 24.0)
                end = min(span.window[1], span.end + margin_hours / 24.0)
            grid = NightGrid.over(span, geo, start, end, min(constraints.step_minutes, 5.0))
            sun_ra, sun_dec = sun_cirs(grid.moments)
            m = len(grid.mjd)
            altitude = np.full((len(targets), m), np.nan)
            ok = np.zeros((len(targets), m), dtype=bool)
            index = {id(t): i for i, t in enumerate(targets)}
            ha_limits, min_altitude = _limits(site, constraints)
            for block, ra, dec, problem in positions(targets, grid):
                if problem is not None:
                    continue
                rows = [index[id(t)] for t in block]
                f = fields(grid, ra, dec, constraints, ha_limits, min_altitude)
                altitude[rows] = np.degrees(np.arcsin(np.clip(f.sin_alt, -1, 1)))
                ok[rows] = f.point_ok()
            dark_now = np.zeros(m, dtype=bool)
            if span.start is not None and span.end is not None:
                dark_now = (grid.mjd >= span.start - 1e-9) & (grid.mjd <= span.end + 1e-9)
            result.append(SiteCurves(
                night=night_info, mjd=grid.mjd, targets=[t.name for t in targets], altitude=altitude,
                observable=ok & dark_now[None, :],
                sun_altitude=np.degrees(np.arcsin(sin_altitude(sun_ra, sun_dec, grid.theta, geo))),
                moon_altitude=np.degrees(np.arcsin(np.clip(grid.moon_sin_alt, -1, 1))),
                constraints=constraints,
            ))
        return result


@attrs.define
class SiteCurves:
    """Altitudes through one night at one site (degrees; NaN for a target with no
    position), and where each target meets every constraint in the dark."""

    night: Night
    mjd: Any
    targets: list[str]
    altitude: Any  # (targets, times)
    observable: Any  # (targets, times) bool
    sun_altitude: Any
    moon_altitude: Any
    constraints: Constraints

    @property
    def times(self) -> list[datetime]:
        return [t for t in _datetimes(self.mjd) if t is not None]

    @property
    def airmass(self) -> Any:
        """sec(z), NaN where the target is below the horizon."""
        import numpy as np

        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.altitude > 0, 1.0 / np.sin(np.radians(self.altitude)), np.nan)


def _limits(site: Site, constraints: Constraints) -> tuple[tuple[float, float] | None, float | None]:
    """The hour-angle limits and lowest altitude in force at ``site``."""
    ha_limits = constraints.ha_limits or site.ha_limits
    min_altitude = constraints.min_altitude if constraints.min_altitude is not None else site.min_altitude
    return ha_limits, min_altitude


def positions(targets: Sequence[Target], grid: NightGrid) -> Iterable[tuple[list[Target], Any, Any, str | None]]:
    """Blocks of targets with their apparent CIRS (ra, dec) during the night: shape (n, 1)
    for sidereal targets (fixed), (n, m) for non-sidereal ones (one per grid time); and
    one-target blocks with the reason when a target has no position."""
    from tomcore.services.ephemeris import orbit_problems, orbits_of, positions_cirs
    from tomcore.services.visibility import BLOCK

    sidereal = [t for t in targets if t.is_sidereal and t.ra is not None and t.dec is not None]
    moving = [t for t in targets if not t.is_sidereal and not orbit_problems(t)]
    placed = {id(t) for t in sidereal} | {id(t) for t in moving}
    for target in targets:
        if id(target) not in placed:
            why = "; ".join(orbit_problems(target)) if not target.is_sidereal else "no ra/dec"
            yield [target], None, None, why
    if sidereal:
        middle = grid.middle()
        for begin in range(0, len(sidereal), BLOCK):
            block = sidereal[begin:begin + BLOCK]
            ra, dec = sidereal_cirs(block, middle)
            yield block, ra[:, None], dec[:, None], None
    for begin in range(0, len(moving), BLOCK):
        block = moving[begin:begin + BLOCK]
        ra, dec = positions_cirs(orbits_of(block), grid.moments, grid.geo)
        yield block, ra, dec, None


def sidereal_cirs(targets: Sequence[Target], moments: Any) -> tuple[Any, Any]:
    """Apparent CIRS (ra, dec) in radians of sidereal targets at one moment: proper motion
    from the target's epoch, parallax, annual aberration, light deflection, precession and
    nutation (ERFA ``atciq``)."""
    import erfa
    import numpy as np

    ra = np.radians(np.array([t.ra for t in targets], dtype=float))
    dec = np.radians(np.array([t.dec for t in targets], dtype=float))
    epoch = np.array([2000.0 if t.epoch is None else t.epoch for t in targets], dtype=float)
    mas = math.pi / 180.0 / 3.6e6
    pm_ra = np.array([t.pm_ra or 0.0 for t in targets], dtype=float) * mas  # includes cos(dec)
    pm_dec = np.array([t.pm_dec or 0.0 for t in targets], dtype=float) * mas
    parallax = np.array([t.parallax or 0.0 for t in targets], dtype=float) / 1000.0  # arcsec
    dra = pm_ra / np.maximum(np.cos(dec), 1e-9)  # ERFA wants dRA/dt
    ra0 = ra - dra * (epoch - 2000.0)  # positions at J2000.0, where ERFA starts the motion
    dec0 = np.clip(dec - pm_dec * (epoch - 2000.0), -np.pi / 2, np.pi / 2)
    return erfa.atciq(ra0, dec0, dra, pm_dec, np.clip(parallax, 0.0, None), 0.0, moments.astrom[0])


def _dt(mjd: float | None) -> datetime | None:
    from tomcore.services.almanac import datetime_from_mjd

    if mjd is None or math.isnan(mjd):
        return None
    return datetime_from_mjd(mjd)


def _datetimes(values: Any) -> list[datetime | None]:
    """UTC datetimes (to the second) from an array of MJD, None for NaN."""
    import numpy as np

    from tomcore.services.almanac import MJD_UNIX_EPOCH

    seconds = np.round((np.asarray(values, dtype=float) - MJD_UNIX_EPOCH) * 86400.0).tolist()
    stamp = datetime.fromtimestamp
    return [None if s != s else stamp(s, UTC) for s in seconds]  # s != s: NaN


def _row(target: Target, site: Site, night: Night, observable: bool, **values: Any) -> Visibility:
    return Visibility(target=target.name, site=site.code, night=night.date, observable=observable,
                      target_id=target.id, facility=site.facility, moon_illumination=night.moon_illumination,
                      **values)


def _reason(code: str | None, constraints: Constraints, ha_limits: tuple[float, float] | None,
            min_altitude: float | None) -> str | None:
    from tomcore.services import visibility as v

    if code is None:
        return None
    if code == v.TOO_LOW:
        text = f"never at airmass {constraints.max_airmass:g} or less at night"
        lowest = math.degrees(math.asin(1.0 / constraints.max_airmass))
        if min_altitude is not None and min_altitude > lowest:
            text = f"never above {min_altitude:g} degrees (the telescope's lowest) at night"
        return text
    if code == v.OUTSIDE_HA and ha_limits is not None:
        return f"outside the hour-angle limits ({ha_limits[0]:+g} h, {ha_limits[1]:+g} h) whenever high enough"
    if code == v.NEAR_MOON:
        return f"within {constraints.min_moon_separation:g} degrees of the Moon whenever high enough"
    if code == v.MOON_BRIGHT and constraints.max_moon_illumination is not None:
        return (f"the Moon, more than {constraints.max_moon_illumination:.0%} illuminated, is up whenever "
                "high enough")
    return code


def _rows(block: Sequence[Target], site: Site, night: Night, outcome: Any, constraints: Constraints,
          ha_limits: tuple[float, float] | None, min_altitude: float | None) -> list[Visibility]:
    import numpy as np

    best_sin = np.asarray(outcome.best_sin_alt, dtype=float)  # double: rounding to decimals
    up = best_sin > 0
    airmass = np.round(np.where(up, 1.0 / np.where(up, best_sin, 1.0), np.nan), 4).tolist()
    altitude = np.round(np.degrees(np.arcsin(best_sin)), 3).tolist()
    separation = np.round(np.asarray(outcome.moon_sep, dtype=float), 2).tolist()
    hours = np.round(np.asarray(outcome.hours, dtype=float), 3).tolist()
    best, start, end = _datetimes(outcome.best), _datetimes(outcome.start), _datetimes(outcome.end)
    rise, set_, transit = _datetimes(outcome.rise), _datetimes(outcome.set), _datetimes(outcome.transit)
    reasons = {code: _reason(code, constraints, ha_limits, min_altitude) for code in set(outcome.reason.tolist())}
    illumination = round(night.moon_illumination, 4)
    rows = []
    for i, target in enumerate(block):  # building the answer, not computing it
        code = outcome.reason[i]
        mass = airmass[i]
        rows.append(Visibility(
            target=target.name, site=site.code, night=night.date, observable=code is None, hours=hours[i],
            best_time=best[i], min_airmass=None if mass != mass else mass, altitude=altitude[i],
            start=start[i], end=end[i], rise=rise[i], transit=transit[i], set=set_[i],
            moon_separation=separation[i], moon_illumination=illumination, target_id=target.id,
            facility=site.facility, reason=reasons[code],
        ))
    return rows


_FAR = datetime.max.replace(tzinfo=UTC)


def sort_rows(rows: Iterable[Visibility], sort: str = "time") -> list[Visibility]:
    """Observable rows first, ordered by ``sort`` (time: best time; airmass: lowest first;
    hours: longest first; start; end; name; site), then the rest by name."""
    def key(row: Visibility) -> tuple[Any, ...]:
        if sort == "time":
            value: Any = row.best_time or _FAR
        elif sort == "airmass":
            value = row.min_airmass if row.min_airmass is not None else math.inf
        elif sort == "hours":
            value = -row.hours
        elif sort == "start":
            value = row.start or _FAR
        elif sort == "end":
            value = row.end or _FAR
        elif sort == "site":
            value = (row.facility or "", row.site, row.best_time or _FAR)
        else:
            value = 0
        if not row.observable:
            return (1, row.target.casefold(), row.site)
        return (0, value, row.target.casefold(), row.site)

    return sorted(rows, key=key)


def best_rows(rows: Iterable[Visibility]) -> list[Visibility]:
    """Per target, the row of the site where it is observable longest (then: lowest
    airmass); for a target observable nowhere, its row where it gets highest."""
    best: dict[Any, Visibility] = {}
    for row in rows:
        key = row.target_id if row.target_id is not None else row.target
        current = best.get(key)
        if current is None or _rank(row) > _rank(current):
            best[key] = row
    return list(best.values())


def _rank(row: Visibility) -> tuple[Any, ...]:
    return (row.observable, row.hours, -(row.min_airmass or math.inf), row.altitude or -90.0)
