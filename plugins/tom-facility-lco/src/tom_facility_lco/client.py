"""HTTP only: the LCO Observation Portal and Science Archive, as apis.md §5-§7 describe them.

Every call goes through :class:`tomcore.http.HttpClient` (timeouts, bounded retries of
idempotent calls, one error naming the service). Submissions are never retried blindly: the
caller looks the request group up by name first (see :meth:`LCOClient.find_groups`).
A refused token is one clear :class:`~tomcore.errors.AuthenticationError`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tomcore.errors import AuthenticationError, ServiceError

if TYPE_CHECKING:  # pragma: no cover
    import requests

    from tomcore.http import HttpClient

PORTAL = "LCO portal"
ARCHIVE = "LCO archive"
PORTAL_PAGE = 100
ARCHIVE_PAGE = 1000
MAX_PAGES = 200

TOKEN_HELP = ("set TOM_LCO_API_KEY (or api_key under [plugins.lco] in tom.toml) to the API token "
              "shown on your profile page of the LCO Observation Portal")


def iso(value: datetime) -> str:
    """UTC ``YYYY-MM-DDTHH:MM:SSZ``, as the portal writes times."""
    from datetime import UTC

    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    from datetime import UTC

    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class LCOClient:
    """The two LCO services. ``portal`` carries the token; ``archive`` carries it too (the
    archive accepts the portal's token); ``downloads`` carries none (signed URLs)."""

    def __init__(self, portal: HttpClient, archive: HttpClient, downloads: HttpClient, *,
                 has_token: bool, instruments_ttl: float = 300.0) -> None:
        self.portal = portal
        self.archive = archive
        self.downloads = downloads
        self.has_token = has_token
        self.instruments_ttl = instruments_ttl
        self._instruments: tuple[float, dict[str, Any]] | None = None
        self._profile: dict[str, Any] | None = None

    def close(self) -> None:
        for client in (self.portal, self.archive, self.downloads):
            client.close()

    # -- error handling ------------------------------------------------------------------------

    def _call(self, client: HttpClient, method: str, path: str, **kw: Any) -> requests.Response:
        try:
            return client.request(method, path, **kw)
        except AuthenticationError as exc:
            if client is self.archive:
                raise AuthenticationError(ARCHIVE, f"the archive refused the API token ({exc.status}); {TOKEN_HELP}",
                                          status=exc.status, url=exc.url) from None
            if not self.has_token:
                raise AuthenticationError(PORTAL, f"this needs an API token; {TOKEN_HELP}",
                                          status=exc.status, url=exc.url) from None
            raise AuthenticationError(PORTAL, f"the portal refused the API token ({exc.status}); {TOKEN_HELP}",
                                      status=exc.status, url=exc.url) from None

    def _json(self, client: HttpClient, method: str, path: str, **kw: Any) -> Any:
        return client.decode_json(self._call(client, method, path, **kw))

    def _pages(self, client: HttpClient, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a DRF list, following ``next`` until it is null (counts may be estimates)."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        for _ in range(MAX_PAGES):
            if url is None:
                return
            body = self._json(client, "GET", url, params=query)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise ServiceError(client.service, f"GET {path} answered an unexpected body (no 'results' list)")
            yield from body["results"]
            url, query = body.get("next"), None  # `next` carries the query already
        raise ServiceError(client.service, f"GET {path} returned more than {MAX_PAGES} pages; stopped")

    # -- portal: description -------------------------------------------------------------------

    def instruments(self) -> dict[str, Any]:
        """``/api/instruments/`` (no auth needed), cached for ``instruments_ttl`` seconds."""
        now = time.monotonic()
        if self._instruments is not None and now - self._instruments[0] < self.instruments_ttl:
            return self._instruments[1]
        body = self._json(self.portal, "GET", "/api/instruments/")
        if not isinstance(body, dict):
            raise ServiceError(PORTAL, "GET /api/instruments/ answered an unexpected body")
        self._instruments = (now, body)
        return body

    def profile(self) -> dict[str, Any]:
        if self._profile is None:
            body = self._json(self.portal, "GET", "/api/profile/")
            self._profile = body if isinstance(body, dict) else {}
        return self._profile

    def current_proposals(self) -> list[str]:
        return [str(p["id"]) for p in self.profile().get("proposals", []) if p.get("current", True) and "id" in p]

    # -- portal: requests ----------------------------------------------------------------------

    def validate(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/requestgroups/validate/``: always 200; read ``errors`` and durations."""
        result = self._json(self.portal, "POST", "/api/requestgroups/validate/", json_body=body, retry_post=True)
        return result if isinstance(result, dict) else {}

    def submit(self, body: Mapping[str, Any]) -> tuple[int, Any]:
        """``POST /api/requestgroups/`` once (never retried); ``(status, body)`` for 201 and 400."""
        response = self._call(self.portal, "POST", "/api/requestgroups/", json_body=body, ok=(400,))
        return response.status_code, self.portal.decode_json(response)

    def find_groups(self, name: str, created_after: datetime | None = None) -> list[dict[str, Any]]:
        """Request groups whose name is exactly ``name`` (the filter is icontains)."""
        params: dict[str, Any] = {"name": name, "limit": PORTAL_PAGE}
        if created_after is not None:
            params["created_after"] = iso(created_after)
        return [g for g in self._pages(self.portal, "/api/requestgroups/", params) if g.get("name") == name]

    def groups_created_since(self, since: datetime) -> Iterator[dict[str, Any]]:
        return self._pages(self.portal, "/api/requestgroups/", {"created_after": iso(since), "limit": PORTAL_PAGE})

    def group_of_request(self, request_id: str) -> dict[str, Any] | None:
        for group in self._pages(self.portal, "/api/requestgroups/", {"request_id": request_id, "limit": PORTAL_PAGE}):
            return group
        return None

    def request(self, request_id: str) -> dict[str, Any] | None:
        response = self._call(self.portal, "GET", f"/api/requests/{request_id}/", ok=(404,))
        if response.status_code == 404:
            return None
        body = self.portal.decode_json(response)
        return body if isinstance(body, dict) else None

    def blocks(self, request_id: str) -> list[dict[str, Any]]:
        """The scheduled blocks of a request (a plain list, not paginated)."""
        response = self._call(self.portal, "GET", f"/api/requests/{request_id}/observations/", ok=(404,))
        if response.status_code == 404:
            return []
        body = self.portal.decode_json(response)
        return body if isinstance(body, list) else []

    def cancel_group(self, group_id: Any) -> tuple[int, Any]:
        response = self._call(self.portal, "POST", f"/api/requestgroups/{group_id}/cancel/", ok=(400,))
        return response.status_code, self.portal.decode_json(response)

    # -- archive -------------------------------------------------------------------------------

    def frames(self, request_id: str) -> Iterator[dict[str, Any]]:
        """Every frame of a request, following ``next`` (the archive's count may be estimated)."""
        return self._pages(self.archive, "/frames/", {"request_id": request_id, "limit": ARCHIVE_PAGE})

    def frame(self, frame_id: str) -> dict[str, Any]:
        body = self._json(self.archive, "GET", f"/frames/{frame_id}/")
        return body if isinstance(body, dict) else {}

    def open_download(self, url: str) -> requests.Response:
        """A streaming GET of a signed download URL (sent without our token)."""
        return self.downloads.request("GET", url, stream=True)
