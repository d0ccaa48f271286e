from __future__ import annotations

from typing import Any

import pytest

from tom_broker_antares.fake import PREFIX, AntaresFake


@pytest.fixture
def fake() -> AntaresFake:
    return AntaresFake()


@pytest.fixture
def antares_url(fake: AntaresFake, fake_service: Any) -> str:
    return fake_service(fake).url + PREFIX


@pytest.fixture
def atom(tom_factory: Any, antares_url: str) -> Any:
    """A TOM with only the ANTARES plugin, pointed at the fake, short timeouts."""
    return tom_factory("antares-tom", load_plugins=["antares"], config=(
        f'\n[plugins.antares]\nbase_url = "{antares_url}"\ntimeout = 1.0\nworkers = 3\n'))
