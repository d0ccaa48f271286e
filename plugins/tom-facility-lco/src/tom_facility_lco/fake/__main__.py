"""``python -m tom_facility_lco.fake``: a SIMULATED LCO portal and archive (not the real
service) for demos and trying the plugin offline.

Prints one line, ``PORTAL_URL ARCHIVE_URL``, then serves until interrupted. With
``--complete-after SECONDS`` the simulated network observes every pending request that long
after it was submitted (a COMPLETED block and ``--frames`` reduced frames in the archive)::

    python -m tom_facility_lco.fake --complete-after 2 > urls &
    read portal archive < urls
    export TOM_LCO_PORTAL_URL=$portal TOM_LCO_ARCHIVE_URL=$archive TOM_LCO_API_KEY=demo-token
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from tom_facility_lco.fake.common import parse
from tom_facility_lco.fake.state import FakeLCO


def _observer(lco: FakeLCO, after: float, frames: int, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        now = datetime.now(UTC)
        with lco.lock:
            due = [
                request["id"] for group in lco.groups.values() for request in group["requests"]
                if request["state"] == "PENDING" and not lco.blocks.get(request["id"])
                and (parse(request.get("created") or group["created"]) or now) <= now - timedelta(seconds=after)
            ]
        for request_id in due:
            with contextlib.suppress(ValueError, KeyError):
                lco.complete(request_id, frames=frames, raw_frames=False)


def main(argv: list[str] | None = None) -> None:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description="A simulated LCO Observation Portal and Science Archive.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default="demo-token", help="The API token it accepts.")
    parser.add_argument("--proposal", default="LCO2099A-001")
    parser.add_argument("--complete-after", type=float, default=0.0, metavar="SECONDS",
                        help="Observe pending requests this long after submission (0: never).")
    parser.add_argument("--frames", type=int, default=2, help="Reduced frames per observed request.")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    lco = FakeLCO(token=args.token, proposals=[args.proposal],
                  semesters=[(now - timedelta(days=365), now + timedelta(days=365))])
    portal = make_server(args.host, 0, lco.portal, threaded=True)
    archive = make_server(args.host, 0, lco.archive, threaded=True)
    lco.set_base_urls(f"http://{args.host}:{portal.server_port}", f"http://{args.host}:{archive.server_port}")
    threading.Thread(target=archive.serve_forever, daemon=True).start()
    stop = threading.Event()
    if args.complete_after > 0:
        threading.Thread(target=_observer, args=(lco, args.complete_after, args.frames, stop), daemon=True).start()
    print(f"{lco.portal_url} {lco.archive_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        portal.serve_forever()
    stop.set()
    time.sleep(0)


if __name__ == "__main__":  # pragma: no cover
    main()
