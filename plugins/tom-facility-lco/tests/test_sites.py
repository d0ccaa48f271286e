"""The LCO sites are constants: the planner reads them without any network."""

from __future__ import annotations

import pytest


def test_sites_are_available_offline(tom):
    facility = tom.components.facilities.get("lco")
    sites = {site.code: site for site in facility.sites()}
    assert set(sites) >= {"coj", "cpt", "elp", "lsc", "ogg", "tfn"}
    for site in sites.values():
        assert -90 <= site.latitude <= 90 and -180 <= site.longitude <= 180
        assert 0 < site.elevation < 5000
        assert site.facility == "lco"
        assert site.ha_limits == (-4.6, 4.6)  # the 1 m mounts (tom_base #752)
    # Teide is in the northern hemisphere (the TOM Toolkit has it at latitude 20.3).
    assert sites["tfn"].latitude == pytest.approx(28.30, abs=0.01)
    assert sites["lsc"].latitude == pytest.approx(-30.17, abs=0.01)
    assert sites["ogg"].longitude == pytest.approx(-156.26, abs=0.01)


def test_plugin_registers_the_lco_facility(tom):
    assert "lco" in tom.components.facilities.names()
    assert tom.components.facilities.owners["lco"] == "lco"
