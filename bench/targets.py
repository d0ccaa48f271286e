"""Benchmark of the targets area; prints its figures.

    python bench/targets.py [--database-url postgresql+psycopg://...] [--targets 1000000]
                            [--import-rows 100000] [--skip-import] [--skip-sky]

Figures (issue 3):

* import of 100,000 targets from CSV (2 extras and 1 alias each) into a new SQLite TOM, end
  to end (file read, parsed, validated, matched, written, committed), with the import's
  peak memory (a child process's max RSS, so nothing else counts), and the wall time of the
  same import through ``tom targets import`` (interpreter start and imports included);
* the same file imported again with ``--on-duplicate update`` (every row matches: nothing
  changes), then with a new alias and another magnitude on every row (every target changes);
* cone search of radius 0.5 degree over 1,000,000 targets: median over 20 random centres,
  on SQLite and, with ``--database-url`` (or ``TOM_BENCH_DATABASE_URL``), on PostgreSQL;
* matcher: 10,000 name lookups and 10,000 positional lookups against those targets.

The machine is shared; every figure is the wall time seen, not a best case.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    """Targets spread over the sky on a jittered Fibonacci lattice (no two closer than the
    match radius, so every row is created), each with an alias and two extras."""
    import math

    rng = random.Random(seed)
    classes = ["SN Ia", "SN II", "SN Ibc", "TDE", "AGN", "CV", "SLSN-I"]
    golden = math.pi * (3.0 - math.sqrt(5.0))
    with path.open("w") as fh:
        fh.write("name,name2,ra,dec,mag,classification\n")
        for i in range(rows):
            z = 1.0 - 2.0 * (i + 0.5) / rows
            ra = math.degrees(golden * i) % 360.0 + rng.uniform(-1e-3, 1e-3)
            ra %= 360.0
            dec = math.degrees(math.asin(z)) + rng.uniform(-1e-3, 1e-3)
            dec = max(-90.0, min(90.0, dec))
            fh.write(f"BT{i:07d},ZTF{i:07d}x,{ra:.7f},{dec:.7f},{rng.uniform(12, 21):.3f},{rng.choice(classes)}\n")


def new_tom(home: Path, database_url: str | None = None):
    from tomcore.testing.toms import make_tom

    tom, cleanup = make_tom(home, database_url=database_url, load_plugins=False, env={})
    return tom, cleanup


def child_import(csv_path: str, home: str) -> None:
    """Run in a child process: import the CSV into a new SQLite TOM; print JSON figures."""
    import resource

    from tomcore.services.target_io import import_file

    tom, cleanup = new_tom(Path(home), "")
    tom.targets.count()  # open the database
    import astropy.coordinates  # noqa: F401  (imports warm: the figure is the import's own work)
    import cdshealpix.nested  # noqa: F401

    from tomcore.services.sky import galactic

    galactic([1.0], [2.0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    report = import_file(tom, csv_path)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = report.counts()
    cleanup()
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "created": counts["created"], "peak_mb": peak / 1024,
                      "before_mb": before / 1024}))


def child_update(csv_path: str, home: str) -> None:
    """Run in a child process: import the CSV, then import it again with
    ``--on-duplicate update`` (nothing changes), then a version of it where every row has
    a new alias and another magnitude (every target changes); print JSON figures."""
    from tomcore.services.target_io import import_file

    tom, cleanup = new_tom(Path(home), "")
    import_file(tom, csv_path)
    changed = Path(home) / "changed.csv"
    with open(csv_path) as src, changed.open("w") as out:
        out.write(next(src).rstrip("\n") + ",name3\n")
        for i, line in enumerate(src):
            head, _, tail = line.rstrip("\n").rpartition(",")
            fields = head.split(",")
            fields[4] = f"{float(fields[4]) + 0.5:.3f}"
            out.write(",".join(fields) + f",{tail},ALT{i:07d}\n")
    figures = {}
    for label, path in (("same", csv_path), ("changed", str(changed))):
        start, cpu = time.perf_counter(), time.process_time()
        counts = import_file(tom, path, on_duplicate="update").counts()
        figures[label] = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                          "updated": counts["updated"], "unchanged": counts["unchanged"]}
    cleanup()
    print(json.dumps(figures))


def bench_update(rows: int, csv_path: Path, work: Path) -> None:
    home = work / "update"
    out = subprocess.run([sys.executable, __file__, "--child-update", str(csv_path), str(home)],
                         capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    shutil.rmtree(home, ignore_errors=True)
    same, changed = figures["same"], figures["changed"]
    print(f"  re-import with --on-duplicate update: nothing new {same['seconds']:.2f} s "
          f"({rows / same['seconds']:,.0f} targets/s, {same['cpu']:.2f} s CPU, {same['unchanged']:,} unchanged); "
          f"a new alias and magnitude each {changed['seconds']:.2f} s ({rows / changed['seconds']:,.0f} targets/s, "
          f"{changed['cpu']:.2f} s CPU, {changed['updated']:,} updated)")


def bench_import(rows: int, work: Path) -> None:
    csv_path = work / "targets.csv"
    write_csv(csv_path, rows)
    size = csv_path.stat().st_size / 1e6
    print(f"import: {rows:,} targets (1 alias, 2 extras each; {size:.1f} MB CSV) into SQLite")
    results = []
    for attempt in range(3):
        home = work / f"import-{attempt}"
        out = subprocess.run([sys.executable, __file__, "--child-import", str(csv_path), str(home)],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        shutil.rmtree(home, ignore_errors=True)
    best = min(results, key=lambda r: r["seconds"])
    seconds = [r["seconds"] for r in results]
    print(f"  end to end (read, parse, validate, match, write, commit): "
          f"{', '.join(f'{s:.2f}' for s in seconds)} s over 3 runs -> best {rows / min(seconds):,.0f} targets/s, "
          f"median {rows / statistics.median(seconds):,.0f} targets/s")
    cpu = [r["cpu"] for r in results]
    print(f"  CPU time of the import (SQLite runs in the process): {', '.join(f'{c:.2f}' for c in cpu)} s -> "
          f"{rows / min(cpu):,.0f} targets per CPU second (the wall figure above includes waiting for "
          f"the 2 cores this machine shares: load average {os.getloadavg()[0]:.1f})")
    if any(r["created"] != rows for r in results):
        print(f"  WARNING: created {[r['created'] for r in results]} of {rows}")
    print(f"  peak memory of the import process: {best['peak_mb']:.0f} MB "
          f"({best['peak_mb'] - best['before_mb']:.0f} MB above the process before the import)")
    tom_bin = Path(sys.executable).with_name("tom")
    if tom_bin.exists():
        home = work / "cli-tom"
        subprocess.run([str(tom_bin), "init", str(home)], check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run([str(tom_bin), "--home", str(home), "targets", "import", str(csv_path)], check=True,
                       capture_output=True)
        wall = time.perf_counter() - start
        print(f"  `tom targets import` wall time (interpreter start and imports included): {wall:.2f} s "
              f"-> {rows / wall:,.0f} targets/s")
        shutil.rmtree(home, ignore_errors=True)
    bench_update(rows, csv_path, work)


def load_sky(tom, n: int, seed: int = 7) -> None:
    from tomcore.domain.targets import Target

    rng = random.Random(seed)
    chunk = 100_000
    start = time.perf_counter()
    for offset in range(0, n, chunk):
        batch = [Target(name=f"S{i:08d}", ra=rng.random() * 360.0,
                        dec=57.29577951308232 * __import__("math").asin(rng.uniform(-1.0, 1.0)),
                        aliases=[f"ALT-{i:08d}"])
                 for i in range(offset, min(n, offset + chunk))]
        tom.targets.save(batch, on_duplicate="skip", radius_arcsec=0.0)
    print(f"  loaded {n:,} targets in {time.perf_counter() - start:.1f} s "
          f"({n / (time.perf_counter() - start):,.0f} targets/s through save(), batches of {chunk:,})")


def bench_sky(label: str, tom, n: int) -> None:
    from sqlalchemy import select

    from tomcore.domain.targets import Target
    from tomcore.services.sky import apply_cone
    from tomcore.store.models import TargetRow

    print(f"{label}: {n:,} targets")
    load_sky(tom, n)
    rng = random.Random(11)
    centres = [(rng.random() * 360.0, 57.29577951308232 * __import__("math").asin(rng.uniform(-1, 1))) for _ in range(20)]
    with tom.db.session(readonly=True) as s:  # warm the connection and the caches of the first pages
        s.execute(apply_cone(select(TargetRow.id), TargetRow, 10.0, 10.0, 0.5)).all()
    times, found, fresh = [], [], []
    with tom.db.session(readonly=True) as s:  # one open transaction, as a command has
        s.execute(select(TargetRow.id).limit(1)).all()
        for ra, dec in centres:
            start = time.perf_counter()
            rows = s.execute(apply_cone(select(TargetRow.id, TargetRow.name, TargetRow.ra, TargetRow.dec),
                                        TargetRow, ra, dec, 0.5)).all()
            times.append(time.perf_counter() - start)
            found.append(len(rows))
    for ra, dec in centres:  # and each in its own new transaction (connection check-out, BEGIN)
        start = time.perf_counter()
        with tom.db.session(readonly=True) as s:
            s.execute(apply_cone(select(TargetRow.id, TargetRow.name, TargetRow.ra, TargetRow.dec),
                                 TargetRow, ra, dec, 0.5)).all()
        fresh.append(time.perf_counter() - start)
    print(f"  cone search r=0.5 deg, 20 random centres: median {statistics.median(times) * 1000:.2f} ms "
          f"(min {min(times) * 1000:.2f}, max {max(times) * 1000:.2f}); {statistics.mean(found):.1f} targets per cone; "
          f"each in a new transaction: median {statistics.median(fresh) * 1000:.2f} ms")
    from tomcore.services.target_query import TargetQuery, find

    start = time.perf_counter()
    result = find(tom, TargetQuery(cone=(centres[0][0], centres[0][1], 0.5)))
    print(f"  the same through `targets list --cone` (filters, load with aliases/extras/lists): "
          f"{(time.perf_counter() - start) * 1000:.1f} ms for {len(result.targets)} targets")
    # matcher: 10,000 names (half existing names or aliases, normalised differently) and 10,000 positions
    names = []
    for k in range(10_000):
        i = rng.randrange(n)
        names.append(f"alt {i:08d}" if k % 4 == 0 else f"s{i:08d}" if k % 4 == 1 else f"NOPE-{k}")
    probes = [Target(name=x) for x in names]
    with tom.db.session(readonly=True) as s:
        start = time.perf_counter()
        by_name = tom.matcher.match_many(probes, session=s)
        t_names = time.perf_counter() - start
    positions = [(rng.random() * 360.0, rng.uniform(-89.9, 89.9)) for _ in range(10_000)]
    with tom.db.session(readonly=True) as s:
        start = time.perf_counter()
        by_pos = tom.matcher.by_positions(s, [p[0] for p in positions], [p[1] for p in positions], 2.0)
        t_pos = time.perf_counter() - start
        start = time.perf_counter()
        wide = tom.matcher.by_positions(s, [p[0] for p in positions], [p[1] for p in positions], 60.0)
        t_wide = time.perf_counter() - start
    print(f"  matcher: 10,000 name lookups {t_names:.3f} s ({sum(1 for c in by_name if c):,} found); "
          f"10,000 positional lookups (2\") {t_pos:.3f} s ({sum(1 for c in by_pos if c):,} found); "
          f"with 60\" {t_wide:.3f} s ({sum(len(c) for c in wide):,} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("TOM_BENCH_DATABASE_URL"),
                        help="A PostgreSQL server (admin URL) for the PostgreSQL figures.")
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-sky", action="store_true")
    parser.add_argument("--child-import", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-update", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(*args.child_import)
        return
    if args.child_update:
        child_update(*args.child_update)
        return
    from tomcore.astro import configure_offline

    configure_offline()
    work = Path(tempfile.mkdtemp(prefix="tom-bench-targets-"))
    try:
        if not args.skip_import:
            bench_import(args.import_rows, work)
        if not args.skip_sky:
            tom, cleanup = new_tom(work / "sky-sqlite", "")
            try:
                bench_sky("SQLite", tom, args.targets)
            finally:
                cleanup()
            if args.database_url:
                tom, cleanup = new_tom(work / "sky-pg", args.database_url)
                try:
                    bench_sky("PostgreSQL", tom, args.targets)
                finally:
                    cleanup()
            else:
                print("PostgreSQL: skipped (give --database-url or TOM_BENCH_DATABASE_URL)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
