"""The shared state of the fake portal and archive, and the test's controls."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tom_facility_lco.fake.archive import FakeArchive
from tom_facility_lco.fake.common import (
    ALLOWED,
    CANCELED,
    COMPLETED,
    FAILURE_LIMIT_REACHED,
    MANY_ORDER,
    PENDING,
    SINGLE_ORDER,
    SITE_TELESCOPES,
    WINDOW_EXPIRED,
)
from tom_facility_lco.fake.common import iso as _iso
from tom_facility_lco.fake.data import default_instruments, fits_bytes, real_semesters
from tom_facility_lco.fake.portal import FakePortal


class FakeLCO:
    """The shared state of the fake portal and archive, and the test's controls."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        proposals: Iterable[str] = ("LCO2099A-001",),
        username: str = "alice",
        semesters: list[tuple[datetime, datetime]] | None = None,
        frame_size: int = 64,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.token = token
        self.proposals = list(proposals)
        self.username = username
        self.semesters = semesters if semesters is not None else real_semesters()
        self.frame_size = frame_size
        self.clock = clock or (lambda: datetime.now(UTC))
        self.instruments = default_instruments()
        self.groups: dict[int, dict[str, Any]] = {}
        self.request_group: dict[int, int] = {}
        self.blocks: dict[int, list[dict[str, Any]]] = {}
        self.frames: dict[int, dict[str, Any]] = {}
        self.files: dict[int, bytes] = {}
        self.invisible: set[str] = set()  # target names the fake says are never visible
        self.url_lifetime = timedelta(hours=48)
        self.lock = threading.RLock()
        self._group_ids = itertools.count(1900001)
        self._request_ids = itertools.count(3800001)
        self._config_ids = itertools.count(9100001)
        self._block_ids = itertools.count(555)
        self._frame_ids = itertools.count(71234567)
        self._secret = b"fake-archive-signing-key"
        self._templates: dict[str, bytes] = {}
        self.portal_url = "http://portal.invalid"
        self.archive_url = "http://archive.invalid"
        self.portal = FakePortal(self)
        self.archive = FakeArchive(self)

    # -- wiring --------------------------------------------------------------------------------

    def set_base_urls(self, portal_url: str, archive_url: str) -> None:
        self.portal_url, self.archive_url = portal_url.rstrip("/"), archive_url.rstrip("/")

    def config_toml(self, *, proposal: str | None = None, token: str | None = None) -> str:
        """A ``[plugins.lco]`` section pointing the plugin at this fake."""
        token = self.token if token is None else token
        proposal = proposal if proposal is not None else (self.proposals[0] if self.proposals else "")
        return (f'\n[plugins.lco]\nportal_url = "{self.portal_url}"\narchive_url = "{self.archive_url}"\n'
                f'api_key = "{token}"\nproposal = "{proposal}"\n')

    def now(self) -> datetime:
        return self.clock()

    # -- the test's controls -------------------------------------------------------------------

    def request_ids(self) -> list[int]:
        with self.lock:
            return sorted(self.request_group)

    def request(self, request_id: int | str) -> dict[str, Any]:
        with self.lock:
            group = self.groups[self.request_group[int(request_id)]]
            return next(r for r in group["requests"] if r["id"] == int(request_id))

    def state(self, request_id: int | str) -> str:
        return str(self.request(request_id)["state"])

    def transition(self, request_id: int | str, new_state: str) -> None:
        """Move a request to ``new_state``; only the transitions of §5.6 are allowed."""
        with self.lock:
            request = self.request(request_id)
            old = request["state"]
            if old not in ALLOWED.get(new_state, set()):
                raise ValueError(f"request {request_id}: {old} -> {new_state} is not an allowed transition")
            request["state"] = new_state
            request["modified"] = _iso(self.now())
            self._aggregate(self.request_group[int(request_id)])

    def schedule(self, request_id: int | str, start: datetime | None = None, end: datetime | None = None,
                 site: str = "lsc") -> dict[str, Any]:
        """Add a PENDING block (the scheduler put the request on a telescope)."""
        with self.lock:
            request = self.request(request_id)
            start = start or self.now() + timedelta(hours=2)
            end = end or start + timedelta(seconds=float(request.get("duration") or 1200))
            tel_class = request["location"]["telescope_class"]
            enclosure, telescope = SITE_TELESCOPES.get(tel_class, ("doma", "1m0a"))
            block = {
                "id": next(self._block_ids), "request": int(request_id), "site": site, "enclosure": enclosure,
                "telescope": telescope, "start": _iso(start).replace(".000000", ""), "end": _iso(end).replace(".000000", ""),
                "priority": 10, "state": PENDING,
                "configuration_statuses": [
                    {"id": next(self._block_ids), "configuration": c["id"], "instrument_name": "fa15",
                     "guide_camera_name": "ef01", "state": PENDING, "summary": {}}
                    for c in request["configurations"]
                ],
            }
            self.blocks.setdefault(int(request_id), []).append(block)
            return block

    def complete(self, request_id: int | str, frames: int = 2, *, site: str = "lsc", reduction_level: int = 91,
                 raw_frames: bool = True) -> list[dict[str, Any]]:
        """The request is observed: a COMPLETED block, the state COMPLETED, and its frames in
        the archive (``frames`` reduced ones, and as many raw ones when ``raw_frames``)."""
        with self.lock:
            blocks = [b for b in self.blocks.get(int(request_id), []) if b["state"] == PENDING]
            if blocks:
                block = blocks[-1]
            else:  # observed just now: a block ending now (starting no earlier than the request)
                request = self.request(request_id)
                created = datetime.fromisoformat(request["created"].replace("Z", "+00:00"))
                start = max(created, self.now() - timedelta(seconds=float(request.get("duration") or 1200)))
                block = self.schedule(request_id, start, max(self.now(), start + timedelta(seconds=1)), site=site)
            block["state"] = COMPLETED
            for status in block["configuration_statuses"]:
                status["state"] = COMPLETED
            self.transition(request_id, COMPLETED)
            made = self.add_frames(request_id, frames, reduction_level=reduction_level, block=block)
            if raw_frames:
                made += self.add_frames(request_id, frames, reduction_level=0, block=block)
            return made

    def expire(self, request_id: int | str) -> None:
        self.transition(request_id, WINDOW_EXPIRED)

    def fail(self, request_id: int | str) -> None:
        self.transition(request_id, FAILURE_LIMIT_REACHED)

    def cancel(self, request_id: int | str) -> None:
        self.transition(request_id, CANCELED)

    def reopen(self, request_id: int | str) -> None:
        """Its data were marked BAD_DATA while the window is open: COMPLETED back to PENDING."""
        with self.lock:
            for block in self.blocks.get(int(request_id), []):
                if block["state"] == COMPLETED:
                    block["state"] = "BAD_DATA"
            self.transition(request_id, PENDING)

    def add_frames(self, request_id: int | str, count: int, *, reduction_level: int = 91,
                   block: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Put ``count`` frames of the request in the archive."""
        made = []
        with self.lock:
            request = self.request(request_id)
            group = self.groups[self.request_group[int(request_id)]]
            config = request["configurations"][0]
            filters = [ic["optical_elements"].get("filter") or ic["optical_elements"].get("slit") or ""
                       for ic in config["instrument_configs"]]
            site = (block or {}).get("site", "lsc")
            telescope = (block or {}).get("telescope", "1m0a")
            block_id = (block or {}).get("id", 0)
            for index in range(count):
                frame_id = next(self._frame_ids)
                when = self.now() - timedelta(minutes=20) + timedelta(seconds=30 * index)
                day = when.strftime("%Y%m%d")
                basename = f"{site}{telescope[:3]}-fa15-{day}-{frame_id % 10000:04d}-e{reduction_level:02d}"
                filename = basename + ".fits.fz"
                the_filter = filters[index % len(filters)] if filters else ""
                content = self._frame_bytes({
                    "ORIGIN": "LCOGT", "OBJECT": config["target"]["name"], "FILTER": the_filter, "SITEID": site,
                    "TELID": telescope, "REQNUM": int(request_id), "RLEVEL": reduction_level,
                    "PROPID": group["proposal"], "OBSTYPE": config["type"],
                    "EXPTIME": float(config["instrument_configs"][0]["exposure_time"]),
                }, when, frame_id)
                self.files[frame_id] = content
                date_obs = _iso(when).replace("000Z", "Z")
                public = _iso(when + timedelta(days=365)).replace("000Z", "Z")
                frame = {
                    "id": frame_id, "basename": basename, "filename": filename,
                    "version_set": [{"id": frame_id + 10000000, "key": hashlib.sha1(content).hexdigest(),
                                     "md5": hashlib.md5(content).hexdigest(), "extension": ".fits.fz",
                                     "created": _iso(self.now()).replace(".000000", "")}],
                    "observation_date": date_obs, "observation_day": when.strftime("%Y-%m-%d"),
                    "proposal_id": group["proposal"], "instrument_id": "fa15", "target_name": config["target"]["name"],
                    "reduction_level": reduction_level, "site_id": site, "telescope_id": telescope,
                    "exposure_time": float(config["instrument_configs"][0]["exposure_time"]),
                    "primary_optical_element": the_filter, "public_date": public, "configuration_type": config["type"],
                    "observation_id": block_id, "request_id": int(request_id),
                    "DATE_OBS": date_obs, "DAY_OBS": when.strftime("%Y-%m-%d"), "PROPID": group["proposal"],
                    "INSTRUME": "fa15", "OBJECT": config["target"]["name"], "RLEVEL": reduction_level, "SITEID": site,
                    "TELID": telescope, "EXPTIME": float(config["instrument_configs"][0]["exposure_time"]),
                    "FILTER": the_filter, "L1PUBDAT": public, "OBSTYPE": config["type"], "BLKUID": block_id,
                    "REQNUM": int(request_id),
                    "related_frames": [],
                }
                self.frames[frame_id] = frame
                made.append(frame)
        return made

    def _frame_bytes(self, header: dict[str, Any], when: datetime, frame_id: int) -> bytes:
        """The frame's file: a compressed FITS made once per header (astropy is slow per
        file), with DATE-OBS and FRAMEID written into the fixed-width header cards."""
        key = json.dumps(header, sort_keys=True)
        template = self._templates.get(key)
        if template is None:
            template = fits_bytes({**header, "DATE-OBS": "0000-00-00T00:00:00.000", "FRAMEID": "#" * 12},
                                  size=self.frame_size)
            self._templates[key] = template
        date_obs = when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return template.replace(b"0000-00-00T00:00:00.000", date_obs.encode(), 1).replace(
            b"#" * 12, f"{frame_id:012d}".encode(), 1)

    def expire_download_urls(self) -> None:
        """Every download URL handed out so far stops working (they are signed for ~48 h)."""
        self._secret = hashlib.sha256(self._secret).digest()

    # -- internals -----------------------------------------------------------------------------

    def _aggregate(self, group_id: int) -> None:
        group = self.groups[group_id]
        states = {r["state"] for r in group["requests"]}
        order = SINGLE_ORDER if group["operator"] == "SINGLE" else MANY_ORDER
        group["state"] = next(s for s in order if s in states)
        group["modified"] = _iso(self.now())

    def signed_url(self, frame_id: int) -> str:
        frame = self.frames[frame_id]
        expires = int((self.now() + self.url_lifetime).timestamp())
        signature = hmac.new(self._secret, f"{frame_id}:{expires}".encode(), "sha256").hexdigest()
        return f"{self.archive_url}/download/{frame_id}/{frame['filename']}?" + urlencode(
            {"Expires": expires, "Signature": signature})

    def check_signature(self, frame_id: int, expires: str, signature: str) -> bool:
        try:
            expiry = int(expires)
        except ValueError:
            return False
        expected = hmac.new(self._secret, f"{frame_id}:{expiry}".encode(), "sha256").hexdigest()
        return hmac.compare_digest(expected, signature) and expiry > self.now().timestamp()


