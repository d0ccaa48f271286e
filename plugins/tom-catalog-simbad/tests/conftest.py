"""Fixtures: the fake SIMBAD TAP service and a TOM pointed at it."""

from __future__ import annotations

from typing import Any

import pytest

from tom_catalog_simbad.fake import TAP_PATH, FakeSimbad


@pytest.fixture
def simbad() -> FakeSimbad:
    return FakeSimbad()


@pytest.fixture
def simbad_url(simbad: FakeSimbad, fake_service: Any) -> str:
    return fake_service(simbad).url + TAP_PATH


@pytest.fixture
def simbad_tom(tom_factory: Any, simbad_url: str) -> Any:
    """A TOM whose SIMBAD is the fake (no pause between queries)."""
    return tom_factory("simbad", config=f'\n[plugins.simbad]\ntap_url = "{simbad_url}"\nmin_interval = 0.0\n')


@pytest.fixture
def catalog(simbad_tom: Any) -> Any:
    return simbad_tom.catalogs.get("simbad")
