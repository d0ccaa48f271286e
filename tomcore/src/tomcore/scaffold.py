"""Generate a new plugin distribution from the templates in ``tomcore/templates/plugin``.

``tom plugin new NAME KIND`` calls :func:`new_plugin`. The generated plugin is complete: a
pyproject with its ``tom`` entry point and test extra, a README, the component (or event
hooks), a fake of its service where it talks to one, and tests that pass as generated.
"""

from __future__ import annotations

import re
import string
from importlib.resources import files
from pathlib import Path

import attrs

from tomcore import __version__
from tomcore.errors import TomError, ValidationError


@attrs.frozen
class Kind:
    hook: str
    module: str  # the module holding the component
    suffix: str  # class name suffix
    help: str


KINDS: dict[str, Kind] = {
    "broker": Kind("register_brokers", "broker", "Broker", "an alert broker queried over HTTP"),
    "catalog": Kind("register_catalogs", "catalog", "Catalog", "a catalog resolving names over HTTP"),
    "processor": Kind("register_data_processors", "processor", "Processor", "a data processor for a file format"),
    "notifier": Kind("register_notifiers", "notifier", "Notifier", "a notification channel posting JSON"),
    "cadence": Kind("register_cadence_strategies", "cadence", "Cadence", "a cadence strategy"),
    "facility": Kind("register_facilities", "facility", "Facility", "an observing facility with an HTTP API"),
    "storage": Kind("register_storage", "storage", "Storage", "a storage backend for a URL scheme"),
    "events": Kind("", "events", "", "event hooks reacting to new targets and data"),
}

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@attrs.frozen
class NewPlugin:
    directory: Path
    distribution: str
    package: str
    files: list[Path]


def _variables(name: str, kind: str) -> dict[str, str]:
    spec = KINDS[kind]
    words = name.split("-")
    camel = "".join(w.capitalize() for w in words)
    distribution = f"tom-{kind}-{name}" if kind != "events" else f"tom-{name}"
    package = distribution.replace("-", "_")
    return {
        "name": name,
        "name_env": name.upper().replace("-", "_"),
        "name_snake": name.replace("-", "_"),
        "kind": kind,
        "distribution": distribution,
        "package": package,
        "class_name": camel + spec.suffix,
        "title": " ".join(w.capitalize() for w in words),
        "hook": spec.hook,
        "module": spec.module,
        "kind_help": spec.help,
        # The full version: a development tomcore (0.1.0.dev0) does not satisfy ">=0.1.0", and
        # pip would then look for a tomcore on the index instead of using the installed one.
        "tomcore_version": __version__,
    }


def new_plugin(name: str, kind: str, directory: Path) -> NewPlugin:
    """Write a new plugin called ``name`` of ``kind`` into ``directory/<distribution>``."""
    if kind not in KINDS:
        raise ValidationError("unknown plugin kind", {"KIND": [f"{kind!r} is not one of {', '.join(KINDS)}"]})
    if not _NAME.match(name):
        raise ValidationError("invalid plugin name", {"NAME": [
            f"{name!r}: use lower-case letters, digits and single hyphens, starting with a letter"]})
    variables = _variables(name, kind)
    target = directory / variables["distribution"]
    if target.exists() and any(target.iterdir()):
        raise TomError(f"{target} exists and is not empty; choose another name or directory")
    root = files("tomcore") / "templates" / "plugin"
    written: list[Path] = []
    for source_dir in (root / "common", root / kind):
        for relative, template in _walk(source_dir):
            path = target / string.Template(relative).substitute(variables).removesuffix(".tmpl")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(string.Template(template).substitute(variables), encoding="utf-8")
            written.append(path)
    return NewPlugin(target, variables["distribution"], variables["package"], sorted(written))


def _walk(directory: object, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):  # type: ignore[attr-defined]
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found += _walk(entry, relative + "/")
        elif entry.name.endswith(".tmpl"):
            found.append((relative, entry.read_text(encoding="utf-8")))
    return found
