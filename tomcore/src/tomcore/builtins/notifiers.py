"""Built-in notifiers: email over SMTP and a JSON webhook (Slack-compatible).

``email`` reads its server from ``[plugins.email]`` (``TOM_EMAIL_HOST``, ``TOM_EMAIL_PORT``,
``TOM_EMAIL_USERNAME``, ``TOM_EMAIL_PASSWORD``, ``TOM_EMAIL_SECURITY``, ``TOM_EMAIL_CA_FILE``,
``TOM_EMAIL_FROM_ADDRESS``); a channel names the recipients. ``webhook`` POSTs JSON to the
channel's URL; ``format = "slack"`` sends Slack's ``{"text": ...}``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from tomcore import hookimpl
from tomcore.config import Setting
from tomcore.contracts.base import Param
from tomcore.contracts.notifiers import Notification, Notifier, PartialDelivery
from tomcore.errors import ServiceError, ValidationError

#: The usual SMTP port of each security (submission with STARTTLS, implicit TLS).
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


def _tom_name(notifier: Notifier) -> str:
    try:
        return str(notifier.config.settings.get("tom", "name"))
    except Exception:  # pragma: no cover - unbound notifier
        return "tom"


def _body(notification: Notification) -> str:
    lines = [notification.text.rstrip()] if notification.text else []
    if notification.url:
        lines.append(f"\n{notification.url}")
    return "\n".join(lines) + "\n"


class EmailNotifier(Notifier):
    """Email over SMTP (plain, STARTTLS or SSL), one message per notification or digest."""

    name = "email"
    title = "Email"
    description = "Email over SMTP."
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("host", "localhost", help="SMTP server."),
        Setting("port", None, "int", help="SMTP port (default by security: 25 none, 587 starttls, 465 ssl)."),
        Setting("username", None, help="Login, if the server needs one."),
        Setting("password", None, secret=True, help="Password for the login."),
        Setting("security", "none", choices=("none", "starttls", "ssl"), help="none, starttls or ssl."),
        Setting("ca_file", None, help="PEM file of the CA(s) to trust for the server's certificate "
                "(a private CA); default: the system's CAs."),
        Setting("from_address", "tom@localhost", help="The sender address."),
        Setting("timeout", 30.0, "float", help="Seconds to wait for the server."),
    )
    options: ClassVar[tuple[Param, ...]] = (
        Param("to", multiple=True, required=True, help="Recipient addresses."),
        Param("cc", multiple=True, help="Copy addresses."),
        Param("subject_prefix", help="Put before every subject (default: [TOM name])."),
    )

    def check(self, options: Mapping[str, Any]) -> None:
        bad = [a for a in [*options.get("to", []), *options.get("cc", [])] if "@" not in a]
        if bad:
            raise ValidationError("bad addresses", {"to": [f"{a!r} is not an email address" for a in bad]})

    def message(self, notification: Notification, options: Mapping[str, Any]) -> Any:
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        prefix = options.get("subject_prefix")
        if prefix is None:
            prefix = f"[{_tom_name(self)}] "
        message = EmailMessage()
        message["Subject"] = f"{prefix}{notification.subject}"
        message["From"] = self.config["from_address"]
        message["To"] = ", ".join(options["to"])
        if options.get("cc"):
            message["Cc"] = ", ".join(options["cc"])
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=str(self.config["from_address"]).rpartition("@")[2] or None)
        message["X-TOM-Event"] = notification.event
        message.set_content(_body(notification))
        return message

    def send(self, notification: Notification, *, options: dict[str, Any]) -> None:
        import smtplib
        import ssl

        security = self.config["security"]
        host, port = str(self.config["host"]), int(self.config["port"] or DEFAULT_PORTS[security])
        timeout = float(self.config["timeout"])
        message = self.message(notification, options)
        ca_file = self.config.get("ca_file") or None
        try:
            # The server's certificate is verified, hostname included (no silent downgrade).
            context = ssl.create_default_context(cafile=ca_file)
        except OSError as exc:  # missing, unreadable or not PEM
            raise ServiceError("email", f"cannot use ca_file {ca_file}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            if security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=context)
                if self.config.get("username"):
                    smtp.login(str(self.config["username"]), str(self.config.get("password") or ""))
                refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise ServiceError("email", f"SMTP server {host}:{port} failed: {type(exc).__name__}: {exc}") from None
        if refused:  # some recipients only (all refused raises above): the others have it
            raise PartialDelivery(f"email: sent, but the server refused {', '.join(sorted(refused))}")


class WebhookNotifier(Notifier):
    """POST a JSON document to a URL (Slack, Mattermost, Discord's Slack endpoint, your own)."""

    name = "webhook"
    title = "Webhook"
    description = "JSON POST to a URL (Slack-compatible with format = \"slack\")."
    options: ClassVar[tuple[Param, ...]] = (
        Param("url", help="Where to POST (a secret for Slack; prefer url_env)."),
        Param("url_env", help="Name of an environment variable holding the URL."),
        Param("format", default="json", choices=("json", "slack"),
              help="json: the whole notification (with a Slack-readable text); slack: {\"text\": ...} only."),
        Param("headers", "json", help="Extra headers, e.g. {\"Authorization\": \"Bearer ...\"}."),
    )

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def check(self, options: Mapping[str, Any]) -> None:
        if not options.get("url") and not options.get("url_env"):
            raise ValidationError("no URL", {"url": ["set url = ... or url_env = NAME_OF_A_VARIABLE"]})
        url = options.get("url")
        if url and not str(url).startswith(("http://", "https://")):
            raise ValidationError("bad URL", {"url": ["must start with http:// or https://"]})
        headers = options.get("headers")
        if headers is not None and not isinstance(headers, Mapping):
            raise ValidationError("bad headers", {"headers": ["must be a table of header names to values"]})

    def _url(self, options: Mapping[str, Any]) -> str:
        if options.get("url"):
            return str(options["url"])
        name = str(options["url_env"])
        value = self.config.settings.env.get(name) or os.environ.get(name)
        if not value:
            raise ServiceError("webhook", f"the environment variable {name} (url_env) is not set")
        return value

    def payload(self, notification: Notification, options: Mapping[str, Any]) -> dict[str, Any]:
        text = f"*{notification.subject}*"
        if notification.text:
            text += f"\n{notification.text.rstrip()}"
        if notification.url:
            text += f"\n{notification.url}"
        if options.get("format") == "slack":
            return {"text": text}
        body = notification.as_dict()
        body.update({"text": text, "body": notification.text, "tom": _tom_name(self)})
        return body

    def send(self, notification: Notification, *, options: dict[str, Any]) -> None:
        from urllib.parse import urlsplit

        from tomcore.http import HttpClient

        url = self._url(options)
        host = urlsplit(url).netloc.rpartition("@")[2] or "?"
        client: HttpClient | None = self._clients.get(url)
        if client is None:
            client = self._clients[url] = self.http_client(url, service=f"webhook {host}")
        headers = {str(k): str(v) for k, v in (options.get("headers") or {}).items()}
        try:
            # Retrying a POST may post twice; for a notification that beats losing it.
            client.request("POST", url, json_body=self.payload(notification, options), headers=headers or None,
                           retry_post=True)
        except ServiceError as exc:
            # The URL itself is often the secret (Slack): name only the host.
            status = f"answered {exc.status}" if exc.status else "could not be reached"
            raise ServiceError(f"webhook {host}", f"{status}") from None


@hookimpl
def register_notifiers(register: Callable[[Notifier], None]) -> None:
    register(EmailNotifier())
    register(WebhookNotifier())
