"""One HTTP client for every service a plugin talks to.

Every call has a connect and a read timeout. Idempotent requests (GET, HEAD, OPTIONS, PUT,
DELETE; POST only when the caller says it is safe) are retried with exponential backoff on
429 (honouring ``Retry-After``, capped), 5xx and connection errors, a bounded number of
times (urllib3's ``Retry``). When it gives up, or when the service answers with an error the
caller did not expect, one :class:`tomcore.errors.ServiceError` names the service, the
method, the URL (with credentials removed) and the cause.

Credentials are never logged: query parameters and headers whose names look secret are
redacted in logs and messages, and so are passwords in URLs.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tomcore.config import mask_text
from tomcore.errors import AuthenticationError, ServiceError

log = logging.getLogger("tomcore.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_?key|apikey|auth|credential|signature)", re.I)
USER_AGENT = "tomcore (+https://github.com/tomcore)"


def redact_url(url: str) -> str:
    """``url`` without credentials: secret-looking query values and URL passwords masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else netloc
    query = urlencode(
        [(k, "***" if _SECRET_NAME.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*:/,",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class _CappedRetry(Retry):
    """urllib3 Retry that never sleeps longer than ``max_retry_after`` for a Retry-After."""

    max_retry_after: float = 60.0

    def new(self, **kw: Any) -> _CappedRetry:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


def _summarise_body(response: requests.Response, limit: int = 300) -> str:
    try:
        text = response.text
    except Exception:  # pragma: no cover - undecodable body
        return ""
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


class HttpClient:
    """A ``requests`` session bound to one service.

    :param service: the service's human name, used in every error ("ALeRCE", "LCO portal").
    :param base_url: relative paths are joined to it.
    :param timeout: read timeout in seconds; ``connect_timeout`` for connecting.
    :param retries: attempts after the first one, for each kind of failure.
    :param backoff: backoff factor: sleeps are ``backoff * 2**(n-1)`` seconds (capped at 30).
    :param headers: sent with every request (put tokens here; they are never logged).
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        headers: Mapping[str, str] | None = None,
        auth: Any = None,
    ) -> None:
        self.service = service
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = (float(connect_timeout), float(timeout))
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_retry_after = float(max_retry_after)
        # Two sessions that differ only in which methods they retry: POSTs are retried only
        # when the caller says the POST is safe to repeat.
        self._sessions: dict[bool, requests.Session] = {}
        for retry_post in (False, True):
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            session.headers.update(headers or {})
            session.auth = auth
            adapter = self._adapter(frozenset(IDEMPOTENT | {"POST"}) if retry_post else IDEMPOTENT)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._sessions[retry_post] = session
        self.session = self._sessions[False]

    def _adapter(self, methods: frozenset[str]) -> HTTPAdapter:
        retry = _CappedRetry(
            total=None,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            other=0,
            redirect=10,
            allowed_methods=methods,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            backoff_max=30,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        retry.max_retry_after = self.max_retry_after
        return HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: Iterable[int] = (),
        retry_post: bool = False,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send a request and return the response.

        Statuses below 400 and those listed in ``ok`` are returned; 401 and 403 raise
        :class:`AuthenticationError`; anything else raises :class:`ServiceError` with the
        status and the start of the body. ``retry_post=True`` makes a POST retryable (only
        for POSTs that do not change anything, such as a validation endpoint).
        """
        method = method.upper()
        url = self.url(path)
        session = self._sessions[retry_post]
        shown = redact_url(url)
        log.debug("%s %s %s", self.service, method, shown)
        req_timeout = self.timeout if timeout is None else (self.timeout[0], float(timeout))
        try:
            response = session.request(
                method, url, params=params, json=json_body, data=data, headers=headers,
                timeout=req_timeout, stream=stream, allow_redirects=True,
            )
        except requests.exceptions.RetryError as exc:
            raise ServiceError(self.service, f"{method} {shown} still failing after {self.retries} retries ({_reason(exc)})", url=shown) from None
        except requests.exceptions.Timeout:
            raise ServiceError(self.service, f"{method} {shown} timed out after {req_timeout[1]:g} s ({self.retries} retries)", url=shown) from None
        except requests.exceptions.ConnectionError as exc:
            if _timed_out(exc):  # read timeouts on every retry arrive wrapped as a ConnectionError
                raise ServiceError(self.service, f"{method} {shown} timed out after {req_timeout[1]:g} s ({self.retries} retries)", url=shown) from None
            raise ServiceError(self.service, f"cannot reach {shown}: {_reason(exc)} (after {self.retries} retries)", url=shown) from None
        except requests.exceptions.RequestException as exc:
            raise ServiceError(self.service, f"{method} {shown} failed: {_reason(exc)}", url=shown) from None
        status = response.status_code
        shown = redact_url(response.url or url)
        if status < 400 or status in set(ok):
            return response
        body = _summarise_body(response)
        if status in (401, 403):
            raise AuthenticationError(
                self.service, f"{method} {shown} was refused ({status}): check the credentials. {body}".strip(),
                status=status, url=shown,
            )
        extra = f" after {self.retries} retries" if status in RETRY_STATUSES else ""
        raise ServiceError(self.service, f"{method} {shown} answered {status}{extra}: {body}".rstrip(": "), status=status, url=shown)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def get_json(self, path: str, **kw: Any) -> Any:
        """GET and decode JSON; a body that is not JSON is a :class:`ServiceError`."""
        return self.decode_json(self.get(path, **kw))

    def decode_json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            raise ServiceError(
                self.service,
                f"{response.request.method} {redact_url(response.url)} returned a body that is not JSON "
                f"({response.status_code}): {_summarise_body(response, 120)}",
                status=response.status_code,
                url=redact_url(response.url),
            ) from None


def _timed_out(exc: BaseException) -> bool:
    """True when a requests error is, underneath, a read timeout (after urllib3's retries)."""
    from urllib3.exceptions import ReadTimeoutError

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ReadTimeoutError) or isinstance(getattr(seen, "reason", None), ReadTimeoutError):
            return True
        seen = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else seen.__cause__
    return False


def _reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 error, without URLs or secrets."""
    text = str(exc)
    inner = exc
    while inner.__cause__ is not None or (inner.args and isinstance(inner.args[0], BaseException)):
        inner = inner.__cause__ or inner.args[0]
    reason = getattr(inner, "reason", None)
    if reason is not None:
        text = str(reason)
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", text)
    text = re.sub(r"\(Caused by [^()]*", "", text)
    return mask_text(text.strip(" ()")) or exc.__class__.__name__
