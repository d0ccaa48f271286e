"""The TOM object: one TOM's settings, plugins, database and services together.

Everything that works on a TOM (the CLI, tests, a future web API, a plugin's event hook)
goes through a :class:`Tom`::

    tom = Tom.open("~/my-tom")
    target = tom.targets.get("M31")

Services are created on first use, and their modules imported then, so opening a TOM
for ``tom plugins`` costs no SQLAlchemy or astropy import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tomcore.config import Settings
from tomcore.contracts.base import Component
from tomcore.home import DATA_DIR, DATABASE_FILE, find_home
from tomcore.plugins import PluginHost, PluginProblem, Registry, build_plugin_host

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.store.db import Database


class Components:
    """The registered objects of each kind, by name: ``tom.components.brokers.get("alerce")``."""

    def __init__(self, host: PluginHost) -> None:
        self._host = host

    @property
    def brokers(self) -> Registry[Any]:
        return self._host.registry("brokers")

    @property
    def catalogs(self) -> Registry[Any]:
        return self._host.registry("catalogs")

    @property
    def facilities(self) -> Registry[Any]:
        return self._host.registry("facilities")

    @property
    def storage(self) -> Registry[Any]:
        return self._host.registry("storage")

    @property
    def data_processors(self) -> Registry[Any]:
        return self._host.registry("data_processors")

    @property
    def notifiers(self) -> Registry[Any]:
        return self._host.registry("notifiers")

    @property
    def cadence_strategies(self) -> Registry[Any]:
        return self._host.registry("cadence_strategies")


class Tom:
    """One TOM. Make it with :meth:`open`; it is cheap until a service is used."""

    def __init__(self, settings: Settings, plugins: PluginHost, home: Path | None = None) -> None:
        self.home = home
        self.settings = settings
        self.plugins = plugins
        self.components = Components(plugins)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        plugins.set_binder(self._bind)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        *,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[tuple[str, str], Any] | None = None,
        plugins: PluginHost | None = None,
        require_home: bool = True,
    ) -> Tom:
        """Open the TOM at ``home`` (or the one found from ``TOM_HOME`` and the current
        directory). ``require_home=False`` opens settings from the environment alone when
        there is no TOM (for ``tom plugins`` and ``tom config show`` outside a TOM)."""
        env = os.environ if env is None else env
        found: Path | None
        if require_home:
            found = find_home(home, env)
        else:
            try:
                found = find_home(home, env)
            except Exception:
                found = None
        settings = Settings.load(found, env=env, overrides=overrides)
        return cls(settings, plugins if plugins is not None else build_plugin_host(env=env), found)

    def _bind(self, kind: str, obj: Any, plugin: str) -> None:
        if isinstance(obj, Component):
            obj.bind(self.settings.section(obj.section_name, obj.settings, plugin=True), plugin)

    # -- basics --------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self.settings.get("tom", "name"))

    def now(self) -> datetime:
        return self.clock()

    @property
    def database_url(self) -> str:
        url = self.settings.get("database", "url")
        if url:
            return str(url)
        if self.home is None:
            from tomcore.errors import NoTomError

            raise NoTomError("no TOM: set database.url, or create one with `tom init`")
        from tomcore.store.db import sqlite_url

        return sqlite_url(self.home / DATABASE_FILE)

    @property
    def storage_url(self) -> str:
        url = self.settings.get("storage", "url")
        if url:
            return str(url)
        if self.home is None:
            from tomcore.errors import NoTomError

            raise NoTomError("no TOM: set storage.url, or create one with `tom init`")
        return str(self.home / DATA_DIR)

    @cached_property
    def db(self) -> Database:
        from tomcore.store.db import Database

        return Database(self.database_url)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
            del self.__dict__["db"]

    def __enter__(self) -> Tom:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def emit(self, event: str, **kwargs: Any) -> list[PluginProblem]:
        """Fan an ``on_*`` event out to every plugin (after the batch is committed)."""
        return self.plugins.emit(event, tom=self, **kwargs)

    # -- services ------------------------------------------------------------------------------

    @cached_property
    def targets(self) -> Any:
        from tomcore.services.targets import TargetService

        return TargetService(self)

    @cached_property
    def matcher(self) -> Any:
        from tomcore.services.matcher import Matcher

        return Matcher(self)

    # The services below are filled in by their areas; each module is imported on first use.

    @cached_property
    def lists(self) -> Any:
        from tomcore.services.lists import ListService

        return ListService(self)

    @cached_property
    def alerts(self) -> Any:
        from tomcore.services.alerts import AlertService

        return AlertService(self)

    @cached_property
    def catalogs(self) -> Any:
        from tomcore.services.catalogs import CatalogService

        return CatalogService(self)

    @cached_property
    def observations(self) -> Any:
        from tomcore.services.observations import ObservationService

        return ObservationService(self)

    @cached_property
    def cadences(self) -> Any:
        from tomcore.services.cadences import CadenceService

        return CadenceService(self)

    @cached_property
    def notify(self) -> Any:
        from tomcore.services.notify import NotificationService

        return NotificationService(self)

    @cached_property
    def storage(self) -> Any:
        from tomcore.services.storage import StorageService

        return StorageService(self)

    @cached_property
    def data(self) -> Any:
        from tomcore.services.data import DataService

        return DataService(self)

    @cached_property
    def planning(self) -> Any:
        from tomcore.services.planning import PlanningService

        return PlanningService(self)
