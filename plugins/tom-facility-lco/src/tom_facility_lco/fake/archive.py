"""The fake Science Archive: ``/frames/`` and the signed downloads of its object store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tom_facility_lco.fake.common import append_slash
from tom_facility_lco.fake.common import parse as _parse
from tomcore.testing.fakehttp import JsonApp

if TYPE_CHECKING:  # pragma: no cover
    from tom_facility_lco.fake.state import FakeLCO


class FakeArchive(JsonApp):
    """``/frames/`` of the Science Archive and the signed download URLs of its object store."""

    def __init__(self, lco: FakeLCO) -> None:
        super().__init__()
        self.lco = lco
        self.route("/frames/", self.list_frames)
        self.route("/frames/<int:frame_id>/", self.get_frame)
        self.route("/download/<int:frame_id>/<path:filename>", self.download)

    def dispatch(self, request: Request) -> Response:
        return append_slash(request, super().dispatch(request))

    def _auth(self, request: Request) -> tuple[bool, Response | None]:
        header = request.headers.get("Authorization", "")
        if not header:
            return False, None
        kind, _, token = header.partition(" ")
        if (kind == "Token" and token == self.lco.token) or (kind == "Bearer" and token == "archive-bearer"):
            return True, None
        response = self.json_response({"detail": "Invalid token."}, 401)
        response.headers["WWW-Authenticate"] = "Token"
        return False, response

    def _with_url(self, frame: dict[str, Any]) -> dict[str, Any]:
        frame = json.loads(json.dumps(frame))
        url = self.lco.signed_url(frame["id"])
        frame["url"] = url
        for version in frame["version_set"]:
            version["url"] = url
        return frame

    def list_frames(self, request: Request) -> Any:
        ok, error = self._auth(request)
        if error is not None:
            return error
        now = self.lco.now()
        with self.lco.lock:
            frames = list(self.lco.frames.values())
        if not ok:
            frames = [f for f in frames if (_parse(f["public_date"]) or now) <= now]
        args = request.args
        request_id = args.get("request_id") or args.get("REQNUM")
        if request_id:
            frames = [f for f in frames if f["request_id"] == int(request_id)]
        level = args.get("reduction_level") or args.get("RLEVEL")
        if level is not None:
            frames = [f for f in frames if f["reduction_level"] == int(level)]
        frames.sort(key=lambda f: f["observation_date"], reverse=True)  # ordering=-observation_date
        try:
            limit = min(int(args.get("limit", 100)), 1000)
            offset = int(args.get("offset", 0))
        except ValueError:
            return {"detail": "Invalid limit"}, 400
        page = [self._with_url(f) for f in frames[offset:offset + limit]]

        def link(new_offset: int) -> str:
            query = {**args.to_dict(flat=False), "limit": [str(limit)], "offset": [str(new_offset)]}
            return f"{request.host_url.rstrip('/')}{request.path}?{urlencode(query, doseq=True)}"

        # Only "small" queries (by request) get an exact count; others get a Postgres estimate,
        # which is off: clients must follow `next` rather than trust it.
        estimated = not bool(request_id)
        count = len(frames) + (len(frames) // 10 + 7 if estimated else 0)
        return {
            "count": count, "count_estimated": estimated,
            "next": link(offset + limit) if offset + limit < len(frames) else None,
            "previous": link(max(offset - limit, 0)) if offset else None,
            "results": page,
        }

    def get_frame(self, request: Request, frame_id: int) -> Any:
        ok, error = self._auth(request)
        if error is not None:
            return error
        with self.lco.lock:
            frame = self.lco.frames.get(frame_id)
        if frame is None or (not ok and (_parse(frame["public_date"]) or self.lco.now()) > self.lco.now()):
            return {"detail": "Not found."}, 404
        return self._with_url(frame)

    def download(self, request: Request, frame_id: int, filename: str) -> Any:
        content = self.lco.files.get(frame_id)
        if content is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status=404, mimetype="application/xml")
        if not self.lco.check_signature(frame_id, request.args.get("Expires", ""), request.args.get("Signature", "")):
            return Response("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                            status=403, mimetype="application/xml")
        chunk = 64 * 1024

        def stream() -> Any:
            for start in range(0, len(content), chunk):
                yield content[start:start + chunk]

        return Response(stream(), mimetype="application/octet-stream",
                        headers={"Content-Length": str(len(content)),
                                 "Content-Disposition": f'attachment; filename="{filename}"'})

