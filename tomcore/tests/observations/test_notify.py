"""Notifications: rules in tom.toml route events to channels; email goes through a real SMTP
server, webhooks to a real HTTP receiver; failures are logged and retried."""

from __future__ import annotations

import pytest

from tomcore import hookimpl
from tomcore.contracts.base import Param
from tomcore.contracts.notifiers import Notification, Notifier
from tomcore.errors import ConfigError


def note(event: str = "test.event", subject: str = "Something happened", **kw) -> Notification:
    return Notification(event=event, subject=subject, text=kw.pop("text", "line one\nline two"), **kw)


def test_email_through_a_real_smtp_server(notify_tom, smtp):
    tom = notify_tom()
    report = tom.notify.send(note(url="https://example.org/x"))
    assert [d.channel for d in report.sent] == ["team", "hook"]
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "[Test TOM] Something happened"
    assert message["To"] == "alice@example.org, bob@example.org"
    assert message["X-TOM-Event"] == "test.event"
    body = message.get_content().replace("\r\n", "\n")
    assert "line one\nline two" in body and "https://example.org/x" in body
    assert smtp.envelopes[0]["to"] == ["alice@example.org", "bob@example.org"]


def test_webhook_json_and_slack_formats(notify_tom, webhook):
    rules = """
[[notify.rules]]
events = ["test.*"]
channels = ["hook", "slack"]
"""
    tom = notify_tom(rules)
    tom.notify.send(note(target="SN2024abc", facility="lco", data={"n": 3}))
    by_path = {p["path"]: p["json"] for p in webhook.posts}
    full = by_path["/hooks/T000/B000/SECRET"]
    assert full["event"] == "test.event" and full["subject"] == "Something happened"
    assert full["target"] == "SN2024abc" and full["data"] == {"n": 3} and full["tom"] == "Test TOM"
    assert full["text"].startswith("*Something happened*\nline one")  # readable by Slack as well
    assert by_path["/slack"] == {"text": "*Something happened*\nline one\nline two"}  # url_env read


def test_rules_match_events_facilities_and_targets(notify_tom, webhook):
    rules = """
[[notify.rules]]
events = ["observation.failed"]
channels = ["hook"]
facilities = ["LCO"]
targets = ["SN 2024abc"]

[[notify.rules]]
events = ["observation.*"]
channels = ["slack"]
"""
    tom = notify_tom(rules)
    assert tom.notify.route(note("observation.failed", facility="lco", target="AT2024ABC")) == ["hook", "slack"]
    assert tom.notify.route(note("observation.failed", facility="other", target="SN2024abc")) == ["slack"]
    assert tom.notify.route(note("observation.failed", facility="lco", target="SN2024xyz")) == ["slack"]
    assert tom.notify.route(note("data.new")) == []
    tom.notify.send(note("data.new"))
    assert webhook.posts == []


def test_many_notifications_for_one_channel_become_one_digest(notify_tom, smtp, webhook):
    tom = notify_tom(digest_after=3)
    report = tom.notify.send_many([note(subject=f"event {i}") for i in range(7)])
    assert [(d.channel, d.count) for d in report.sent] == [("team", 7), ("hook", 7)]
    [message] = smtp.wait_for(1)
    assert message["Subject"] == "[Test TOM] 7 notifications: 7 test.event"
    assert "- event 0" in message.get_content() and "- event 6" in message.get_content()
    [post] = webhook.posts
    assert len(post["json"]["data"]["notifications"]) == 7
    # Under the threshold each goes on its own.
    tom.notify.send_many([note(subject="a"), note(subject="b")])
    assert len(smtp.wait_for(3)) == 3


def test_failed_delivery_is_logged_and_retried(notify_tom, webhook, smtp):
    tom = notify_tom()
    webhook.fail(500, times=3)  # the first delivery and its 2 retries
    report = tom.notify.send(note())
    assert [d.channel for d in report.failed] == ["hook"]
    error = report.failed[0].error
    assert "500" in error and "SECRET" not in error and "hooks" not in error  # the URL is the secret
    log = tom.notify.history()
    assert {(row["channel"], row["status"]) for row in log} == {("team", "sent"), ("hook", "failed")}
    retried = tom.notify.retry_failed()
    assert [d.channel for d in retried.sent] == ["hook"]
    assert webhook.posts[-1]["json"]["subject"] == "Something happened"
    row = next(r for r in tom.notify.history() if r["channel"] == "hook")
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert tom.notify.retry_failed().deliveries == []  # nothing left to retry


