"""Planning with the real LCO plugin's sites (offline: the sites are constants)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("tom_facility_lco")

from tomcore.domain.targets import Target


def test_plan_for_the_lco_network(tom: Any, run_tom: Any) -> None:
    tom.clock = lambda: datetime(2026, 3, 1, 12, tzinfo=UTC)
    tom.targets.save([Target(name="SN 2026abc", ra=150.0, dec=-30.0), Target(name="M31", ra=10.68, dec=41.27)])
    data = run_tom("plan", "--facility", "lco", "--all", "--json").json()
    assert sorted(n["site"]["code"] for n in data["nights"]) == ["coj", "cpt", "elp", "lsc", "ogg", "tfn"]
    # 12:00 UTC is still night in Hawaii and Texas: their current nights began on Feb 28
    assert {n["site"]["code"]: n["date"] for n in data["nights"]} == {
        "coj": "2026-03-01", "cpt": "2026-03-01", "elp": "2026-02-28", "lsc": "2026-03-01", "ogg": "2026-02-28",
        "tfn": "2026-03-01"}
    assert len(data["targets"]) == 12
    sn = [r for r in data["targets"] if r["target"] == "SN 2026abc" and r["observable"]]
    assert {r["site"] for r in sn} >= {"lsc", "coj", "cpt"}
    # the 1 m mounts stop at 4.6 hours from the meridian: never more than 9.2 sidereal hours
    assert all(r["hours"] <= 9.2 * 0.9973 + 0.01 for r in data["targets"])
    one = run_tom("plan", "--facility", "lco", "--site", "lsc", "--name", "SN 2026abc", "--json").json()
    assert [r["site"] for r in one["targets"]] == ["lsc"]
    assert one["nights"][0]["site"]["ha_limits"] == [-4.6, 4.6]
