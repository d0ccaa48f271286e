"""Benchmark: ingest broker alerts with their light curves into a TOM holding many targets.

20,000 ALeRCE objects with 20-point light curves (14 detections, 6 upper limits) are
generated in the real ALeRCE response formats (``/objects/`` pages and
``/objects/{oid}/lightcurve`` bodies, as bytes) and served from memory to the ALeRCE
plugin's client (no HTTP). The timed part is everything after the bytes arrive: JSON
decoding, mapping to alerts and points, matching against 100,000 existing targets (10% of
the alerts are objects the TOM already has, under an alias), and writing targets, aliases,
extras and 400,000 photometry points, one transaction per page. Then the same ingest is run
again (nothing new to write). Prints the figures.

    python bench/alerts.py [--alerts 20000] [--targets 100000] [--page-size 1000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def seed_targets(tom: Any, n: int, rng: random.Random) -> list[tuple[str, float, float]]:
    """n existing targets spread over the sky; returns (name, ra, dec) of each."""
    import math

    from tomcore.domain.targets import Target

    made = []
    chunk = []
    for i in range(n):
        ra = rng.uniform(0, 360)
        dec = math.degrees(math.asin(rng.uniform(-1, 1)))
        chunk.append(Target(name=f"BENCH-{i:06d}", ra=ra, dec=dec, extras={"seeded": True}))
        made.append((chunk[-1].name, ra, dec))
        if len(chunk) == 10000:
            tom.targets.save(chunk, on_duplicate="skip")
            chunk = []
    if chunk:
        tom.targets.save(chunk, on_duplicate="skip")
    return made


def make_pages(n: int, page_size: int, existing: list[tuple[str, float, float]], rng: random.Random,
               ) -> tuple[dict[int, bytes], dict[str, bytes], list[str]]:
    """(pages by number, light-curve bodies by oid, oids of known objects) in ALeRCE's formats."""
    from tom_broker_alerce.fake import make_object

    items: list[dict[str, Any]] = []
    curves: dict[str, bytes] = {}
    known = []
    picks = rng.sample(range(len(existing)), n // 10)
    for i in range(n):
        if i % 10 == 0 and picks:
            # a target the TOM has (aliased to this ZTF id), at the same position
            name, ra, dec = existing[picks.pop()]
            obj, lc, _ = make_object(rng, ra=ra, dec=dec)
            known.append((obj["oid"], name, ra, dec))
        else:
            obj, lc, _ = make_object(rng)
            while obj["oid"] in curves:  # 7 random letters: make the ids unique
                obj, lc, _ = make_object(rng)
        obj.update({"class": "SNIa", "classifier": "lc_classifier", "probability": round(rng.random(), 3)})
        items.append(obj)
        curves[obj["oid"]] = json.dumps({
            "detections": [{k: v for k, v in d.items() if v is not None} for d in lc["detections"]],
            "non_detections": lc["non_detections"]}).encode()
    pages = {}
    for number, start in enumerate(range(0, n, page_size), 1):
        pages[number] = json.dumps({"total": None, "page": None, "next": None, "has_next": False,
                                    "prev": number - 1 or None, "has_prev": number > 1,
                                    "items": items[start:start + page_size]}).encode()
    pages[len(pages) + 1] = json.dumps({"total": None, "page": None, "next": None, "has_next": False,
                                        "prev": len(pages), "has_prev": True, "items": []}).encode()
    return pages, curves, known


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=20000)
    parser.add_argument("--targets", type=int, default=100000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--prefetch", type=int, default=1, help="Pages prepared ahead in a thread (0: none).")
    parser.add_argument("--profile", action="store_true", help="Print the top of a cProfile of the first ingest.")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime).")
    args = parser.parse_args()

    from tom_broker_alerce.client import AlerceClient
    from tomcore.astro import configure_offline
    from tomcore.testing.toms import make_tom

    configure_offline()
    rng = random.Random(42)
    home = Path(tempfile.mkdtemp(prefix="tom-bench-alerts-"))
    try:
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
        env["TOM_ALERCE_WORKERS"] = "1"  # bytes are in memory: threads would only add overhead
        tom, cleanup = make_tom(home / "tom", database_url="", env=env, load_plugins=["alerce"])
        t0 = time.perf_counter()
        existing = seed_targets(tom, args.targets, rng)
        seeded = time.perf_counter() - t0
        # the known objects are aliases of existing targets
        pages, curves, known = make_pages(args.alerts, args.page_size, existing, rng)
        from tomcore.domain.targets import Target

        tom.targets.save([Target(name=name, ra=ra, dec=dec, aliases=[oid]) for oid, name, ra, dec in known],
                         on_duplicate="update")
        total_bytes = sum(map(len, pages.values())) + sum(map(len, curves.values()))
        print(f"setup: {args.targets:,} targets in {seeded:.1f} s; {args.alerts:,} alerts in {len(pages) - 1} pages "
              f"of {args.page_size}, {total_bytes / 1e6:.0f} MB of ALeRCE JSON")

        class Prefetched(AlerceClient):
            def _get(self, path: str, params: Any = None) -> tuple[int, bytes, str]:
                if path == "objects/":
                    return 200, pages[dict(params)["page"]], path
                return 200, curves[path.split("/")[1]], path

        tom.alerts.prefetch_pages = args.prefetch
        broker = tom.alerts.broker("alerce")
        broker.client = Prefetched(None)
        profiler = cProfile.Profile() if args.profile else None
        c0 = time.process_time()
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        first = tom.alerts.ingest(broker, {"page_size": args.page_size})
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
        profiler2 = cProfile.Profile() if args.profile else None
        c0 = time.process_time()
        t0 = time.perf_counter()
        if profiler2:
            profiler2.enable()
        second = tom.alerts.ingest(broker, {"page_size": args.page_size})
        if profiler2:
            profiler2.disable()
        again = time.perf_counter() - t0
        cpu_again = time.process_time() - c0
        assert first.alerts == args.alerts and first.created + first.updated == args.alerts, first
        assert first.updated == len(known), (first.updated, len(known))
        assert second.points_added == 0 and second.created == 0
        print(f"ingest: {first.describe()}")
        load = os.getloadavg()[0]
        print(f"  {elapsed:.2f} s wall: {args.alerts / elapsed:,.0f} alerts/s, {first.points_added / elapsed:,.0f} points/s "
              f"(target: >= 5,000 alerts/s)")
        print(f"  {cpu:.2f} s of CPU in this process: {args.alerts / cpu:,.0f} alerts per CPU-second "
              f"(load average {load:.1f} on {os.cpu_count()} cores while it ran)")
        print(f"re-ingest (nothing new): {again:.2f} s wall, {args.alerts / again:,.0f} alerts/s; "
              f"{cpu_again:.2f} s CPU, {args.alerts / cpu_again:,.0f} alerts per CPU-second")
        if profiler and profiler2:
            print("== first ingest")
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
            print("== re-ingest")
            pstats.Stats(profiler2).sort_stats(args.sort).print_stats(30)
        cleanup()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
