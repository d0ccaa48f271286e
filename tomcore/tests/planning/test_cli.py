"""``tom plan`` and ``tom plot visibility``."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

import pytest

from tomcore.domain.targets import MPC_MINOR_PLANET, NON_SIDEREAL, Target

from .test_ephemeris import JUPITER, planet


@pytest.fixture
def sky(lco: Any) -> Any:
    """Targets spread over the sky, two of them in the list ``tonight``."""
    lco.targets.save([
        Target(name="SN 2026abc", ra=150.0, dec=-30.0, aliases=["ZTF26abc"], lists=["tonight"]),
        Target(name="NGC 2997", ra=146.41, dec=-31.19, lists=["tonight"]),
        Target(name="M31", ra=10.68, dec=41.27),
        Target(name="By the Sun", ra=345.0, dec=-5.0),
        Target(name="Vesta", type=NON_SIDEREAL, scheme=MPC_MINOR_PLANET, epoch_of_elements=61000.0,
               semimajor_axis=2.3615, eccentricity=0.0902, inclination=7.144, lng_asc_node=103.7,
               arg_of_perihelion=151.5, mean_anomaly=26.8),
        planet("Jupiter", JUPITER, mjd=61090.0),
    ])
    return lco


def test_plan_table(sky: Any, run_tom: Any) -> None:
    result = run_tom("plan", "--facility", "testlco", "--night", "2026-03-01")
    out = result.stdout
    assert "Constraints: airmass <= 2, Moon >= 30 deg; night between the ends of astronomical twilight" in out
    assert "testlco/lsc (Cerro Tololo) night of 2026-03-01: dark 2026-03-02 00:38 to 2026-03-02 09:12 (8.6 h)" in out
    assert "hour angle -4.6..+4.6 h" in out
    for column in ("Target", "Site", "Best (UTC)", "Airmass", "Start", "End", "Hours", "Rise", "Transit", "Set", "Moon"):
        assert column in out
    assert "SN 2026abc" in out and "Jupiter" in out
    assert "By the Sun" not in out  # never observable at night: only with --all
    assert "target-site pairs are not observable (--all shows them with the reason)" in out


def test_plan_json_is_sorted_by_best_time(sky: Any, run_tom: Any) -> None:
    data = run_tom("plan", "--facility", "testlco", "--night", "2026-03-01", "--json").json()
    assert data["constraints"]["max_airmass"] == 2.0
    assert [n["site"]["code"] for n in data["nights"]] == ["coj", "cpt", "tfn", "lsc", "elp", "ogg"]
    rows = data["targets"]
    assert rows and all(r["observable"] for r in rows)
    best = [datetime.fromisoformat(r["best_time"]) for r in rows]
    assert best == sorted(best)
    assert {r["facility"] for r in rows} == {"testlco"}
    sn = [r for r in rows if r["target"] == "SN 2026abc"]
    assert {r["site"] for r in sn} >= {"lsc", "coj"}
    assert all(set(r) >= {"rise", "transit", "set", "start", "end", "hours", "min_airmass", "moon_separation"}
               for r in rows)


def test_plan_choices_of_targets_sites_and_rows(sky: Any, run_tom: Any) -> None:
    listed = run_tom("plan", "-f", "testlco", "--night", "2026-03-01", "--list", "tonight", "--json").json()
    assert {r["target"] for r in listed["targets"]} == {"SN 2026abc", "NGC 2997"}
    named = run_tom("plan", "-f", "testlco", "-s", "lsc", "--night", "2026-03-01", "--name", "ZTF26abc",
                    "--name", "By the Sun", "--all", "--json").json()
    assert [(r["target"], r["observable"]) for r in named["targets"]] == [("SN 2026abc", True), ("By the Sun", False)]
    assert named["targets"][1]["reason"] == "never at airmass 2 or less at night"
    best = run_tom("plan", "-f", "testlco", "--night", "2026-03-01", "--best-site", "--json").json()["targets"]
    assert len({r["target"] for r in best}) == len(best)
    limited = run_tom("plan", "-f", "testlco", "--night", "2026-03-01", "--sort", "hours", "--limit", "3",
                      "--json").json()["targets"]
    assert len(limited) == 3 and limited[0]["hours"] >= limited[1]["hours"] >= limited[2]["hours"]
    moonless = run_tom("plan", "-f", "testlco", "-s", "lsc", "--night", "2026-03-01", "--max-moon-illumination",
                       "0.3", "--all", "--json").json()
    assert moonless["constraints"]["max_moon_illumination"] == 0.3
    assert not any(r["observable"] for r in moonless["targets"])  # a full Moon up all night
    strict = run_tom("plan", "-s", "-30.1674,-70.8048,2198", "--night", "2026-03-01", "--max-airmass", "1.2",
                     "--min-moon-sep", "0", "--ha-limits", "2", "--json").json()
    assert strict["constraints"]["ha_limits"] == [-2.0, 2.0]
    assert all(r["min_airmass"] <= 1.2 and r["hours"] <= 4.0 for r in strict["targets"])


def test_plan_csv(sky: Any, run_tom: Any) -> None:
    out = run_tom("plan", "-f", "testlco", "-s", "lsc", "--night", "2026-03-01", "--csv", "--all").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6
    assert rows[0]["target"] and rows[0]["site"] == "lsc" and rows[0]["observable"] == "True"
    assert datetime.fromisoformat(rows[0]["best_time"]).tzinfo is not None
    assert any(r["reason"] for r in rows)


@pytest.mark.parametrize(("args", "code", "message"), [
    (("plan",), 1, "say where to plan for"),
    (("plan", "-f", "testlco", "--night", "March"), 2, "is not a date like 2024-06-01"),
    (("plan", "-f", "testlco", "--name", "nothing"), 1, "unknown targets:"),
    (("plan", "-f", "nowhere"), 1, "no facility named 'nowhere'"),
    (("plan", "-f", "testlco", "--ha-limits", "east"), 2, "give EAST,WEST in hours"),
    (("plan", "-f", "testlco", "--max-airmass", "0.5"), 1, "max_airmass: 0.5 is below 1"),
    (("plan", "-f", "testlco", "--json", "--csv"), 2, "either --json or --csv"),
    (("plan", "-s", "99,0"), 1, "latitude: 99 is outside [-90, 90]"),
])
def test_plan_errors(sky: Any, run_tom: Any, args: tuple[str, ...], code: int, message: str) -> None:
    result = run_tom(*args, expect=code)
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_plan_with_no_targets(lco: Any, run_tom: Any) -> None:
    assert "No targets." in run_tom("plan", "-f", "testlco", "--night", "2026-03-01").stdout


def test_plot_visibility_png(sky: Any, run_tom: Any, tmp_path: Any) -> None:
    path = tmp_path / "charts" / "tonight.png"
    result = run_tom("plot", "visibility", "SN 2026abc", "Jupiter", "-f", "testlco", "-s", "lsc", "-s", "coj",
                     "--night", "2026-03-01", "-o", str(path))
    assert "(2 targets, 2 sites)" in result.stdout
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20000


def test_plot_visibility_html_is_self_contained(sky: Any, run_tom: Any, tmp_path: Any) -> None:
    path = tmp_path / "plan.html"
    run_tom("plot", "visibility", "--list", "tonight", "-s", "-30.17,-70.80,2198", "--night", "2026-03-01",
            "--airmass-axis", "8", "-o", str(path))
    html = path.read_text()
    assert "NGC 2997" in html and "SN 2026abc" in html and "astronomical twilight" not in html
    assert "Plotly.newPlot" in html
    assert '<script src="http' not in html and "<script src='http" not in html  # opens offline


def test_the_html_chart_has_every_site_band_and_curve(sky: Any) -> None:
    from tomcore.services.visibility_chart import SKY_BANDS, html_figure

    targets = sky.planning.select_targets(lists=["tonight"])
    sites = sky.planning.resolve_sites("testlco", ["lsc", "ogg"])
    charts = sky.planning.curves(targets, sites, night=date(2026, 3, 1))
    fig = html_figure(charts, airmass_axis=4.0)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 2 * 2 * len(SKY_BANDS)  # day and three twilights each side of the night, per site
    assert {s.yref for s in rects} == {"y domain", "y2 domain"}
    assert len([s for s in fig.layout.shapes if s.type == "line"]) == 2  # the airmass limit per panel
    names = [t.name for t in fig.data]
    assert names.count("NGC 2997") == 4 and names.count("SN 2026abc") == 4  # faint + bold, 2 panels
    assert fig.layout.yaxis.range == (4.0, 1.0)


@pytest.mark.parametrize(("args", "code", "message"), [
    (("plot", "visibility", "M31", "-s", "10,10", "-o", "chart.txt"), 1, "give a file ending in .png"),
    (("plot", "visibility", "-s", "10,10", "-o", "chart.png"), 2, "name at least one target"),
    (("plot", "visibility", "M31", "-s", "10,10", "--airmass-axis", "1", "-o", "c.png"), 1, "must be above 1"),
])
def test_plot_visibility_errors(sky: Any, run_tom: Any, args: tuple[str, ...], code: int, message: str) -> None:
    result = run_tom(*args, expect=code)
    assert message in result.stderr + result.stdout


def test_plan_all_marks_rows_never_observable(sky: Any, run_tom: Any) -> None:
    sky.targets.save([Target(name="Low North", ra=150.0, dec=35.0)])  # up at Cerro Tololo, never above 25 deg
    args = ("plan", "-f", "testlco", "-s", "lsc", "--night", "2026-03-01", "--name", "SN 2026abc", "--name",
            "By the Sun", "--name", "Low North", "--all")
    lines = {line.split("  ")[1].strip(): [c.strip() for c in re.split(r"\s{2,}", line.strip())]
             for line in run_tom(*args).stdout.splitlines() if line.startswith("  ") and "lsc    " in line}
    # columns: Target, Site, Best, Airmass, Start, End, Hours, [Rise, Transit, Set: where they happen], Moon, Why not
    sn, sun, low = lines["SN 2026abc"], lines["By the Sun"], lines["Low North"]
    assert sn[2] == "04:04" and sn[3] == "1.00"
    assert sun[2:4] == ["—", "—"] and sun[4] == "0.0"  # no best time: it is never observable
    assert sun[-1] == "never at airmass 2 or less at night (below the horizon all night)"
    assert low[2:4] == ["—", "—"] and low[4] == "0.0"
    assert low[-1] == "never at airmass 2 or less at night (highest 25°, airmass 2.37 at 04:04)"
    # --json keeps the facts: its highest moment, airmass and altitude then, and why not
    rows = {r["target"]: r for r in run_tom(*args, "--json").json()["targets"]}
    assert not rows["Low North"]["observable"] and rows["Low North"]["min_airmass"] == pytest.approx(2.37, abs=0.01)
    assert datetime.fromisoformat(rows["Low North"]["best_time"]).strftime("%H:%M") == "04:04"
    assert rows["Low North"]["altitude"] == pytest.approx(25.0, abs=0.1)
    assert rows["By the Sun"]["best_time"] and rows["By the Sun"]["altitude"] < 0
    assert rows["By the Sun"]["min_airmass"] is None
    assert rows["SN 2026abc"]["observable"] and rows["SN 2026abc"]["reason"] is None
