"""Shared fixtures of the planning tests: the six LCO sites and a facility declaring them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tomcore import hookimpl
from tomcore.contracts.facilities import Facility
from tomcore.domain.observations import Site

#: The six LCO sites (geodetic, east longitude, metres); the 1 m mounts reach +-4.6 h.
LCO_SITES = [
    Site("coj", "Siding Spring", -31.272932, 149.070648, 1116.0, ha_limits=(-4.6, 4.6)),
    Site("cpt", "Sutherland", -32.38059, 20.8101083, 1460.0, ha_limits=(-4.6, 4.6)),
    Site("tfn", "Teide", 28.3003, -16.5110, 2390.0, ha_limits=(-4.6, 4.6)),
    Site("lsc", "Cerro Tololo", -30.1673833, -70.8047888, 2198.0, ha_limits=(-4.6, 4.6)),
    Site("elp", "McDonald", 30.67, -104.02, 2070.0, ha_limits=(-4.6, 4.6)),
    Site("ogg", "Haleakala", 20.7069, -156.2571, 3065.0),
]

#: A Monday in March 2026 near full Moon, inside the bundled IERS table.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class SitesFacility(Facility):
    name = "testlco"
    title = "Test LCO"

    def sites(self) -> list[Site]:
        return list(LCO_SITES)


class OtherFacility(Facility):
    name = "other"

    def sites(self) -> list[Site]:
        return [Site("lsc", "Another lsc", -30.0, -70.0, 2000.0), Site("kpno", "Kitt Peak", 31.96, -111.6, 2096.0)]


class NoSitesFacility(Facility):
    name = "nosites"


class FacilityPlugin:
    def __init__(self, *facilities: Facility) -> None:
        self.facilities = facilities

    @hookimpl
    def register_facilities(self, register: Any) -> None:
        for facility in self.facilities:
            register(facility)


@pytest.fixture
def lco(tom_factory: Any) -> Any:
    """A TOM with only the ``testlco`` facility (no installed plugin) and its clock at NOW."""
    tom = tom_factory("planning", load_plugins=False, plugins={"test-sites": FacilityPlugin(SitesFacility())})
    tom.clock = lambda: NOW
    return tom


@pytest.fixture
def run_tom(lco: Any) -> Any:
    """``tom ARGS...`` on the ``lco`` TOM (replaces the test kit's fixture in this folder)."""
    from tomcore.testing.pytest_plugin import make_runner

    return make_runner(lco)