def test_refused_recipient_is_a_failure(notify_tom, smtp):
    rules = """
[notify.channels.bad]
notifier = "email"
to = ["nobody@example.org"]

[[notify.rules]]
events = ["*"]
channels = ["bad"]
"""
    tom = notify_tom(rules)
    [delivery] = tom.notify.send(note()).deliveries
    assert not delivery.ok and "nobody@example.org" in delivery.error


def test_a_partly_refused_email_is_sent_once_to_the_others(notify_tom, smtp):
    rules = """
[notify.channels.mixed]
notifier = "email"
to = ["alice@example.org", "nobody@example.org"]

[[notify.rules]]
events = ["*"]
channels = ["mixed"]
"""
    tom = notify_tom(rules)
    [delivery] = tom.notify.send(note()).deliveries
    assert delivery.ok and "refused nobody@example.org" in delivery.error
    [row] = tom.notify.history()
    assert row["status"] == "sent" and "nobody@example.org" in row["error"]
    # Not retried: a retry would mail Alice again.
    assert tom.notify.retry_failed().deliveries == []
    assert len(smtp.wait_for(1)) == 1 and smtp.envelopes == [{"from": "tom@localhost", "to": ["alice@example.org"]}]


def test_smtp_server_down_is_one_clear_error(notify_tom, smtp):
    tom = notify_tom(env={"TOM_EMAIL_PORT": "1"})
    failed = tom.notify.send(note()).failed
    assert failed[0].channel == "team" and "SMTP server 127.0.0.1:1 failed" in failed[0].error


@pytest.mark.parametrize(("security", "port"), [("none", 25), ("starttls", 587), ("ssl", 465)])
def test_email_port_defaults_by_security(tom_factory, security, port):
    config = f"""
[plugins.email]
host = "127.0.0.1"
security = "{security}"
timeout = 2

[notify.channels.team]
notifier = "email"
to = ["alice@example.org"]

[[notify.rules]]
events = ["*"]
channels = ["team"]
"""
    import socket

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            pytest.skip(f"something listens on port {port} here")
    tom = tom_factory(f"port{port}", config=config)
    [failed] = tom.notify.send(note()).failed
    assert f"SMTP server 127.0.0.1:{port} failed" in failed.error


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_email_over_tls_with_a_login(notify_tom, security):
    """A real SMTP server that requires TLS (STARTTLS on a plain port, or TLS from the first
    byte) and a login; its certificate comes from a private CA given as ca_file."""
    from tomcore.testing.receivers import SmtpSink

    with SmtpSink(security=security, login=("tom", "s3cret")) as server:
        tom = notify_tom(env=server.env())
        report = tom.notify.send(note())
        assert report.failed == [] and [d.channel for d in report.sent] == ["team", "hook"]
        [message] = server.wait_for(1)
        assert message["Subject"] == "[Test TOM] Something happened"
        assert server.tls_sessions == [True] and server.logins == [("tom", True)]
        assert server.envelopes[0]["to"] == ["alice@example.org", "bob@example.org"]


def test_email_tls_failures_are_clear_and_never_downgrade(notify_tom):
    from tomcore.testing.receivers import SmtpSink

    with SmtpSink(security="starttls", login=("tom", "s3cret")) as server:
        env = {**server.env(), "TOM_EMAIL_TIMEOUT": "5"}
        # A wrong password: refused by the server, said in one line, nothing delivered.
        tom = notify_tom(name="badpw", env={**env, "TOM_EMAIL_PASSWORD": "wrong"})
        [failed] = tom.notify.send(note()).failed[:1]
        assert failed.channel == "team" and "SMTPAuthenticationError" in failed.error and "wrong" not in failed.error
        # A certificate no trusted CA signed (no ca_file): refused, the mail is not sent in clear.
        tom = notify_tom(name="untrusted", env={k: v for k, v in env.items() if k != "TOM_EMAIL_CA_FILE"})
        [failed] = tom.notify.send(note()).failed[:1]
        assert "CERTIFICATE_VERIFY_FAILED" in failed.error
        # security = none against a server that requires STARTTLS: refused too.
        tom = notify_tom(name="plain", env={**env, "TOM_EMAIL_SECURITY": "none"})
        assert tom.notify.send(note()).failed[0].channel == "team"
        assert server.messages == [] and ("tom", True) not in server.logins
        # A ca_file that is not there: said as such, not as a failure of the server.
        tom = notify_tom(name="noca", env={**env, "TOM_EMAIL_CA_FILE": "/nonexistent/ca.pem"})
        assert tom.notify.send(note()).failed[0].error == \
            "email: cannot use ca_file /nonexistent/ca.pem: No such file or directory"


