from __future__ import annotations

from typing import Any

import pytest

from tom_broker_alerce.fake import PREFIX, AlerceFake


@pytest.fixture
def fake() -> AlerceFake:
    return AlerceFake()


@pytest.fixture
def alerce_url(fake: AlerceFake, fake_service: Any) -> str:
    return fake_service(fake).url + PREFIX


@pytest.fixture
def atom(tom_factory: Any, alerce_url: str) -> Any:
    """A TOM with only the ALeRCE plugin, pointed at the fake, short timeouts."""
    return tom_factory("alerce-tom", load_plugins=["alerce"], config=(
        f'\n[plugins.alerce]\nbase_url = "{alerce_url}"\ntimeout = 1.0\nworkers = 3\n'))
