"""pytest fixtures for tomcore and its plugins (registered through the ``pytest11`` entry
point, so installing tomcore is enough). See :mod:`tomcore.testing`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from tomcore.testing.fakehttp import FakeService, start
from tomcore.testing.toms import TEST_DATABASE_ENV, make_tom


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs only against PostgreSQL (TOM_TEST_DATABASE_URL)")
    _offline_astropy()


def _offline_astropy() -> None:
    """Never let astropy reach the network in tests, and accept its bundled IERS tables."""
    import os

    os.environ.setdefault("ASTROPY_SKIP_CONFIG_UPDATE", "1")
    try:
        from tomcore.astro import configure_offline
    except ImportError:  # pragma: no cover
        return
    configure_offline()


def pytest_report_header(config: pytest.Config) -> str:
    import os

    from tomcore.config import mask_text

    url = os.environ.get(TEST_DATABASE_ENV)
    return f"tomcore database: {mask_text(url) if url else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import os

    if os.environ.get(TEST_DATABASE_ENV):
        return
    skip = pytest.mark.skip(reason=f"needs PostgreSQL: set {TEST_DATABASE_ENV}")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def tom_factory(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Make throw-away TOMs: ``tom_factory(name="a", load_plugins=[], plugins={...})``."""
    cleanups: list[Callable[[], None]] = []

    def factory(name: str = "tom", **kwargs: Any) -> Any:
        tom, cleanup = make_tom(tmp_path / name, **kwargs)
        cleanups.append(cleanup)
        return tom

    yield factory
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture
def tom(tom_factory: Callable[..., Any]) -> Any:
    """A throw-away TOM with every installed plugin loaded."""
    return tom_factory()


@pytest.fixture
def tom_plugin(tom: Any) -> Iterator[Callable[[object, str], object]]:
    """Register a temporary plugin object on ``tom``: ``tom_plugin(obj, "name")``."""
    names: list[str] = []

    def register(plugin: object, name: str = "test-plugin") -> object:
        if not tom.plugins.register(plugin, name):
            raise AssertionError(f"plugin {name} did not register: {tom.plugins.problems_of(name)}")
        names.append(name)
        return plugin

    yield register
    for name in names:
        tom.plugins.unregister(name)


@pytest.fixture
def fake_service() -> Iterator[Callable[[Any], FakeService]]:
    """Serve WSGI apps on 127.0.0.1: ``service = fake_service(app)``; ``service.url``."""
    services: list[FakeService] = []

    def serve(app: Any) -> FakeService:
        service = start(app)
        services.append(service)
        return service

    yield serve
    for service in services:
        service.stop()


@attrs.define
class TomResult:
    """The outcome of ``run_tom``: exit code and what was printed."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


@pytest.fixture
def run_tom(tom: Any) -> Callable[..., TomResult]:
    """Run ``tom ARGS...`` in-process on the ``tom`` fixture's TOM.

    ``run_tom("targets", "list", "--json")``; fails the test when the exit code is not
    ``expect`` (default 0; pass ``expect=None`` to accept any).
    """
    return make_runner(tom)


def make_runner(tom: Any) -> Callable[..., TomResult]:
    from click.testing import CliRunner

    from tomcore.cli import run
    from tomcore.cli.context import CliState

    def invoke(*args: str, input: str | None = None, expect: int | None = 0) -> TomResult:
        runner = CliRunner()
        with runner.isolation(input=input) as streams:
            code = run(list(args), state=CliState(tom=tom, env=tom.settings.env))
            sys.stdout.flush()  # output written to sys.stdout directly (csv.writer) is buffered
            sys.stderr.flush()
        stdout, stderr = streams[0].getvalue().decode(), streams[1].getvalue().decode()
        result = TomResult(code, stdout, stderr)
        if expect is not None and code != expect:
            raise AssertionError(f"`tom {' '.join(args)}` exited {code}, expected {expect}\n"
                                 f"stdout:\n{stdout}\nstderr:\n{stderr}")
        return result

    return invoke
