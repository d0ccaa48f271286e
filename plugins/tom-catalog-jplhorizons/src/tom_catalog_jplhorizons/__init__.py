"""JPL Horizons for tomcore: comets, asteroids and planets as non-sidereal targets.

Registers the ``horizons`` catalog (``tom catalog query horizons 433``). It asks the Horizons
API (setting ``TOM_HORIZONS_URL``) for osculating elements (``EPHEM_TYPE=ELEMENTS``) and maps
them to the target's orbital fields. This module stays cheap to import: the catalog and its
client are imported when the hook runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tomcore import hookimpl

__version__ = "0.1.0.dev0"


@hookimpl
def register_catalogs(register: Callable[[Any], None]) -> None:
    from tom_catalog_jplhorizons.catalog import HorizonsCatalog

    register(HorizonsCatalog())
