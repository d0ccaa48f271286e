"""Build the plugin manager, load plugins one at a time, and collect what they register.

:func:`build_plugin_host` is the only way the core gets plugins; nothing is loaded at
import time. It registers the built-in plugins (the core's own local storage, manual
facility, processors, notifiers and cadences, listed in :data:`BUILTIN_PLUGINS`) and then
every entry point of the ``tom`` group, each in its own ``try``: a plugin that fails to
import or whose hooks do not match the specs is recorded as a :class:`PluginProblem` with
its name, and the others keep working. ``TOM_STRICT_PLUGINS=1`` (or ``strict=True``) makes
any problem fatal. ``TOM_LOAD_PLUGINS=a,b`` loads only those entry points (empty: none).

Registered objects are collected per kind by :class:`Registry`: each plugin's
``register_*`` hook is called separately with a ``register`` callback that records who
registered what, so ``tom plugins`` can show it and a name registered by two plugins is an
error naming both. A third-party plugin may replace a built-in of the same name.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs
import pluggy

from tomcore import hookspecs
from tomcore.errors import PluginError, UnknownComponentError

log = logging.getLogger("tomcore.plugins")

ENTRY_POINT_GROUP = "tom"

#: The core's own plugins, registered on the same manager as third-party ones.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "tomcore.builtins.manual",
    "tomcore.builtins.cadences",
    "tomcore.builtins.notifiers",
    "tomcore.builtins.notifications",
    "tomcore.builtins.local_storage",
    "tomcore.builtins.processors",
)

#: Kinds of registered objects: kind -> (hook name, singular noun).
KINDS: dict[str, tuple[str, str]] = {
    "brokers": ("register_brokers", "broker"),
    "catalogs": ("register_catalogs", "catalog"),
    "facilities": ("register_facilities", "facility"),
    "storage": ("register_storage", "storage backend"),
    "data_processors": ("register_data_processors", "data processor"),
    "notifiers": ("register_notifiers", "notifier"),
    "cadence_strategies": ("register_cadence_strategies", "cadence strategy"),
}

T = TypeVar("T")


@attrs.define
class PluginProblem:
    """Something wrong with one plugin: it failed to load, to register, or clashed."""

    plugin: str
    stage: str  # "import", "validate", "register_brokers", "on_targets_created", "conflict"...
    message: str
    exception: BaseException | None = attrs.field(default=None, repr=False, eq=False)

    def __str__(self) -> str:
        return f"plugin {self.plugin!r}: {self.message}"


@attrs.define
class PluginInfo:
    """What ``tom plugins`` shows for one plugin."""

    name: str
    builtin: bool
    module: str | None
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = attrs.Factory(list)
    registered: dict[str, list[str]] = attrs.Factory(dict)
    errors: list[str] = attrs.Factory(list)
    loaded: bool = True
    #: Installed but left out by ``TOM_LOAD_PLUGINS``.
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class Registry(Generic[T]):
    """The objects of one kind registered by all plugins, by name (case-insensitive)."""

    def __init__(self, kind: str, noun: str) -> None:
        self.kind = kind
        self.noun = noun
        self._items: dict[str, T] = {}
        self.owners: dict[str, str] = {}
        self.conflicts: dict[str, list[str]] = {}

    def add(self, name: str, item: T, plugin: str, builtin: bool, builtin_names: set[str]) -> list[PluginProblem]:
        """Add one object; return the problems it causes (a clash names every plugin in it)."""
        key = name.lower()
        if not key:
            return [PluginProblem(plugin, f"register_{self.kind}", f"registered a {self.noun} without a name")]
        if key in self.conflicts:
            self.conflicts[key].append(plugin)
            return [PluginProblem(plugin, "conflict", self._conflict_message(key))]
        previous = self.owners.get(key)
        if previous is None or (previous in builtin_names and not builtin):
            if previous is not None:
                log.debug("%s %r of %s replaces the built-in one", self.noun, key, plugin)
            self._items[key] = item
            self.owners[key] = plugin
            return []
        self.conflicts[key] = [previous, plugin]
        del self._items[key]
        message = self._conflict_message(key)
        return [PluginProblem(previous, "conflict", message), PluginProblem(plugin, "conflict", message)]

    def _conflict_message(self, key: str) -> str:
        owners = " and ".join(repr(p) for p in self.conflicts[key])
        return f"{self.noun} {key!r} is registered by both {owners}; uninstall or disable one of them"

    def get(self, name: str) -> T:
        key = name.lower()
        if key in self.conflicts:
            raise PluginError(self._conflict_message(key), self.conflicts[key])
        try:
            return self._items[key]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none installed"
            raise UnknownComponentError(f"no {self.noun} named {name!r} (available: {known})") from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())

    def by_plugin(self, plugin: str) -> list[str]:
        return sorted(name for name, owner in self.owners.items() if owner == plugin and name in self._items)


class PluginHost:
    """The plugin manager plus what the core knows about each plugin."""

    def __init__(self, *, strict: bool = False) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict
        self.problems: list[PluginProblem] = []
        self.builtin_names: set[str] = set()
        self.dists: dict[str, tuple[str | None, str | None]] = {}
        self.modules: dict[str, str] = {}
        self.skipped: list[str] = []
        #: Top-level commands each plugin added through ``register_commands``.
        self.commands: dict[str, list[str]] = {}
        self._registries: dict[str, Registry[Any]] = {}
        self._binder: Callable[[str, Any, str], None] | None = None
        self.trace = False

    # -- problems ------------------------------------------------------------------------------

    def report(self, problem: PluginProblem) -> None:
        """Record a problem; raise it at once in strict mode."""
        self.problems.append(problem)
        if self.strict:  # the error says it all: no warning line repeating it first
            raise PluginError(f"{problem} (TOM_STRICT_PLUGINS is set)", [problem.plugin]) from problem.exception
        log.warning("%s", problem)

    def problems_of(self, plugin: str) -> list[PluginProblem]:
        return [p for p in self.problems if p.plugin == plugin]

    # -- registration --------------------------------------------------------------------------

    def register(self, plugin: object, name: str, *, builtin: bool = False, module: str | None = None) -> bool:
        """Register a plugin object; on a validation error record it and return False."""
        try:
            self.pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.report(PluginProblem(name, "validate", f"does not match the hook specs: {exc}", exc))
            return False
        if builtin:
            self.builtin_names.add(name)
        self.modules[name] = module or str(getattr(plugin, "__name__", type(plugin).__name__))
        self._registries.clear()
        return True

    def unregister(self, name: str) -> None:
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.builtin_names.discard(name)
        self.modules.pop(name, None)
        self._registries.clear()

    def load_builtins(self, modules: tuple[str, ...] = BUILTIN_PLUGINS) -> None:
        for module_name in modules:
            name = "tomcore." + module_name.rsplit(".", 1)[-1]
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:  # a broken built-in is still only one plugin
                self.report(PluginProblem(name, "import", f"failed to import {module_name}: {exc}", exc))
                continue
            self.register(module, name, builtin=True, module=module_name)

    def load_entry_points(self, only: list[str] | None = None) -> None:
        """Load each entry point of the ``tom`` group on its own."""
        from importlib.metadata import entry_points

        seen: dict[str, str] = {}
        wanted = None if only is None else {n.strip() for n in only if n.strip()}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            if wanted is not None and ep.name not in wanted:
                if ep.name not in self.skipped:
                    self.skipped.append(ep.name)
                    self.dists.setdefault(ep.name, (dist_name, version))
                    self.modules.setdefault(ep.name, ep.value)
                continue
            if ep.name in seen:
                if seen[ep.name] == dist_name:
                    continue  # the same distribution seen twice on sys.path
                self.report(PluginProblem(
                    ep.name, "conflict",
                    f"entry point name is used by both {seen[ep.name]!r} and {dist_name!r}; uninstall one of them",
                ))
                continue
            seen[ep.name] = dist_name or "?"
            self.dists[ep.name] = (dist_name, version)
            start = time.perf_counter()
            try:
                plugin = ep.load()
            except Exception as exc:
                self.report(PluginProblem(
                    ep.name, "import", f"Error importing plugin {ep.name!r} ({ep.value}): {type(exc).__name__}: {exc}", exc
                ))
                continue
            log.debug("loaded plugin %s in %.1f ms", ep.name, (time.perf_counter() - start) * 1000)
            self.register(plugin, ep.name, module=ep.value)
        if wanted is not None:
            for missing in sorted(wanted - set(seen)):
                self.report(PluginProblem(missing, "import", "is named in TOM_LOAD_PLUGINS but no such plugin is installed"))

    def check_hooks(self) -> None:
        """Report hook implementations that match no spec (a misspelled hook name)."""
        for hook_name in sorted(vars(self.pm.hook)):
            caller = getattr(self.pm.hook, hook_name)
            if hook_name.startswith("_") or not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if getattr(impl, "optionalhook", False):
                    continue
                self.report(PluginProblem(
                    impl.plugin_name, "validate",
                    f"implements {hook_name!r}, which is not a tom hook (misspelled?)",
                ))
        if self.strict:
            self.pm.check_pending()

    # -- calling hooks -------------------------------------------------------------------------

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any, BaseException | None]]:
        """Call every implementation of a hook on its own; collect results and errors.

        Returns ``(plugin name, result, exception)`` for each implementation, in pluggy's
        call order. Errors are not reported here; callers decide.
        """
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        results: list[tuple[str, Any, BaseException | None]] = []
        for impl in reversed(caller.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            args = {k: kwargs[k] for k in impl.argnames}
            if self.trace:
                print(f"[tom] {hook_name} -> {impl.plugin_name}", file=sys.stderr)
            try:
                results.append((impl.plugin_name, impl.function(**args), None))
            except Exception as exc:
                results.append((impl.plugin_name, None, exc))
        return results

    def add_commands(self, cli: Any) -> None:
        """Call each plugin's ``register_commands(cli)`` on its own: a failing one is
        reported by name; the commands each adds are recorded (``tom plugins`` shows them).

        A command name is its first owner's: a plugin adding a command the core (or a
        plugin registered before it) has is an error naming both, and the first one stays.
        """
        caller: pluggy.HookCaller = self.pm.hook.register_commands
        self.commands = {}  # of this command line (a host may serve several)
        owners: dict[str, str] = dict.fromkeys(getattr(cli, "lazy", {}), "tomcore")
        owners.update(dict.fromkeys(cli.commands, "tomcore"))
        for impl in caller.get_hookimpls():  # in the order plugins were registered
            if impl.hookwrapper or impl.wrapper:
                continue
            plugin = impl.plugin_name
            before = dict(cli.commands)
            if self.trace:
                print(f"[tom] register_commands -> {plugin}", file=sys.stderr)
            try:
                impl.function(**{k: cli for k in impl.argnames})
            except Exception as exc:
                self.report(PluginProblem(plugin, "register_commands",
                                          f"failed in register_commands: {type(exc).__name__}: {exc}", exc))
            for name, command in list(cli.commands.items()):
                if before.get(name) is command:
                    continue
                owner = owners.get(name)
                if owner is None:
                    owners[name] = plugin
                    self.commands.setdefault(plugin, []).append(name)
                    continue
                if name in before:
                    cli.commands[name] = before[name]
                else:
                    del cli.commands[name]  # the core's lazy command stays
                self.report(PluginProblem(plugin, "conflict", f"command {name!r} is registered by both {owner!r} "
                                          f"and {plugin!r}; {owner!r} keeps it"))
            for name in set(before) - set(cli.commands):  # a plugin must not remove others' commands
                cli.commands[name] = before[name]

    def emit(self, event: str, **kwargs: Any) -> list[PluginProblem]:
        """Fan an ``on_*`` event out to every plugin; report (not raise) failing ones."""
        problems = []
        for plugin, _result, exc in self.call_each(event, **kwargs):
            if exc is not None:
                problem = PluginProblem(plugin, event, f"failed in {event}: {type(exc).__name__}: {exc}", exc)
                problems.append(problem)
                self.report(problem)
        return problems

    # -- registries ----------------------------------------------------------------------------

    def set_binder(self, binder: Callable[[str, Any, str], None] | None) -> None:
        """``binder(kind, obj, plugin)`` is called for each registered object (the TOM binds
        configuration to components with it)."""
        self._binder = binder
        self._registries.clear()

    def registry(self, kind: str) -> Registry[Any]:
        """The objects of ``kind`` (``"brokers"``, ``"facilities"``...), collected once."""
        if kind in self._registries:
            return self._registries[kind]
        hook_name, noun = KINDS[kind]
        registry: Registry[Any] = Registry(kind, noun)
        self._registries[kind] = registry
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        # Built-ins first so that third-party plugins replace them.
        impls = sorted(caller.get_hookimpls(), key=lambda i: i.plugin_name not in self.builtin_names)
        for impl in impls:
            plugin = impl.plugin_name
            builtin = plugin in self.builtin_names
            pending: list[Any] = []

            def register(obj: Any, _pending: list[Any] = pending) -> None:
                _pending.append(obj)

            try:
                impl.function(**{k: register for k in impl.argnames})
                for obj in pending:
                    name = getattr(obj, "name", "")
                    if self._binder is not None:
                        self._binder(kind, obj, plugin)
                    for problem in registry.add(name, obj, plugin, builtin, self.builtin_names):
                        self.report(problem)
            except PluginError:
                raise
            except Exception as exc:
                self.report(PluginProblem(plugin, hook_name, f"failed in {hook_name}: {type(exc).__name__}: {exc}", exc))
        return registry

    def collect_all(self) -> None:
        for kind in KINDS:
            self.registry(kind)

    # -- description ---------------------------------------------------------------------------

    def infos(self, include_builtins: bool = False) -> list[PluginInfo]:
        """One :class:`PluginInfo` per plugin (registered or failed), for ``tom plugins``."""
        self.collect_all()
        names: dict[str, None] = {}
        for name, _plugin in self.pm.list_name_plugin():
            names[name] = None
        for problem in self.problems:
            names.setdefault(problem.plugin, None)
        infos = []
        for name in names:
            builtin = name in self.builtin_names
            if builtin and not include_builtins:
                continue
            plugin = self.pm.get_plugin(name)
            dist, version = self.dists.get(name, (None, None))
            if builtin:
                from tomcore import __version__

                dist, version = "tomcore", __version__
            hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or []) if plugin is not None else []
            registered = {}
            if plugin is not None:
                for kind in KINDS:
                    items = self._registries[kind].by_plugin(name)
                    if items:
                        registered[kind] = items
                if self.commands.get(name):
                    registered["commands"] = list(self.commands[name])
            infos.append(PluginInfo(
                name=name, builtin=builtin, module=self.modules.get(name), distribution=dist, version=version,
                hooks=hooks, registered=registered, errors=[p.message for p in self.problems_of(name)],
                loaded=plugin is not None,
            ))
        for name in self.skipped:
            if name not in names:
                dist, version = self.dists.get(name, (None, None))
                infos.append(PluginInfo(name=name, builtin=False, module=self.modules.get(name), distribution=dist,
                                        version=version, loaded=False, skipped=True))
        return sorted(infos, key=lambda i: (i.builtin, i.name))


def build_plugin_host(
    *,
    env: Mapping[str, str] | None = None,
    strict: bool | None = None,
    load_entry_points: bool = True,
    builtins: tuple[str, ...] = BUILTIN_PLUGINS,
    extra: Mapping[str, object] | None = None,
) -> PluginHost:
    """Make a fresh plugin host: built-ins, then installed plugins, then ``extra`` objects.

    :param env: where ``TOM_LOAD_PLUGINS``, ``TOM_STRICT_PLUGINS`` and
        ``TOM_TRACE_PLUGINS`` are read (default ``os.environ``).
    :param strict: make every plugin problem fatal (default from ``TOM_STRICT_PLUGINS``).
    :param load_entry_points: False loads no installed plugin (tests of the core).
    :param extra: more plugin objects to register, by name (tests and embedding).
    """
    env = os.environ if env is None else env
    host = PluginHost(strict=_env_flag(env, "TOM_STRICT_PLUGINS") if strict is None else strict)
    host.trace = _env_flag(env, "TOM_TRACE_PLUGINS")
    host.load_builtins(builtins)
    if load_entry_points:
        only = None
        if "TOM_LOAD_PLUGINS" in env:
            only = [n for n in env["TOM_LOAD_PLUGINS"].split(",") if n.strip()]
        host.load_entry_points(only)
    for name, plugin in (extra or {}).items():
        host.register(plugin, name)
    host.check_hooks()
    return host
