"""What every registered object has in common, and the declaration of user parameters.

A *component* is an object a plugin hands to the core through a ``register_*`` hook: a
broker, a catalog, a facility, a storage backend, a processor, a notifier, a cadence
strategy. It has a ``name`` (how users pick it), optional ``settings`` it reads from its
section of the configuration, and after registration the core binds ``config`` (the
effective values of those settings) and ``plugin_name`` (who registered it).

:class:`Param` declares a user-facing parameter (a broker's query options, a facility's
observation options). The CLI builds its options from them and :func:`validate_params`
checks values and converts them, reporting every bad field at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from tomcore.config import Setting
from tomcore.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.config import SectionView
    from tomcore.http import HttpClient

__all__ = ["Component", "Param", "Setting", "validate_params"]


class Component:
    """Base class of every registered object.

    Subclasses set the class attributes; the core sets ``config`` and ``plugin_name``.
    """

    #: How users and the configuration refer to it: lower case, no spaces (``"alerce"``).
    name: ClassVar[str] = ""
    #: A human title (``"ALeRCE"``), used in messages and error texts.
    title: ClassVar[str] = ""
    #: One line saying what it is.
    description: ClassVar[str] = ""
    #: The settings it reads, from ``[plugins.<section>]`` and ``TOM_<SECTION>_<KEY>``.
    settings: ClassVar[tuple[Setting, ...]] = ()
    #: The configuration section; defaults to ``name``.
    config_section: ClassVar[str | None] = None

    plugin_name: str = ""
    _config: SectionView | None = None

    @property
    def config(self) -> SectionView:
        """The effective values of this component's settings (bound at registration)."""
        if self._config is None:
            raise RuntimeError(f"{type(self).__name__} {self.name!r} has no configuration yet: it is bound "
                               "when a TOM collects its plugins (tom.components...)")
        return self._config

    @property
    def display_name(self) -> str:
        return self.title or self.name

    @property
    def section_name(self) -> str:
        return self.config_section or self.name

    def bind(self, config: SectionView, plugin_name: str) -> None:
        """Called by the core after registration. Override to set up, but call super()."""
        self._config = config
        self.plugin_name = plugin_name

    def http_client(self, base_url: str, *, service: str | None = None, **options: Any) -> HttpClient:
        """An :class:`tomcore.http.HttpClient` for this component's service.

        Timeouts and retries come from the component's own settings when it declares
        ``timeout``/``retries``/``backoff``, else from the ``[http]`` section.
        """
        from tomcore.http import HttpClient

        http = self.config.settings.section("http", plugin=False)
        defaults: dict[str, Any] = {
            "timeout": http["timeout"],
            "connect_timeout": http["connect_timeout"],
            "retries": http["retries"],
            "backoff": http["backoff"],
            "max_retry_after": http["max_retry_after"],
        }
        for key in defaults:
            if key in self.config and self.config.get(key) is not None:
                defaults[key] = self.config[key]
        defaults.update(options)
        return HttpClient(service or self.display_name, base_url, **defaults)


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

PARAM_TYPES = ("str", "int", "float", "bool", "datetime", "json")


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_float(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "int": lambda v: int(str(v).strip()) if not isinstance(v, int) or isinstance(v, bool) else v,
    "float": _parse_float,
    "bool": _parse_bool,
    "datetime": _parse_datetime,
    "json": lambda v: json.loads(v) if isinstance(v, (str, bytes)) else v,
}


@attrs.frozen
class Param:
    """A parameter users give: a broker query option, an observation option...

    :param name: the identifier (``firstmjd_min``); the CLI option is ``--firstmjd-min``
        unless ``cli`` says otherwise.
    :param type: one of ``str``, ``int``, ``float``, ``bool``, ``datetime`` (ISO 8601, UTC
        when no offset is given), ``json``.
    :param choices: the allowed values, checked before anything is sent.
    :param multiple: the parameter may be given several times; its value is a list.
    :param minimum, maximum: bounds for numbers, checked before anything is sent.
    """

    name: str
    type: str = attrs.field(default="str", validator=attrs.validators.in_(PARAM_TYPES))
    help: str = ""
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] | None = None
    multiple: bool = False
    minimum: float | None = None
    maximum: float | None = None
    cli: str | None = None
    metavar: str | None = None

    @property
    def option(self) -> str:
        return self.cli or "--" + self.name.replace("_", "-")

    def convert(self, value: Any) -> Any:
        """Convert and check one value; raise ``ValueError`` with a reason."""
        if self.multiple and isinstance(value, (list, tuple)):
            return [self._convert_one(v) for v in value]
        converted = self._convert_one(value)
        return [converted] if self.multiple else converted

    def _convert_one(self, value: Any) -> Any:
        try:
            converted = _PARSERS[self.type](value)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            reason = str(exc) if self.type in {"float", "bool"} else f"not a valid {self.type}"
            raise ValueError(f"{value!r} is {reason}" if not reason.startswith("must") else f"{value!r}: {reason}") from None
        if self.choices is not None and converted not in self.choices:
            raise ValueError(f"{converted!r} is not one of: {', '.join(map(str, self.choices))}")
        if self.minimum is not None and converted < self.minimum:
            raise ValueError(f"{converted} is below the minimum {self.minimum}")
        if self.maximum is not None and converted > self.maximum:
            raise ValueError(f"{converted} is above the maximum {self.maximum}")
        return converted


def validate_params(
    declared: Sequence[Param], values: Mapping[str, Any], *, what: str = "parameters", allow_unknown: bool = False
) -> dict[str, Any]:
    """Check ``values`` against ``declared``; return the converted values with defaults.

    Raises :class:`tomcore.errors.ValidationError` listing every bad or missing parameter.
    Values that are ``None`` (or empty lists) count as not given.
    """
    by_name = {p.name: p for p in declared}
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        param = by_name.get(key)
        if param is None:
            if allow_unknown:
                result[key] = value
            else:
                errors.setdefault(key, []).append(f"unknown parameter; known: {', '.join(sorted(by_name)) or 'none'}")
            continue
        try:
            result[key] = param.convert(value)
        except ValueError as exc:
            errors.setdefault(key, []).append(str(exc))
    for param in declared:
        if param.name in result or param.name in errors:
            continue
        if param.required:
            errors.setdefault(param.name, []).append("is required")
        elif param.default is not None:
            result[param.name] = param.default
    if errors:
        raise ValidationError(f"invalid {what}", errors)
    return result
