"""Real local receivers for testing notifiers: an SMTP server and an HTTP webhook sink.

::

    from tomcore.testing.receivers import SmtpSink, WebhookSink

    with SmtpSink() as smtp:                      # aiosmtpd on 127.0.0.1, a free port
        ...  # configure TOM_EMAIL_HOST=smtp.host, TOM_EMAIL_PORT=smtp.port
        smtp.wait_for(1)
        assert smtp.messages[0]["Subject"] == "..."

    sink = WebhookSink()                          # a WSGI app: serve it with fake_service
    service = fake_service(sink)
    ...  # POSTs to service.url + "/hook" land in sink.posts
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage
from typing import Any

from tomcore.testing.fakehttp import JsonApp


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives.

    :param refuse: recipient addresses to refuse (550), to test partial failures.
    """

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[dict[str, Any]] = []
        self.refuse = set(refuse)
        self._lock = threading.Lock()
        self._controller: Any = None

    # aiosmtpd handler protocol
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos)})
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until ``count`` messages arrived; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def env(self) -> dict[str, str]:
        """Environment variables pointing the ``email`` notifier at this server."""
        return {"TOM_EMAIL_HOST": self.host, "TOM_EMAIL_PORT": str(self.port)}


class WebhookSink(JsonApp):
    """An HTTP receiver: every POST to any path is kept in ``posts`` (path and JSON body).

    ``fail(500, times=2)`` (from :class:`JsonApp`) makes the next deliveries fail.
    """

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []
        self.route("/<path:path>", self.receive, methods=("POST",))

    def receive(self, request: Any, path: str) -> Any:
        self.posts.append({"path": "/" + path, "json": request.get_json(silent=True), "headers": dict(request.headers)})
        return {"ok": True}
