"""The ANTARES alert broker for tomcore (``tom alerts query antares ...``).

This module is the plugin's entry point (``[project.entry-points.tom] antares``); it stays
cheap to import: the broker, its HTTP client and mapping load inside the hook.
"""

from __future__ import annotations

from typing import Any

from tomcore import hookimpl

__all__ = ["register_brokers"]


@hookimpl
def register_brokers(register: Any) -> None:
    from tom_broker_antares.broker import AntaresBroker

    register(AntaresBroker())
