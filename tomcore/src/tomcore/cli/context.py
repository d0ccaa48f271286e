"""What a CLI invocation carries: the options of the root command and the open TOM."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.plugins import PluginHost


class CliState:
    """Root options and lazily opened objects of one ``tom`` invocation.

    Tests and embedding code may pass a ready ``tom`` or ``host``.
    """

    def __init__(self, *, tom: Tom | None = None, host: PluginHost | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.home: str | None = None
        self.debug = False
        self.overrides: dict[tuple[str, str], Any] = {}
        self.env = os.environ if env is None else env
        self._tom = tom
        self._tom_given = tom is not None
        self._host = host if host is not None else (tom.plugins if tom is not None else None)

    def plugin_host(self) -> PluginHost:
        if self._host is None:
            from tomcore.plugins import build_plugin_host

            self._host = build_plugin_host(env=self.env)
        return self._host

    def tom(self, require_home: bool = True) -> Tom:
        if self._tom is None:
            from tomcore.app import Tom

            self._tom = Tom.open(self.home, env=self.env, overrides=self.overrides, plugins=self.plugin_host(),
                                 require_home=require_home)
        elif self.overrides:
            self._tom.settings.overrides.update(self.overrides)
        return self._tom

    def close(self) -> None:
        if self._tom is not None and not self._tom_given:
            self._tom.close()


def get_state() -> CliState:
    return click.get_current_context().ensure_object(CliState)


def get_tom(*, require_home: bool = True, check_schema: bool = True) -> Tom:
    """The TOM of the current command (opened on first call).

    ``check_schema`` refuses to work on a database whose schema is not current, saying to
    run ``tom db upgrade``.
    """
    state = get_state()
    tom = state.tom(require_home=require_home)
    if check_schema and not getattr(tom, "_schema_checked", False):
        tom.db.check_revision()
        tom._schema_checked = True  # type: ignore[attr-defined]
    return tom
