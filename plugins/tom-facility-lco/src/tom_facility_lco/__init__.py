"""tom-facility-lco: the Las Cumbres Observatory network as a tomcore facility.

Registers the ``lco`` facility. This module stays cheap to import (``tom --help`` and
``tom plugins`` load it): the facility and its HTTP client are imported inside the hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tomcore import hookimpl

__version__ = "0.1.0.dev0"


@hookimpl
def register_facilities(register: Callable[[Any], None]) -> None:
    from tom_facility_lco.facility import LCOFacility

    register(LCOFacility())
