"""SIMBAD for tomcore: resolve object names through SIMBAD's TAP service.

Registers the ``simbad`` catalog (``tom catalog query simbad M31``). The plugin sends its own
ADQL to ``<tap_url>/sync`` (setting ``TOM_SIMBAD_TAP_URL``) with a timeout on every request,
and reads the VOTable answer with astropy. This module stays cheap to import: the catalog
and its client are imported when the hook runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tomcore import hookimpl

__version__ = "0.1.0.dev0"


@hookimpl
def register_catalogs(register: Callable[[Any], None]) -> None:
    from tom_catalog_simbad.catalog import SimbadCatalog

    register(SimbadCatalog())
