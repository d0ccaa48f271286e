"""The Horizons API client: one GET per request, the plain-text ``result`` back.

HTTP only: :meth:`HorizonsClient.elements` asks for osculating elements
(``EPHEM_TYPE=ELEMENTS``, heliocentric ecliptic J2000, AU and days, absolute time of
perihelion, CSV table) of one target at one epoch and returns the ``result`` text of the
JSON answer; :mod:`tom_catalog_jplhorizons.parse` reads it. Requests go through
``tomcore.http.HttpClient`` (timeouts, bounded retries on 5xx and connection errors), one at
a time, as JPL asks.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from tomcore.errors import ServiceError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.http import HttpClient

SERVICE = "JPL Horizons"
#: Heliocentric: the Sun's body centre.
SUN_CENTER = "500@10"


def quote_value(value: str) -> str:
    """A parameter value quoted as Horizons wants values with spaces or ``;`` (double quotes,
    or single quotes when the value holds a double quote)."""
    return f"'{value}'" if '"' in value else f'"{value}"'


class HorizonsClient:
    """Calls the Horizons API at ``url`` (``https://ssd.jpl.nasa.gov/api/horizons.api``)."""

    # JPL asks for one request at a time from each client.
    _serial = threading.Lock()

    def __init__(self, http: HttpClient, url: str) -> None:
        self.http = http
        self.url = url

    def parameters(self, command: str, epoch_jd: float, center: str = SUN_CENTER) -> dict[str, str]:
        """The query parameters for the elements of ``command`` at ``epoch_jd`` (TDB)."""
        return {
            "format": "json",
            "COMMAND": quote_value(command),
            "OBJ_DATA": "YES",
            "MAKE_EPHEM": "YES",
            "EPHEM_TYPE": "ELEMENTS",
            "CENTER": f"'{center}'",
            "REF_PLANE": "ECLIPTIC",
            "REF_SYSTEM": "ICRF",
            "TP_TYPE": "ABSOLUTE",
            "OUT_UNITS": "AU-D",
            "CSV_FORMAT": "YES",
            "ELEM_LABELS": "YES",
            "TLIST": f"'{epoch_jd:.6f}'",
        }

    def elements(self, command: str, epoch_jd: float, center: str = SUN_CENTER) -> str:
        """The ``result`` text for the elements of ``command``; an ``error`` in the answer
        (or an HTTP error) raises :class:`ServiceError` with JPL's message."""
        with self._serial:
            response = self.http.get(self.url, params=self.parameters(command, epoch_jd, center), ok=(400,))
        data: Any = self.http.decode_json(response)
        if not isinstance(data, dict):
            raise ServiceError(SERVICE, f"unexpected answer (not a JSON object): {str(data)[:120]}", status=response.status_code)
        if data.get("error"):
            from tom_catalog_jplhorizons.parse import HorizonsMessage

            raise HorizonsMessage(f"refused the request: {str(data['error']).strip()}", status=response.status_code)
        if response.status_code >= 400:
            raise ServiceError(SERVICE, f"answered {response.status_code} without a reason", status=response.status_code)
        result = data.get("result")
        if not isinstance(result, str):
            raise ServiceError(SERVICE, "the answer has no 'result' text", status=response.status_code)
        return result
