"""The ANTARES REST API v2 over HTTP, and nothing else (no mapping to tomcore types).

``GET loci`` takes an Elasticsearch query as a JSON string; pages are followed through
``links.next`` (a full URL carrying every parameter) until it is null. ``GET loci/{id}`` is
one locus with its light curve as CSV text; ``GET loci/statistics`` lists the tags. Errors:
a 404 is "no such locus", a 400 is a rejected query (its body, whose shape is not
documented, is summarised); 429, 5xx and connection errors are retried by
:class:`tomcore.http.HttpClient`, then one :class:`ServiceError` names ANTARES, the URL and
the cause.
"""

from __future__ import annotations

import json
from typing import Any

from tomcore.contracts.brokers import BadRecord
from tomcore.errors import NotFoundError, ServiceError, ValidationError

SERVICE = "ANTARES"
SORT = "-properties.newest_alert_observation_time"


def loads(body: bytes) -> Any:
    """JSON with msgspec, falling back to the standard library for ``NaN`` literals (ANTARES
    properties contain NaN). ``ValueError`` when it is not JSON."""
    import msgspec

    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        pass
    return json.loads(body)


def error_text(body: bytes) -> str:
    """The message of an error body, whatever its shape (``errors`` list of JSON:API
    objects, ``detail``, ``message``), else its start."""
    try:
        data = loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for error in errors:
                if isinstance(error, dict):
                    parts.append(str(error.get("detail") or error.get("title") or error))
                else:
                    parts.append(str(error))
            return "; ".join(parts)
        for key in ("detail", "message", "error"):
            if data.get(key):
                return str(data[key])
    return json.dumps(data)[:200]


class AntaresClient:
    """Calls of the ANTARES v2 API. ``http`` is a :class:`tomcore.http.HttpClient` whose base
    URL is the API root (``https://api.antares.noirlab.edu/v2``)."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def _get(self, path: str, params: Any = None) -> tuple[int, bytes, str]:
        response = self.http.get(path, params=params, ok=(400, 404))
        from tomcore.http import redact_url  # requests: imported when a call is made

        return response.status_code, response.content, redact_url(response.url)  # no credentials in messages

    def _json(self, path: str, params: Any = None, *, object_id: str | None = None, what: str = "") -> Any:
        status, body, url = self._get(path, params)
        if status == 404:
            if object_id is not None:
                raise NotFoundError(f"ANTARES has no such locus: {object_id!r}")
            raise NotFoundError(f"ANTARES: {error_text(body) or 'not found'} ({url})")
        if status == 400:
            raise ValidationError("ANTARES rejected the query", {"elasticsearch_query": [error_text(body)]})
        try:
            return loads(body)
        except ValueError:
            if object_id is not None:
                raise BadRecord(f"{object_id}: the {what or 'answer'} from ANTARES is not valid JSON") from None
            raise ServiceError(SERVICE, f"GET {url} returned a body that is not JSON ({status}): "
                               f"{body[:80].decode('utf-8', 'replace')}", status=status, url=url) from None

    def search(self, es_query: dict[str, Any], *, limit: int) -> dict[str, Any]:
        """The first page of ``GET loci`` for an Elasticsearch query."""
        params = {"elasticsearch_query": json.dumps(es_query, separators=(",", ":")), "sort": SORT, "limit": limit}
        return self._page("loci", params)

    def next_page(self, url: str) -> dict[str, Any]:
        """A page from a ``links.next`` URL (it carries every parameter)."""
        return self._page(url, None)

    def _page(self, path: str, params: Any) -> dict[str, Any]:
        data = self._json(path, params)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise ServiceError(SERVICE, "the locus search answered without a 'data' list")
        return data

    def locus(self, locus_id: str) -> dict[str, Any]:
        """``GET loci/{id}``: the locus (``data``) with its CSV light curve."""
        data = self._json(f"loci/{locus_id}", object_id=locus_id, what="locus")
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise BadRecord(f"{locus_id}: the locus from ANTARES has no 'data' object")
        return data["data"]

    def statistics(self) -> dict[str, Any]:
        """``GET loci/statistics``: tag and catalogue counts."""
        data = self._json("loci/statistics")
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise ServiceError(SERVICE, "the locus statistics answered without a 'data' object")
        return data["data"]
