"""The ALeRCE ZTF API v1 over HTTP, and nothing else (no mapping to tomcore types).

Paths follow the server: list routes end with a slash (``objects/``, ``classifiers/``;
without it the server answers 308 and the client follows), item routes do not. A 400 body's
``errors`` become a :class:`ValidationError` naming each parameter; a 404 becomes "no such
object"; 429, 5xx and connection errors are retried by :class:`tomcore.http.HttpClient` and
end in one :class:`ServiceError` naming ALeRCE, the URL and the cause.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tomcore.contracts.brokers import BadRecord
from tomcore.errors import NotFoundError, ServiceError, ValidationError

SERVICE = "ALeRCE"


def loads(body: bytes) -> Any:
    """Decode JSON fast (msgspec), falling back to the standard library, which also reads
    the ``NaN`` literals Python servers write. ``ValueError`` when it is not JSON."""
    import msgspec

    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        pass
    return json.loads(body)


class AlerceClient:
    """Calls of the ALeRCE ZTF v1 API. ``http`` is a :class:`tomcore.http.HttpClient` whose
    base URL is the API root (``https://api.alerce.online/ztf/v1``)."""

    def __init__(self, http: Any) -> None:
        self.http = http

    # -- transport ---------------------------------------------------------------------------------

    def _get(self, path: str, params: Sequence[tuple[str, Any]] | None = None) -> tuple[int, bytes, str]:
        """GET ``path``; return (status, body, URL). 400 and 404 are returned, not raised."""
        response = self.http.get(path, params=list(params or ()), ok=(400, 404))
        from tomcore.http import redact_url  # requests: imported when a call is made

        return response.status_code, response.content, redact_url(response.url)  # no credentials in messages

    def _json(self, path: str, params: Sequence[tuple[str, Any]] | None = None, *,
              what: str = "", object_id: str | None = None) -> Any:
        status, body, url = self._get(path, params)
        if status in (400, 404):
            self._raise(status, body, object_id, what)
        try:
            return loads(body)
        except ValueError:
            if object_id is not None:
                raise BadRecord(f"{object_id}: the {what or 'answer'} from ALeRCE is not valid JSON") from None
            snippet = body[:80].decode("utf-8", "replace")
            raise ServiceError(SERVICE, f"GET {url} returned a body that is not JSON ({status}): {snippet}",
                               status=status, url=url) from None

    @staticmethod
    def _raise(status: int, body: bytes, object_id: str | None, what: str) -> None:
        try:
            data = loads(body)
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        if status == 404:
            if object_id is not None:
                raise NotFoundError(f"ALeRCE has no such object: {object_id!r}" + (f" ({what})" if what else ""))
            raise NotFoundError(f"ALeRCE: {data.get('message') or 'not found'}")
        errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
        message = str(data.get("message") or "the query was rejected")
        if errors:
            raise ValidationError(f"ALeRCE rejected the query: {message}",
                                  {str(k): [str(v)] for k, v in errors.items()})
        detail = data.get("detail") or message
        raise ValidationError(f"ALeRCE rejected the query: {detail}", {})

    # -- endpoints ---------------------------------------------------------------------------------

    def search(self, params: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        """``GET objects/``: one page of the object search (the server's JSON)."""
        data = self._json("objects/", params)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise ServiceError(SERVICE, "the object search answered without an 'items' list")
        return data

    def object(self, oid: str) -> dict[str, Any]:
        data = self._json(f"objects/{oid}", object_id=oid, what="object")
        if not isinstance(data, dict):
            raise BadRecord(f"{oid}: the object from ALeRCE is not a JSON object")
        return data

    def lightcurve(self, oid: str, survey_id: str = "ztf") -> Any:
        """``GET objects/{oid}/lightcurve``: ``{"detections": [...], "non_detections": [...]}``."""
        params = [("survey_id", survey_id)] if survey_id != "ztf" else None
        return self._json(f"objects/{oid}/lightcurve", params, object_id=oid, what="light curve")

    def lightcurve_body(self, oid: str, survey_id: str = "ztf") -> bytes:
        """The raw body of ``GET objects/{oid}/lightcurve`` (for fast typed decoding)."""
        params = [("survey_id", survey_id)] if survey_id != "ztf" else None
        status, body, _ = self._get(f"objects/{oid}/lightcurve", params)
        if status in (400, 404):
            self._raise(status, body, oid, "light curve")
        return body

    def probabilities(self, oid: str, classifier: str | None = None) -> Any:
        params = [("classifier", classifier)] if classifier else None
        return self._json(f"objects/{oid}/probabilities", params, object_id=oid, what="probabilities")

    def classifiers(self) -> list[dict[str, Any]]:
        data = self._json("classifiers/")
        if not isinstance(data, list):
            raise ServiceError(SERVICE, "the classifier list is not a JSON list")
        return data
