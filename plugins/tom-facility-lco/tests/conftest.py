"""The LCO plugin against its fake portal and archive, on a throw-away TOM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tom_facility_lco.fake import FakeLCO


@pytest.fixture
def lco(fake_service: Callable[[Any], Any]) -> FakeLCO:
    now = datetime.now(UTC)
    # One semester around now, so that windows near a real semester boundary cannot fail.
    fake = FakeLCO(semesters=[(now - timedelta(days=200), now + timedelta(days=200))])
    portal, archive = fake_service(fake.portal), fake_service(fake.archive)
    fake.set_base_urls(portal.url, archive.url)
    return fake


@pytest.fixture
def lco_tom(tom_factory: Callable[..., Any], lco: FakeLCO) -> Any:
    return tom_factory("lco", config=lco.config_toml())


@pytest.fixture
def facility(lco_tom: Any) -> Any:
    return lco_tom.components.facilities.get("lco")
