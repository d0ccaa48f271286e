"""Benchmark: resolve and import many names through the SIMBAD catalog plugin.

A fake SIMBAD TAP service holding N made-up stars in SIMBAD's formats (8 identifiers, proper
motion, parallax, velocity and 2 distances each) runs in a separate process on 127.0.0.1, so
the timed client does real HTTP, builds the ADQL, parses the VOTable answers with astropy and
maps the rows, in batches of ``batch_size`` names (one query for the names and one for their
distances per batch). Then the same names are imported into a fresh SQLite TOM (resolve, then
save through the matcher in one transaction), and imported again (all already there).
Prints the figures.

    python bench/catalogs.py [--names 2000] [--batch-size 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def serve(n: int, queue: Any) -> None:
    from tom_catalog_simbad.fake import TAP_PATH, FakeSimbad, synthetic_objects
    from tomcore.testing.fakehttp import start

    service = start(FakeSimbad(synthetic_objects(n)))
    queue.put(service.url + TAP_PATH)
    time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()

    from tom_catalog_simbad.fake import synthetic_objects
    from tomcore.testing.toms import make_tom

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(args.names, queue), daemon=True)
    server.start()
    url = queue.get(timeout=60)
    # ask for the objects by several of their identifiers, as people do
    objects = synthetic_objects(args.names)
    names = [o["ids"].split("|")[i % 3].replace("  ", " ") for i, o in enumerate(objects)]
    names.append("no such object")
    home = Path(tempfile.mkdtemp(prefix="bench-catalogs-"))
    try:
        config = f'\n[plugins.simbad]\ntap_url = "{url}"\nmin_interval = 0\nbatch_size = {args.batch_size}\n'
        tom, cleanup = make_tom(home / "tom", config=config, load_plugins=["simbad"])
        try:
            catalog = tom.catalogs.get("simbad")
            catalog.resolve("HD 100000")  # warm up: imports (astropy.io.votable), connection
            started = time.perf_counter()
            resolutions = tom.catalogs.resolve_many("simbad", names)
            resolve_s = time.perf_counter() - started
            found = sum(r.found for r in resolutions)
            batches = -(-len(names) // args.batch_size)

            started = time.perf_counter()
            report = tom.catalogs.import_names("simbad", names)
            import_s = time.perf_counter() - started
            started = time.perf_counter()
            again = tom.catalogs.import_names("simbad", names)
            again_s = time.perf_counter() - started
            aliases = sum(len(t.aliases) for t in report.save.created)
        finally:
            cleanup()
    finally:
        server.terminate()
        shutil.rmtree(home, ignore_errors=True)

    print(f"SIMBAD catalog: {len(names)} names ({found} found, {len(names) - found} not found), "
          f"batches of {args.batch_size} ({batches} name queries + {batches} distance queries)")
    print(f"  resolve:            {resolve_s:6.2f} s  {len(names) / resolve_s:8.0f} names/s  "
          f"({resolve_s / (2 * batches) * 1000:.0f} ms per query, HTTP + VOTable + mapping)")
    print(f"  import (new):       {import_s:6.2f} s  {len(names) / import_s:8.0f} names/s  "
          f"created {report.counts()['created']} targets with {aliases} aliases")
    print(f"  import (all known): {again_s:6.2f} s  {len(names) / again_s:8.0f} names/s  "
          f"skipped {again.counts()['skipped']}")


if __name__ == "__main__":
    main()
