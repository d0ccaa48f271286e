"""Fixtures: the fake Horizons API and a TOM pointed at it."""

from __future__ import annotations

from typing import Any

import pytest

from tom_catalog_jplhorizons.fake import API_PATH, FakeHorizons


@pytest.fixture
def horizons() -> FakeHorizons:
    return FakeHorizons()


@pytest.fixture
def horizons_url(horizons: FakeHorizons, fake_service: Any) -> str:
    return fake_service(horizons).url + API_PATH


@pytest.fixture
def horizons_tom(tom_factory: Any, horizons_url: str) -> Any:
    return tom_factory("horizons", config=f'\n[plugins.horizons]\nurl = "{horizons_url}"\ntimeout = 5.0\n')


@pytest.fixture
def catalog(horizons_tom: Any) -> Any:
    return horizons_tom.catalogs.get("horizons")
