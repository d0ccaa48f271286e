"""Planning speed: 1,000 sidereal targets at the 6 LCO sites for one night, 5-minute grid.

Figure to reach on the reference 2-core machine: at most 2 s. (The TOM Toolkit computes one
astroplan airmass curve per target per site, about 15 ms each: 90 s for this case.)

Prints, for the same 1,000 random targets and night:
  - the service (``tom.planning.plan``) in a warm process: median and best of the runs;
  - the same in a fresh process, counting its imports and the UT1 table;
  - ``tom plan --facility lco --json`` as a command: start-up, reading the targets from
    SQLite, planning and writing JSON (median of the runs);
  - 100 non-sidereal targets (Keplerian orbits) at the 6 sites;
  - astroplan one target and site at a time, as the TOM Toolkit does (a sample, scaled).

    python bench/plan.py [--targets N] [--runs N] [--no-astroplan]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

NIGHT = date(2026, 3, 1)
GOAL = 2.0


def lco_sites() -> list:
    try:
        from tom_facility_lco.sites import SITES
    except ImportError:  # the plugin is not installed: the same places
        from tomcore.domain.observations import Site

        table = {"coj": (-31.2733, 149.0706, 1116.0), "cpt": (-32.3806, 20.8101, 1804.0),
                 "elp": (30.6797, -104.0152, 2070.0), "lsc": (-30.1674, -70.8048, 2198.0),
                 "ogg": (20.7069, -156.2581, 3055.0), "tfn": (28.3004, -16.5117, 2390.0)}
        return [Site(code, code, *place, facility="lco", ha_limits=(-4.6, 4.6), min_altitude=15.0)
                for code, place in table.items()]
    return list(SITES)


def random_targets(count: int, seed: int = 42) -> list:
    import numpy as np

    from tomcore.domain.targets import Target

    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, count)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, count)))
    return [Target(name=f"bench-{i:05d}", ra=float(ra[i]), dec=float(dec[i]), id=i + 1) for i in range(count)]


def random_orbits(count: int, seed: int = 7) -> list:
    import numpy as np

    from tomcore.domain.targets import MPC_MINOR_PLANET, NON_SIDEREAL, Target

    rng = np.random.default_rng(seed)
    return [Target(name=f"orbit-{i:04d}", type=NON_SIDEREAL, scheme=MPC_MINOR_PLANET, epoch_of_elements=61000.0,
                   semimajor_axis=float(rng.uniform(1.2, 4.0)), eccentricity=float(rng.uniform(0, 0.4)),
                   inclination=float(rng.uniform(0, 30)), lng_asc_node=float(rng.uniform(0, 360)),
                   arg_of_perihelion=float(rng.uniform(0, 360)), mean_anomaly=float(rng.uniform(0, 360)), id=i + 1)
            for i in range(count)]


class _Clockless:
    """Enough of a TOM for the planning service (nothing read from settings or the clock)."""


def service():
    from tomcore.services.planning import PlanningService

    return PlanningService(_Clockless())  # type: ignore[arg-type]


def timed(function, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


FRESH = """
import time
start = time.perf_counter()
import sys
sys.path.insert(0, {bench!r})
from plan import lco_sites, random_targets, service, NIGHT
from tomcore.domain.planning import Constraints
targets = random_targets({count})
plan = service().plan(targets, lco_sites(), night=NIGHT, constraints=Constraints())
print(time.perf_counter() - start, len(plan.rows))
"""


def tom_command() -> list[str]:
    exe = Path(sys.executable).with_name("tom")
    return [str(exe)] if exe.exists() else [shutil.which("tom") or "tom"]


def command_run(count: int, runs: int) -> tuple[list[float], str]:
    """`tom plan` on a TOM holding ``count`` targets."""
    from tomcore.app import Tom

    with tempfile.TemporaryDirectory() as home:
        tom = [*tom_command(), "--home", home]
        subprocess.run([*tom_command(), "init", home], capture_output=True, check=True)
        with Tom.open(home) as opened:
            opened.targets.save([t.__class__(name=t.name, ra=t.ra, dec=t.dec) for t in random_targets(count)])
        try:
            import tom_facility_lco  # noqa: F401

            where = ["--facility", "lco"]
        except ImportError:
            where = [arg for site in lco_sites() for arg in ("--site", f"{site.latitude},{site.longitude},{site.elevation}")]
        args = [*tom, "plan", *where, "--night", NIGHT.isoformat(), "--json"]
        subprocess.run(args, capture_output=True, check=True)  # warm-up (page cache, .pyc)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(args, capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        return times, " ".join(args[3:])


def astroplan_per_pair(sample: int) -> float | None:
    """Seconds per target and site with astroplan, the TOM Toolkit's way: one airmass curve
    (10-minute grid over the night) plus the Sun's altitude, one target and site at a time."""
    try:
        import astroplan
        import astropy.units as u
        from astropy.coordinates import EarthLocation, SkyCoord
        from astropy.time import Time
    except ImportError:
        return None
    import numpy as np

    site = lco_sites()[3]
    observer = astroplan.Observer(location=EarthLocation.from_geodetic(site.longitude * u.deg, site.latitude * u.deg,
                                                                      site.elevation * u.m))
    start = Time("2026-03-02T00:00")
    targets = random_targets(sample, seed=3)
    observer.altaz(start, SkyCoord(0 * u.deg, 0 * u.deg))  # warm-up
    began = time.perf_counter()
    for target in targets:
        times = start + np.arange(0, 12 * 60, 10) * u.min
        coordinate = astroplan.FixedTarget(SkyCoord(target.ra * u.deg, target.dec * u.deg))
        observer.altaz(times, coordinate).secz  # noqa: B018
        observer.sun_altaz(times).alt  # noqa: B018
    return (time.perf_counter() - began) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-astroplan", action="store_true")
    options = parser.parse_args()

    from tomcore.astro import configure_offline
    from tomcore.domain.planning import Constraints

    configure_offline()
    sites = lco_sites()
    targets = random_targets(options.targets)
    load = os.getloadavg()[0]
    print(f"planning benchmark: {options.targets} sidereal targets x {len(sites)} LCO sites, night of {NIGHT}, "
          f"5-minute grid; load average {load:.1f} on {os.cpu_count()} cores")

    fresh = subprocess.run([sys.executable, "-c", FRESH.format(bench=str(Path(__file__).parent),
                                                               count=options.targets)],
                           capture_output=True, text=True, check=True)
    first, rows = fresh.stdout.split()

    planner = service()
    constraints = Constraints()
    plan = planner.plan(targets, sites, night=NIGHT, constraints=constraints)  # warm
    warm = timed(lambda: planner.plan(targets, sites, night=NIGHT, constraints=constraints), options.runs)
    median = statistics.median(warm)
    verdict = "met" if median <= GOAL else "NOT met"
    print(f"  service, warm          median {median:6.3f} s   best {min(warm):6.3f} s   "
          f"({len(plan.rows)} rows, {len(plan.observable)} observable; goal <= {GOAL:.1f} s: {verdict})")
    print(f"  service, fresh process        {float(first):6.3f} s   (imports, UT1 table and all; {rows} rows)")

    command, args = command_run(options.targets, max(3, options.runs // 2))
    print(f"  command, end to end    median {statistics.median(command):6.3f} s   best {min(command):6.3f} s   "
          f"(tom {args}, targets read from SQLite)")

    orbits = random_orbits(100)
    moving = timed(lambda: planner.plan(orbits, sites, night=NIGHT, constraints=constraints), options.runs)
    print(f"  100 non-sidereal       median {statistics.median(moving):6.3f} s   (Keplerian orbits, light-time, "
          "topocentric, on every grid time)")

    if not options.no_astroplan:
        per_pair = astroplan_per_pair(20)
        if per_pair is not None:
            total = per_pair * options.targets * len(sites)
            print(f"  astroplan, per pair           {per_pair * 1000:6.1f} ms per target and site, "
                  f"{total:.0f} s for this case ({total / median:.0f} times slower)")


if __name__ == "__main__":
    main()
