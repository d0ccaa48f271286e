"""Benchmarks of the data area; prints its figures.

1. Upload and process a photometry CSV of N points (default 1,000,000) into a fresh SQLite
   TOM through ``tom.data.upload``: the file is streamed into storage with its checksums,
   read by the photometry processor, and its points written in one transaction (100,000 at
   a time). Target: at least 300,000 points/s; the upload's peak memory is printed too (its
   process's maximum resident set size; the CSV is made by another process).
2. Export those points to CSV with ``tom data export`` in a separate process, measuring its
   wall time and peak memory (the command's maximum resident set size; on SQLite the rows
   are read by a child process of its own, about 100 MB more, see docs/data.md).
   Target: at least 500,000 points/s with a peak under 300 MB.
3. The same export to VOTable (no target; printed to compare with CSV).

Usage: python bench/data.py [--points N] [--database-url URL] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_csv(path: Path, n: int, seed: int = 7) -> None:
    """A light curve in the TOM Toolkit's columns: time (MJD), filter, magnitude, error,
    limit, telescope, instrument; one point in ten a non-detection."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as csv

    rng = np.random.default_rng(seed)
    time_ = np.sort(58000.0 + rng.random(n) * 3000.0)
    band = np.array(["g", "r", "i", "o", "c"], dtype=object)[rng.integers(0, 5, n)]
    detected = rng.random(n) > 0.1
    mag = np.where(detected, 17.0 + 3.0 * rng.random(n), np.nan)
    err = np.where(detected, 0.01 + 0.1 * rng.random(n), np.nan)
    limit = np.where(detected, np.nan, 20.5 + rng.random(n))
    table = pa.table({
        "time": pa.array(np.round(time_, 6)),
        "filter": pa.array(band, pa.string()),
        "magnitude": pa.array(np.round(mag, 4), from_pandas=True),
        "error": pa.array(np.round(err, 4), from_pandas=True),
        "limit": pa.array(np.round(limit, 3), from_pandas=True),
        "telescope": pa.array(np.where(np.isin(band, ["o", "c"]), "ATLAS", "ZTF").astype(object), pa.string()),
        "instrument": pa.array(np.where(np.isin(band, ["o", "c"]), "01a", "ZTF-cam").astype(object), pa.string()),
    })
    csv.write_csv(table, path, write_options=csv.WriteOptions(quoting_style="none"))


def _rss_mb() -> float:
    """The process's resident set size now (Linux), or its peak elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _peak_mb()


def _peak_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def upload_phase(workdir: Path, points: int, database_url: str | None) -> None:
    """Time the upload of the CSV the parent made (run in its own process, so that its peak
    memory is the upload's: Python, the TOM and the upload, not the making of the CSV)."""
    from tomcore.app import Tom
    from tomcore.domain.targets import Target
    from tomcore.home import init_home

    home, _ = init_home(workdir / "tom", name="Bench TOM", database_url=database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
    tom = Tom.open(home, env=env)
    tom.db.upgrade()
    tom.targets.create(Target(name="SN 2024bench", ra=150.0, dec=2.0))
    source = workdir / "lightcurve.csv"
    import pyarrow.csv  # noqa: F401 - imported by the upload anyway; counted in the baseline

    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    outcome = tom.data.upload("SN 2024bench", [source], data_type="photometry")[0]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not outcome.ok:
        sys.exit(f"upload failed: {outcome.error or outcome.product.error}")
    stored = outcome.product.reduced.get("photometry", 0)
    print(f"upload + process: {stored:,} points in {seconds:.2f} s = {stored / seconds:,.0f} points/s "
          f"(target >= 300,000); CPU time {cpu:.2f} s (all threads; on a loaded machine wall time exceeds it); "
          f"peak memory {_peak_mb():.0f} MB (the process's maximum resident set size; {before:.0f} MB before "
          f"the upload: Python, numpy, pyarrow, the TOM)", flush=True)
    tom.close()


def export_phase(workdir: Path, database_url: str | None, fmt: str = "csv") -> None:
    """Run `tom data export` in a child process; report its time and peak memory."""
    out = workdir / f"export.{fmt}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
    env["TOM_HOME"] = str(workdir / "tom")
    if database_url:
        env["TOM_DATABASE_URL"] = database_url
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "tomcore.cli", "data", "export", "--format", fmt, "-o", str(out),
                              "--json"], env=env, stdout=subprocess.PIPE)
    stdout = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit("export failed")
    import json

    report = json.loads(stdout)
    rows = report["rows"]
    target = " (target >= 500,000)" if fmt == "csv" else ""
    print(f"export to {fmt}: {rows:,} points in {report['seconds']:.2f} s = {rows / report['seconds']:,.0f} points/s"
          f"{target}; the whole `tom data export` command {seconds:.2f} s = {rows / seconds:,.0f} points/s; "
          f"CPU time {usage.ru_utime + usage.ru_stime:.2f} s; peak memory {usage.ru_maxrss / 1024:.0f} MB "
          f"(target < 300 MB); {out.stat().st_size / 1e6:.1f} MB written")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="run on this database (default: SQLite in the TOM)")
    parser.add_argument("--keep", type=Path, help="make the TOM here and keep it")
    parser.add_argument("--phase", choices=["make", "upload"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "make":
        source = args.keep / "lightcurve.csv"
        started = time.perf_counter()
        make_csv(source, args.points)
        print(f"data: {args.points:,} points, {source.stat().st_size / 1e6:.1f} MB CSV, made in "
              f"{time.perf_counter() - started:.1f} s; database {'PostgreSQL' if args.database_url else 'SQLite'}",
              flush=True)
        return
    if args.phase == "upload":
        upload_phase(args.keep, args.points, args.database_url)
        return
    # Each phase runs in its own process, so that each peak memory is its own: a child forked
    # from a parent holding the CSV's table would start with the parent's resident pages.
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="tom-bench-data-"))
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, __file__, "--phase", "make", "--points", str(args.points), "--keep", str(workdir)]
                   + (["--database-url", args.database_url] if args.database_url else []), check=True)
    command = [sys.executable, __file__, "--phase", "upload", "--points", str(args.points), "--keep", str(workdir)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    subprocess.run(command, check=True)
    export_phase(workdir, args.database_url)
    export_phase(workdir, args.database_url, "votable")
    if args.keep is None:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
