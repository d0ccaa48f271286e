"""A TAP client for SIMBAD: send ADQL to ``<base>/sync``, read the VOTable answer.

HTTP only, no mapping: :meth:`TapClient.query` returns the rows as dicts of plain Python
values (masked or empty cells are None) and the query status. Requests go through
``tomcore.http.HttpClient`` (connect and read timeouts on every call, bounded retries on
429/5xx and connection errors) rather than pyvo or astroquery, whose calls can wait forever
on a silent network. Queries are spaced by ``min_interval`` seconds: SIMBAD blacklists
clients sending more than about six queries a second.
"""

from __future__ import annotations

import io
import math
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.errors import ServiceError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.http import HttpClient

SERVICE = "SIMBAD"


@attrs.define
class TapResult:
    """The rows of one TAP query.

    :param status: ``OK``, or ``OVERFLOW`` when the service stopped at ``MAXREC`` rows.
    """

    rows: list[dict[str, Any]]
    columns: list[str]
    status: str = "OK"

    @property
    def overflow(self) -> bool:
        return self.status == "OVERFLOW"


class TapClient:
    """Synchronous ADQL queries against one TAP service."""

    def __init__(self, http: HttpClient, *, maxrec: int = 20000, min_interval: float = 0.2) -> None:
        self.http = http
        self.maxrec = int(maxrec)
        self.min_interval = float(min_interval)
        self._lock = threading.Lock()
        self._last = 0.0

    def _wait_turn(self) -> None:
        with self._lock:
            pause = self._last + self.min_interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last = time.monotonic()

    def query(self, adql: str, *, maxrec: int | None = None, uploads: dict[str, bytes] | None = None) -> TapResult:
        """Run ``adql`` (POST ``sync``, ``REQUEST=doQuery``, ``LANG=ADQL``) and return its rows.

        ``uploads`` maps a table name to a VOTable document: the tables are sent with the
        query as a TAP upload (``multipart/form-data``, ``UPLOAD=name,param:name``) and the
        ADQL reads them as ``TAP_UPLOAD.<name>``.

        An ADQL error (``QUERY_STATUS=ERROR``, HTTP 400 per the TAP standard, or 200 from
        services that do not follow it) raises :class:`ServiceError` with the service's
        message; so does a body that is not a VOTable.
        """
        self._wait_turn()
        params = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql, "MAXREC": str(maxrec or self.maxrec)}
        data: Any = params
        headers = None
        if uploads:
            from urllib3.filepost import encode_multipart_formdata

            fields: dict[str, Any] = {**params, "UPLOAD": ";".join(f"{name},param:{name}" for name in uploads)}
            for name, table in uploads.items():
                fields[name] = (f"{name}.xml", table, "application/x-votable+xml")
            data, content_type = encode_multipart_formdata(fields)
            headers = {"Content-Type": content_type}
        response = self.http.post(
            "sync", data=data, headers=headers,
            ok=(400,),
            retry_post=True,  # a sync query changes nothing: safe to repeat
        )
        return parse_votable(response.content, status_code=response.status_code)


def parse_votable(content: bytes, *, status_code: int = 200) -> TapResult:
    """Rows, columns and query status of a TAP VOTable answer.

    The status is the last ``INFO name="QUERY_STATUS"`` of the results resource (a TAP
    service puts ``OK`` before the table and ``OVERFLOW`` after it when it truncated), else
    of the first table, else of the document; no INFO means OK.
    """
    from astropy.io.votable import parse  # type: ignore[import-untyped]
    from astropy.io.votable.exceptions import VOWarning  # type: ignore[import-untyped]

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)
            votable = parse(io.BytesIO(content), verify="ignore")
    except Exception as exc:
        text = " ".join(content[:200].decode("utf-8", "replace").split())
        raise ServiceError(SERVICE, f"the TAP service answered {status_code} with something that is not a VOTable "
                                    f"({type(exc).__name__}): {text}", status=status_code) from None
    resource = next((r for r in votable.resources if r.type == "results"), None)
    if resource is None and votable.resources:
        resource = votable.resources[0]
    status, message = "", ""
    for infos in (resource.infos if resource is not None else [],
                  resource.tables[0].infos if resource is not None and resource.tables else [],
                  votable.infos):
        found = [info for info in infos if info.name == "QUERY_STATUS"]
        if found:
            status = (found[-1].value or "").strip().upper()
            message = (found[-1].content or "").strip()
            if not message:
                message = next(((i.content or "").strip() for i in found if i.value.upper() == "ERROR"), "")
            break
    status = status or "OK"
    if status == "ERROR" or status_code >= 400:
        raise ServiceError(SERVICE, f"the query was refused: {message or 'no reason given'}", status=status_code)
    if status not in ("OK", "OVERFLOW"):
        raise ServiceError(SERVICE, f"unexpected QUERY_STATUS {status!r}: {message}", status=status_code)
    if resource is None or not resource.tables:
        return TapResult([], [], status)
    table = resource.tables[0]
    columns = [field.name for field in table.fields]
    return TapResult(_rows(table.array, columns), columns, status)


def _rows(array: Any, columns: list[str]) -> list[dict[str, Any]]:
    """Plain dicts from a (masked) numpy record array: masked, NaN and blank cells are None.

    Converted a column at a time (``tolist``), not cell by cell through numpy.
    """
    import numpy as np

    data: Any = np.ma.getdata(array)
    mask: Any = np.ma.getmaskarray(array) if np.ma.isMaskedArray(array) else None
    values_by_column = []
    for column in columns:
        values = data[column].tolist()
        if mask is not None:
            flags = mask[column]
            if flags.ndim > 1:
                flags = flags.reshape(len(flags), -1).any(axis=1)
            values = [None if masked else value for value, masked in zip(values, flags.tolist(), strict=True)]
        values_by_column.append([_plain(value) for value in values])
    return [dict(zip(columns, row, strict=True)) for row in zip(*values_by_column, strict=True)]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    elif hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
