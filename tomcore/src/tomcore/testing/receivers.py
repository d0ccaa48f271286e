"""Real local receivers for testing notifiers: an SMTP server and an HTTP webhook sink.

::

    from tomcore.testing.receivers import SmtpSink, WebhookSink

    with SmtpSink() as smtp:                      # aiosmtpd on 127.0.0.1, a free port
        ...  # configure TOM_EMAIL_HOST=smtp.host, TOM_EMAIL_PORT=smtp.port
        smtp.wait_for(1)
        assert smtp.messages[0]["Subject"] == "..."

    # STARTTLS (or implicit TLS with security="ssl") with a certificate of a throw-away CA
    # (trustme), and a login the server checks: smtp.env() points the notifier at it all.
    with SmtpSink(security="starttls", login=("tom", "s3cret")) as smtp:
        ...

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
    :param security: ``none``; ``starttls`` (the server offers STARTTLS and refuses mail and
        AUTH before it); ``ssl`` (TLS from the first byte, as on port 465). The certificate is
        issued for 127.0.0.1 by a throw-away CA whose PEM file is :attr:`ca_file`.
    :param login: ``(username, password)`` the server requires (AUTH PLAIN/LOGIN, only over
        TLS unless ``security`` is ``none``); every attempt is kept in :attr:`logins`.
    """

    def __init__(self, refuse: tuple[str, ...] = (), *, security: str = "none",
                 login: tuple[str, str] | None = None) -> None:
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"security must be none, starttls or ssl, not {security!r}")
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[dict[str, Any]] = []
        self.refuse = set(refuse)
        self.security = security
        self.login = login
        self.logins: list[tuple[str, bool]] = []  # (username, accepted)
        self.tls_sessions: list[bool] = []  # per message: did it arrive over TLS?
        self.ca_file: str | None = None
        self._tmp: Any = None
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
            self.tls_sessions.append(server.transport.get_extra_info("ssl_object") is not None)
            self.envelopes.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos)})
        return "250 Message accepted for delivery"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(data, LoginPassword) and self.login is not None and (
            data.login.decode(), data.password.decode()) == self.login
        with self._lock:
            self.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself

    def _tls_contexts(self) -> tuple[Any, Any]:
        """(server context, client context trusting the throw-away CA)."""
        import ssl
        import tempfile
        from pathlib import Path

        import trustme

        ca = trustme.CA()
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(self.host).configure_cert(server)
        client = ssl.create_default_context()
        ca.configure_trust(client)
        self._tmp = tempfile.TemporaryDirectory(prefix="smtp-ca-")
        path = Path(self._tmp.name) / "ca.pem"
        ca.cert_pem.write_to_path(str(path))
        self.ca_file = str(path)
        return server, client

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.security != "none":
            server_context, client_context = self._tls_contexts()
            if self.security == "starttls":
                kwargs.update(tls_context=server_context, require_starttls=True)
            else:
                kwargs.update(ssl_context=server_context)
        if self.login is not None:
            # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; implicit TLS is TLS too.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.security == "starttls")
        sink = self

        class TlsController(Controller):
            def _trigger_server(self) -> None:
                # The controller checks it is up by connecting; over TLS it must verify like a client.
                import socket

                with socket.create_connection((sink.host, sink.port), 1.0) as raw, \
                        client_context.wrap_socket(raw, server_hostname=sink.host) as sock:
                    sock.recv(1024)

            def factory(self) -> Any:
                import warnings

                with warnings.catch_warnings():  # "AUTH without requiring STARTTLS": this is TLS already
                    warnings.simplefilter("ignore", UserWarning)
                    return super().factory()

        kind = TlsController if self.security == "ssl" else Controller
        controller = kind(self, hostname=self.host, port=self.port, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

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
        """Environment variables pointing the ``email`` notifier at this server (its
        security, the CA that signed its certificate, and its login)."""
        env = {"TOM_EMAIL_HOST": self.host, "TOM_EMAIL_PORT": str(self.port), "TOM_EMAIL_SECURITY": self.security}
        if self.ca_file:
            env["TOM_EMAIL_CA_FILE"] = self.ca_file
        if self.login is not None:
            env["TOM_EMAIL_USERNAME"], env["TOM_EMAIL_PASSWORD"] = self.login
        return env


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
