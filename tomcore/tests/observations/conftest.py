"""Fixtures of the observation-side tests: real SMTP and webhook receivers, TOMs wired to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tomcore import hookimpl
from tomcore.testing.receivers import SmtpSink, WebhookSink


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink(refuse=("nobody@example.org",)) as sink:
        yield sink


@pytest.fixture
def webhook(fake_service: Callable[[Any], Any]) -> WebhookSink:
    sink = WebhookSink()
    sink.service = fake_service(sink)  # type: ignore[attr-defined]
    sink.url = sink.service.url  # type: ignore[attr-defined]
    return sink


NOTIFY_CONFIG = """
[notify]
digest_after = {digest_after}

[notify.channels.team]
notifier = "email"
to = ["alice@example.org", "bob@example.org"]

[notify.channels.hook]
notifier = "webhook"
url = "{webhook_url}/hooks/T000/B000/SECRET"

[notify.channels.slack]
notifier = "webhook"
url_env = "SLACK_URL"
format = "slack"
{rules}
"""

DEFAULT_RULES = """
[[notify.rules]]
events = ["observation.*", "data.new", "alerts.new", "cadence.*", "test.*"]
channels = ["team", "hook"]
"""


@pytest.fixture
def notify_tom(tom_factory: Callable[..., Any], smtp: SmtpSink, webhook: WebhookSink) -> Callable[..., Any]:
    """A TOM whose notifications go to the local SMTP server and webhook receiver."""

    def make(rules: str = DEFAULT_RULES, digest_after: int = 5, name: str = "notify", **kwargs: Any) -> Any:
        env = {"SLACK_URL": f"{webhook.url}/slack", **smtp.env(), **kwargs.pop("env", {})}
        config = NOTIFY_CONFIG.format(webhook_url=webhook.url, rules=rules, digest_after=digest_after)
        return tom_factory(name, env=env, config=config + kwargs.pop("config", ""), **kwargs)

    return make


@pytest.fixture
def sim() -> Any:
    from tomcore.testing.facility import SimulatedFacility

    return SimulatedFacility()


@pytest.fixture
def sim_tom(tom_factory: Callable[..., Any], sim: Any) -> Any:
    """A TOM with the simulated facility and two targets, SN2024abc and M31."""
    from tomcore.domain.targets import Target

    tom = tom_factory("sim", plugins={"sim": sim.plugin()})
    tom.targets.save([Target(name="SN2024abc", ra=150.1, dec=2.3), Target(name="M31", ra=10.6847, dec=41.269)])
    return tom


class Events:
    """A plugin recording the batches of on_observation_status_changed."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []

    @hookimpl
    def on_observation_status_changed(self, tom: Any, changes: list[Any]) -> None:
        self.batches.append(list(changes))


@pytest.fixture
def events(sim_tom: Any) -> Iterator[Events]:
    recorder = Events()
    sim_tom.plugins.register(recorder, "events")
    yield recorder
    sim_tom.plugins.unregister("events")


@pytest.fixture
def no_planner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cadences that cannot tell observability (as without a planner): the tests of cadence
    mechanics must not depend on where the Sun is when they run."""
    from tomcore.services.cadences import CadenceService

    monkeypatch.setattr(CadenceService, "observable", lambda self, target, facility, airmass: lambda s, e: None)