def test_disabled_notifications_send_nothing(notify_tom, smtp, webhook):
    tom = notify_tom(env={"TOM_NOTIFY_ENABLED": "false"})
    assert tom.notify.send(note()).deliveries == []
    assert webhook.posts == [] and smtp.messages == []


def test_channel_test_ignores_rules(notify_tom, webhook):
    tom = notify_tom(rules="")
    delivery = tom.notify.test("slack")
    assert delivery.ok and webhook.posts[0]["json"]["text"].startswith("*Test notification from Test TOM*")


@pytest.mark.parametrize("config, message", [
    ('[notify.channels.x]\nnotifier = "pigeon"\n', "no notifier named 'pigeon'"),
    ('[notify.channels.x]\nnotifier = "email"\n', "to: is required"),
    ('[notify.channels.x]\nnotifier = "email"\nto = ["not-an-address"]\n', "is not an email address"),
    ('[notify.channels.x]\nnotifier = "webhook"\n', "url_env"),
    ('[[notify.rules]]\nevents = ["*"]\nchannels = ["nope"]\n', "no channel named 'nope'"),
    ('[[notify.rules]]\nchannels = ["x"]\n', "needs events"),
    ('[[notify.rules]]\nevents = ["*"]\nchannels = []\nwhen = 1\n', "unknown keys when"),
])
def test_configuration_errors_name_the_channel_or_rule(tom_factory, config, message):
    tom = tom_factory(config=config)
    with pytest.raises(ConfigError, match=message):
        tom.notify.channels()


def test_hook_register_notifiers(tom_factory):
    """A plugin's notifier is registered beside the built-ins and receives routed notifications."""
    received = []

    class Pigeon(Notifier):
        name = "pigeon"
        options = (Param("loft", required=True),)

        def send(self, notification, *, options):
            received.append((notification.subject, options["loft"]))

    class Plugin:
        @hookimpl
        def register_notifiers(self, register):
            register(Pigeon())

    config = '[notify.channels.birds]\nnotifier = "pigeon"\nloft = "north"\n\n[[notify.rules]]\nevents = ["*"]\nchannels = ["birds"]\n'
    tom = tom_factory(plugins={"pigeons": Plugin()}, config=config)
    assert {"email", "webhook", "pigeon"} <= set(tom.components.notifiers.names())
    assert tom.components.notifiers.owners["pigeon"] == "pigeons"
    assert tom.notify.send(note(subject="coo")).sent
    assert received == [("coo", "north")]


def test_notify_commands(notify_tom, webhook, smtp):
    from tomcore.testing.pytest_plugin import make_runner

    tom = notify_tom()
    run = make_runner(tom)
    channels = {c["channel"]: c for c in run("notify", "channels", "--json").json()}
    assert channels["team"]["notifier"] == "email" and channels["team"]["events"]
    assert channels["hook"]["options"]["url"] == "***"  # the URL is a secret
    assert "Sent a test message on slack." in run("notify", "test", "slack").stdout
    webhook.fail(500, times=3)
    assert "webhook 127.0.0.1" in run("notify", "test", "hook", expect=1).stderr
    log = run("notify", "log", "--json").json()
    assert [(r["channel"], r["status"]) for r in log] == [("hook", "failed"), ("slack", "sent")]
    assert run("notify", "retry").stdout == "1 sent, 0 still failing.\n"
    assert run("notify", "log", "--status", "failed", "--json").json() == []
