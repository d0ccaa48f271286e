"""The built-in ``manual`` facility: observations made elsewhere (a classical night, a
telescope without an API, a collaborator's data), recorded with ``tom observations add``
and moved along by hand with ``tom observations set-status``.

Its sites, if any, come from ``tom.toml`` so the planner can use your own telescopes::

    [[plugins.manual.sites]]
    code = "not"
    name = "Nordic Optical Telescope"
    latitude = 28.7573
    longitude = -17.8850
    elevation = 2382
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from tomcore import hookimpl
from tomcore.config import Setting
from tomcore.contracts.base import Param
from tomcore.contracts.facilities import Facility
from tomcore.domain.observations import Site
from tomcore.errors import ConfigError

REQUESTED, PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELED = (
    "REQUESTED", "PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED")


class ManualFacility(Facility):
    name = "manual"
    title = "Manual"
    description = "Observations made elsewhere, recorded by hand (tom observations add / set-status)."
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("sites", None, "any", help="Your own sites: an array of tables with code, name, latitude, "
                "longitude, elevation."),
    )
    robotic = False
    initial_state = COMPLETED
    states = (REQUESTED, PENDING, IN_PROGRESS, COMPLETED, FAILED, CANCELED)
    terminal_states = frozenset({COMPLETED, FAILED, CANCELED})
    failed_states = frozenset({FAILED, CANCELED})
    success_states = frozenset({COMPLETED})
    window_params = None
    observation_types: ClassVar[Mapping[str, tuple[Param, ...]]] = {
        "OBSERVATION": (
            Param("telescope", help="Telescope or observatory."),
            Param("instrument", help="Instrument."),
            Param("filter", multiple=True, help="Filters or gratings used."),
            Param("exposure_time", "float", minimum=0.0, help="Exposure time, seconds."),
            Param("exposure_count", "int", minimum=1, help="Number of exposures."),
            Param("start", "datetime", help="When it started (ISO 8601, UTC)."),
            Param("end", "datetime", help="When it ended."),
            Param("observer", help="Who observed."),
            Param("program", help="Program or proposal."),
        ),
    }

    def sites(self) -> list[Site]:
        raw = self.config.get("sites") if hasattr(self, "config") else None
        if not raw:
            return []
        if not isinstance(raw, list):
            raise ConfigError("[plugins.manual] sites must be an array of tables ([[plugins.manual.sites]])")
        sites = []
        for index, entry in enumerate(raw, 1):
            try:
                sites.append(Site(code=str(entry["code"]), name=str(entry.get("name", entry["code"])),
                                  latitude=float(entry["latitude"]), longitude=float(entry["longitude"]),
                                  elevation=float(entry.get("elevation", 0.0)), facility=self.name))
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"[[plugins.manual.sites]] #{index}: needs code, latitude and longitude ({exc})") from None
        return sites


@hookimpl
def register_facilities(register: Callable[[Any], None]) -> None:
    register(ManualFacility())
