"""Fake HTTP services for tests: real servers on 127.0.0.1, so clients' timeouts, retries
and redirects are exercised for real.

A fake is any WSGI application; :class:`JsonApp` makes writing one short (werkzeug routing,
JSON responses, a request log, and injected faults)::

    class FakeBroker(JsonApp):
        def __init__(self):
            super().__init__()
            self.route("/objects/", self.objects)

        def objects(self, request):
            return {"items": [...]}

    with serve(FakeBroker()) as service:
        client.get(service.url + "/objects/")
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@attrs.define
class Fault:
    """An injected failure for the next ``times`` matching requests."""

    status: int = 500
    times: int = 1
    body: Any = attrs.field(factory=lambda: {"detail": "injected failure"})
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0  # seconds to wait before answering (to test timeouts)
    path: str | None = None  # only requests whose path starts with this
    method: str | None = None


class JsonApp:
    """A small WSGI app: routes to handlers returning JSON-able data or a Response.

    Every request is logged in ``requests`` (method, path, query, JSON body, headers).
    ``fail(...)`` queues faults served before the normal handler.
    """

    def __init__(self, *, strict_slashes: bool = True) -> None:
        self.url_map = Map(strict_slashes=strict_slashes, merge_slashes=False)
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def route(self, rule: str, handler: Callable[..., Any], methods: tuple[str, ...] = ("GET",)) -> None:
        endpoint = f"{handler.__name__}:{rule}:{','.join(methods)}"
        self.url_map.add(Rule(rule, endpoint=endpoint, methods=list(methods)))
        self.handlers[endpoint] = handler

    def fail(self, status: int = 500, *, times: int = 1, body: Any = None, headers: dict[str, str] | None = None,
             delay: float = 0.0, path: str | None = None, method: str | None = None) -> None:
        """Answer the next ``times`` requests (matching ``path`` prefix/``method``) with
        ``status`` (and ``body``, ``headers``) after ``delay`` seconds."""
        self.faults.append(Fault(status, times, body if body is not None else {"detail": "injected failure"},
                                 headers or {}, delay, path, method))

    def _take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path and not request.path.startswith(fault.path):
                    continue
                if fault.method and request.method != fault.method:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @staticmethod
    def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(data), status=status, headers=headers or {}, mimetype="application/json")

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            try:
                body = request.get_json(silent=True)
            except Exception:
                body = None
            self.requests.append({
                "method": request.method, "path": request.path, "args": request.args.to_dict(flat=False),
                "json": body, "headers": dict(request.headers), "data": request.get_data(),
            })
        fault = self._take_fault(request)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if isinstance(fault.body, (bytes, str)):
                return Response(fault.body, status=fault.status, headers=fault.headers)
            return self.json_response(fault.body, fault.status, fault.headers)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            return self.not_found(request)
        except HTTPException as exc:  # includes the 308 redirect of slash-less paths
            return exc.get_response(request.environ)
        result = self.handlers[endpoint](request, **values)
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            data, status = result
            return self.json_response(data, status)
        return self.json_response(result)

    def not_found(self, request: Request) -> Response:
        return self.json_response({"detail": "Not found."}, 404)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.dispatch(Request(environ))(environ, start_response)

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(path)]


@attrs.define
class FakeService:
    """A running fake: ``url`` is its base URL (no trailing slash)."""

    app: Any
    host: str
    port: int
    server: Any = attrs.field(repr=False)
    thread: threading.Thread = attrs.field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start(app: Any, host: str = "127.0.0.1", port: int = 0) -> FakeService:
    """Start serving ``app`` in a daemon thread; stop it with ``service.stop()``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(host, port, app, threaded=True)
    server.daemon_threads = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"fake-{type(app).__name__}", daemon=True)
    thread.start()
    return FakeService(app, host, server.server_port, server, thread)


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[FakeService]:
    service = start(app, host, port)
    try:
        yield service
    finally:
        service.stop()


def serve_until_interrupted(app: Any, *, host: str = "127.0.0.1", port: int = 0, path: str = "") -> None:
    """Serve ``app`` until Ctrl-C (or SIGTERM ends the process), first printing its URL plus
    ``path`` on one line: the ``python -m <plugin>.fake`` entry of a packaged fake, so that a
    script can read the URL (``url=$(head -1 file)``) and point the plugin at it."""
    service = start(app, host, port)
    print(service.url + path, flush=True)
    try:
        while service.thread.is_alive():
            service.thread.join(3600)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
