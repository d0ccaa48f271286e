"""The shared HTTP client against a real local server: timeouts, bounded retries with
backoff on 429/5xx/connection errors, one error naming the service, no secrets in messages."""

from __future__ import annotations

import socket
import time

import pytest

from tomcore.errors import AuthenticationError, ServiceError
from tomcore.http import HttpClient, redact_url
from tomcore.testing import JsonApp


class Echo(JsonApp):
    def __init__(self):
        super().__init__()
        self.route("/items/", self.items)
        self.route("/items/", self.create, methods=("POST",))
        self.route("/text", self.text)

    def items(self, request):
        return {"items": [1, 2], "args": request.args.to_dict()}

    def create(self, request):
        return {"created": request.get_json()}, 201

    def text(self, request):
        from werkzeug.wrappers import Response

        return Response("<html>not json</html>", mimetype="text/html")


@pytest.fixture
def echo(fake_service):
    app = Echo()
    return app, fake_service(app).url


def client(url, **kw):
    return HttpClient("Example", url, **{"retries": 2, "backoff": 0.0, "timeout": 2.0, **kw})


def test_get_json_and_relative_paths(echo):
    _app, url = echo
    assert client(url).get_json("/items/", params={"q": "x"})["args"] == {"q": "x"}
    assert client("http://h.example/api/v1").url("/items/") == "http://h.example/api/v1/items/"
    assert client("http://h.example/api/v1/").url("items/7") == "http://h.example/api/v1/items/7"
    assert client("http://h.example/api").url("https://other.example/x") == "https://other.example/x"


def test_retries_5xx_then_succeeds(echo):
    app, url = echo
    app.fail(503, times=2)
    assert client(url).get_json("items/")["items"] == [1, 2]
    assert len(app.requests_to("/items/")) == 3


def test_gives_up_after_bounded_retries_naming_the_service(echo):
    app, url = echo
    app.fail(500, times=10, body={"detail": "database down"})
    with pytest.raises(ServiceError) as info:
        client(url).get("items/")
    message = str(info.value)
    assert message.startswith("Example: GET ") and "500" in message and "database down" in message
    assert info.value.status == 500
    assert len(app.requests_to("/items/")) == 3  # first try + 2 retries


def test_honours_retry_after_capped(echo):
    app, url = echo
    app.fail(429, times=1, headers={"Retry-After": "30"})
    start = time.monotonic()
    assert client(url, max_retry_after=0.5).get_json("items/")["items"] == [1, 2]
    elapsed = time.monotonic() - start
    assert 0.4 < elapsed < 5, elapsed


def test_client_errors_are_not_retried_and_show_the_body(echo):
    app, url = echo
    app.fail(400, times=5, body={"errors": {"order_by": "not allowed"}})
    with pytest.raises(ServiceError, match="order_by"):
        client(url).get("items/")
    assert len(app.requests_to("/items/")) == 1


def test_expected_statuses_are_returned(echo):
    app, url = echo
    app.fail(404, body={"detail": "Not found."})
    assert client(url).get("items/", ok=(404,)).status_code == 404


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_are_an_authentication_error(echo, status):
    app, url = echo
    app.fail(status, body={"detail": "Invalid token."})
    with pytest.raises(AuthenticationError, match="check the credentials"):
        client(url).get("items/")


def test_post_is_not_retried_unless_safe(echo):
    app, url = echo
    app.fail(503, times=1, method="POST")
    with pytest.raises(ServiceError):
        client(url).post("items/", json_body={"a": 1})
    assert len(app.requests_to("/items/")) == 1
    app.fail(503, times=1, method="POST")
    assert client(url).post("items/", json_body={"a": 1}, retry_post=True).json() == {"created": {"a": 1}}


def test_read_timeout_is_retried_then_reported(echo):
    app, url = echo
    app.fail(200, times=10, delay=0.6)
    with pytest.raises(ServiceError, match="timed out"):
        client(url, timeout=0.2, retries=1).get("items/")
    assert len(app.requests_to("/items/")) == 2


def test_connection_refused_names_the_service_after_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ServiceError) as info:
        client(f"http://127.0.0.1:{port}").get("items/")
    assert str(info.value).startswith("Example: cannot reach http://127.0.0.1:")


def test_body_that_is_not_json(echo):
    _app, url = echo
    with pytest.raises(ServiceError, match="not JSON"):
        client(url).get_json("text")


def test_secrets_never_appear_in_errors(echo):
    app, url = echo
    app.fail(500, times=5)
    with pytest.raises(ServiceError) as info:
        client(url).get("items/", params={"token": "hunter2", "api_key": "k3y", "q": "ok"})
    assert "hunter2" not in str(info.value) and "k3y" not in str(info.value) and "q=ok" in str(info.value)
    assert redact_url("https://u:pw@h.example/p?apikey=1&x=2") == "https://u:***@h.example/p?apikey=***&x=2"


def test_component_http_client_uses_settings(tom_factory, fake_service):
    from tomcore import hookimpl
    from tomcore.config import Setting
    from tomcore.contracts.brokers import Broker

    class MyBroker(Broker):
        name = "mine"
        title = "Mine"
        settings = (Setting("retries", 1, "int"),)

    broker = MyBroker()

    class Plugin:
        @hookimpl
        def register_brokers(self, register):
            register(broker)

    tom = tom_factory(load_plugins=False, plugins={"p": Plugin()})
    assert tom.components.brokers.get("mine") is broker
    app = Echo()
    app.fail(500, times=5)
    http = broker.http_client(fake_service(app).url)
    assert http.service == "Mine" and http.retries == 1 and http.backoff == 0.0
    with pytest.raises(ServiceError, match="^Mine: "):
        http.get("items/")
    assert len(app.requests) == 2
