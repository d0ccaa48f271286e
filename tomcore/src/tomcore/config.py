"""Settings: declared keys, their sources and their precedence.

Precedence, highest first: a command-line option, a ``TOM_<SECTION>_<KEY>`` environment
variable, the TOM's ``tom.toml``, the declared default.

Core sections live at the top level of ``tom.toml`` (``[database]``, ``[storage]``...). A
plugin component reads its own section, ``[plugins.<section>]``, and the variables
``TOM_<SECTION>_<KEY>``; the component declares its keys with :class:`Setting` so that
``tom config show`` can list them, convert their types and mask the secret ones.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from tomcore.errors import ConfigError

CONFIG_FILE = "tom.toml"
MASK = "********"

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|credential|private)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
#: A secret in a URL's query (``?password=``, ``&sslpassword=``, ``?token=``, ``X-Amz-Signature=``...).
_QUERY_SECRET = re.compile(
    r"(?P<key>[?&;][^=&;\s#]*(?:password|passwd|secret|token|api_?key|credential|private|signature)[^=&;\s#]*)="
    r"(?P<value>[^&;\s#'\"]+)", re.IGNORECASE)


def _mask_urls(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['key']}={MASK}", text)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _to_float(value: Any) -> float:
    number = float(value)
    if math.isnan(number):
        raise ValueError("NaN is not allowed")
    return number


def _to_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "int": int,
    "float": _to_float,
    "bool": _to_bool,
    "list": _to_list,
    "path": lambda v: str(Path(str(v)).expanduser()),
    "any": lambda v: v,
}


@attrs.frozen
class Setting:
    """One declared setting of a section.

    :param key: the key in ``tom.toml`` (``base_url``); the environment variable is
        ``TOM_<SECTION>_<KEY>`` in upper case.
    :param type: ``str``, ``int``, ``float``, ``bool``, ``list`` (comma list in the
        environment), ``path`` or ``any`` (tables, kept as read from ``tom.toml``).
    :param secret: mask the value in ``tom config show`` and never log it. Keys that look
        secret (``*token*``, ``*password*``, ``*api_key*``...) are masked anyway.
    :param env: extra environment variables consulted after ``TOM_<SECTION>_<KEY>``, for
        conventions users already follow (``AWS_ENDPOINT_URL``).
    """

    key: str
    default: Any = None
    type: str = "str"
    help: str = ""
    secret: bool = False
    env: tuple[str, ...] = ()
    choices: tuple[Any, ...] | None = None

    def convert(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        try:
            converted = _CONVERTERS[self.type](value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: {exc}" if "expected" in str(exc) else f"{where}: cannot use {value!r} as {self.type} ({exc})") from None
        if self.choices is not None and converted not in self.choices:
            raise ConfigError(f"{where}: {converted!r} is not one of {', '.join(map(str, self.choices))}")
        return converted

    @property
    def is_secret(self) -> bool:
        return self.secret or bool(_SECRET_KEY.search(self.key))


# Settings of the core itself. Areas add their sections here; every key is documented in
# docs/configuration.md (a test checks it).
CORE_SETTINGS: dict[str, tuple[Setting, ...]] = {
    "tom": (
        Setting("name", "My TOM", help="The TOM's name, shown in notifications and exports."),
    ),
    "database": (
        Setting("url", None, help="SQLAlchemy URL. Default: the SQLite file tom.db in the TOM's home. "
                "PostgreSQL: postgresql+psycopg://user:password@host/dbname"),
    ),
    "storage": (
        Setting("url", None, help="Where data products are stored, as an fsspec URL. Default: the data/ "
                "directory in the TOM's home. s3://bucket/prefix with tom-storage-s3."),
    ),
    "matcher": (
        Setting("radius_arcsec", 2.0, "float", help="Two targets closer than this are the same object."),
    ),
    "alerts": (
        Setting("since_overlap_hours", 24.0, "float", help="A saved query's run asks brokers for data newer than "
                "the start of its last successful run less this many hours (brokers publish late alerts)."),
    ),
    "observations": (
        Setting("batch_size", 500, "int", help="Requests asked about in one status call to a facility."),
        Setting("data_hours", 48.0, "float", help="Hours after a request completes during which new files of it "
                "are looked for (archives publish reduced frames late)."),
    ),
    "cadences": (
        Setting("max_errors", 10, "int", help="A cadence whose epoch could not be submitted (service errors) this "
                "many rounds in a row ends as failed."),
    ),
    "runner": (
        Setting("steps", None, "list", help="Steps tom run runs (default: alerts, lightcurves, status, cadences, data, "
                "notify)."),
        Setting("tick", 30.0, "float", help="Seconds tom run sleeps between looks at which steps are due."),
        Setting("lease", 1800.0, "float", help="Seconds a step is held by the runner running it (a runner that "
                "dies frees its steps after this)."),
        Setting("alerts_interval", 3600.0, "float", help="Seconds between runs of the saved broker queries."),
        Setting("lightcurves_interval", 86400.0, "float", help="Seconds between refreshes of the light curves of "
                "broker objects already in the TOM (tom alerts update)."),
        Setting("status_interval", 600.0, "float", help="Seconds between observation status updates."),
        Setting("cadences_interval", 600.0, "float", help="Seconds between advances of the cadences."),
        Setting("data_interval", 1800.0, "float", help="Seconds between downloads of new data."),
        Setting("notify_interval", 900.0, "float", help="Seconds between retries of failed notifications."),
    ),
    "notify": (
        Setting("enabled", True, "bool", help="Send notifications (false mutes every channel)."),
        Setting("digest_after", 5, "int", help="More notifications than this for one channel at once are "
                "sent as one digest."),
    ),
    "http": (
        Setting("timeout", 30.0, "float", help="Seconds to wait for a service's answer."),
        Setting("connect_timeout", 10.0, "float", help="Seconds to wait for a connection."),
        Setting("retries", 3, "int", help="Retries on 429, 5xx and connection errors."),
        Setting("backoff", 0.5, "float", help="Exponential backoff factor between retries, seconds."),
        Setting("max_retry_after", 60.0, "float", help="Longest Retry-After (seconds) honoured."),
    ),
    "planning": (
        Setting("facility", None, help="Facility whose sites `tom plan` uses when given none (e.g. lco)."),
        Setting("sites", [], "any", help="Site codes or LAT,LON,ELEV used when given none: a list in tom.toml, "
                "separated by ';' in the environment."),
        Setting("max_airmass", 2.0, "float", help="Highest airmass a target is observable at."),
        Setting("min_moon_separation", 30.0, "float", help="Degrees a target must keep from the Moon (0: no limit)."),
        Setting("max_moon_illumination", 1.0, "float", help="On nights when the Moon is more illuminated than this "
                "fraction, targets are observable only while it is down (1: no limit)."),
        Setting("twilight", "astronomical", choices=("astronomical", "nautical", "civil"),
                help="The night runs between the ends of this twilight."),
        Setting("step_minutes", 5.0, "float", help="Spacing of the time grid a night is sampled on."),
    ),
}


def mask_value(key: str, value: Any, secret: bool = False) -> Any:
    """Return ``value`` fit for printing: secrets masked, passwords in URLs masked."""
    if value is None:
        return None
    if secret or _SECRET_KEY.search(key):
        return MASK if value != "" else ""
    if isinstance(value, str):
        return _mask_urls(value)
    return value


def mask_text(text: str) -> str:
    """Mask passwords and secret query parameters of URLs inside free text (error
    messages, logs)."""
    return _mask_urls(text)


def env_name(section: str, key: str) -> str:
    return f"TOM_{section}_{key}".upper().replace("-", "_").replace(".", "_")


@attrs.frozen
class ResolvedSetting:
    section: str
    key: str
    value: Any
    source: str  # "option", "env:NAME", "file", "default"
    setting: Setting
    plugin: bool = False

    @property
    def display_value(self) -> Any:
        return mask_value(self.key, self.value, self.setting.is_secret)


class Settings:
    """The effective settings of one TOM (or of no TOM: defaults and environment only).

    :param home: the TOM's home directory, or None when running outside a TOM.
    :param data: the parsed ``tom.toml``.
    :param env: the environment to read ``TOM_*`` variables from.
    :param overrides: values from command-line options, keyed ``(section, key)``.
    """

    def __init__(
        self,
        home: Path | None = None,
        data: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[tuple[str, str], Any] | None = None,
    ) -> None:
        self.home = home
        self.data: dict[str, Any] = dict(data or {})
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}

    @classmethod
    def load(
        cls,
        home: Path | None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[tuple[str, str], Any] | None = None,
    ) -> Settings:
        data: dict[str, Any] = {}
        if home is not None:
            path = home / CONFIG_FILE
            try:
                with path.open("rb") as fh:
                    data = tomllib.load(fh)
            except FileNotFoundError:
                data = {}
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: {exc}") from None
        return cls(home, data, env, overrides)

    # -- raw lookups ---------------------------------------------------------------------------

    def _file_section(self, section: str, plugin: bool) -> Mapping[str, Any]:
        table = self.data.get("plugins", {}) if plugin else self.data
        value = table.get(section, {}) if isinstance(table, Mapping) else {}
        return value if isinstance(value, Mapping) else {}

    def resolve(self, section: str, setting: Setting, plugin: bool = False) -> ResolvedSetting:
        key = setting.key
        where_file = f"{CONFIG_FILE} [{'plugins.' if plugin else ''}{section}] {key}"
        if (section, key) in self.overrides:
            value = setting.convert(self.overrides[(section, key)], f"option for {section}.{key}")
            return ResolvedSetting(section, key, value, "option", setting, plugin)
        for name in (env_name(section, key), *setting.env):
            if name in self.env:
                value = setting.convert(self.env[name], name)
                return ResolvedSetting(section, key, value, f"env:{name}", setting, plugin)
        file_section = self._file_section(section, plugin)
        if key in file_section:
            return ResolvedSetting(section, key, setting.convert(file_section[key], where_file), "file", setting, plugin)
        return ResolvedSetting(section, key, setting.default, "default", setting, plugin)

    def get(self, section: str, key: str) -> Any:
        """The effective value of a core setting (``settings.get("database", "url")``)."""
        try:
            setting = next(s for s in CORE_SETTINGS[section] if s.key == key)
        except (KeyError, StopIteration):
            raise KeyError(f"undeclared core setting {section}.{key}") from None
        return self.resolve(section, setting).value

    def section(self, name: str, declared: Sequence[Setting] = (), plugin: bool = True) -> SectionView:
        """A view of one section: declared keys resolved with precedence, others from the file."""
        if not plugin and not declared:
            declared = CORE_SETTINGS.get(name, ())
        return SectionView(self, name, tuple(declared), plugin)

    def table(self, section: str, plugin: bool = False) -> Mapping[str, Any]:
        """The raw table of a section as written in ``tom.toml`` (for structured settings
        such as notification rules)."""
        return self._file_section(section, plugin)

    def effective(self, plugin_sections: Mapping[str, Sequence[Setting]] = {}) -> list[ResolvedSetting]:
        """Every declared setting with its effective value and source, core first."""
        rows = [self.resolve(name, s) for name, settings in CORE_SETTINGS.items() for s in settings]
        for name in sorted(plugin_sections):
            declared = plugin_sections[name]
            rows += [self.resolve(name, s, plugin=True) for s in declared]
            known = {s.key for s in declared}
            for key, value in self._file_section(name, True).items():
                if key not in known:
                    rows.append(ResolvedSetting(name, key, value, "file", Setting(key, type="any"), True))
        return rows


class SectionView(Mapping[str, Any]):
    """The settings of one section, as a read-only mapping of key to effective value."""

    def __init__(self, settings: Settings, name: str, declared: tuple[Setting, ...], plugin: bool) -> None:
        self.settings = settings
        self.name = name
        self.declared = {s.key: s for s in declared}
        self.plugin = plugin

    def _keys(self) -> list[str]:
        return list(dict.fromkeys([*self.declared, *self.settings._file_section(self.name, self.plugin)]))

    def __getitem__(self, key: str) -> Any:
        setting = self.declared.get(key)
        if setting is None:
            file_section = self.settings._file_section(self.name, self.plugin)
            setting = Setting(key, type="any")
            if key not in file_section and env_name(self.name, key) not in self.settings.env:
                raise KeyError(key)
        return self.settings.resolve(self.name, setting, self.plugin).value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def require(self, key: str) -> Any:
        """The value of ``key``, or a :class:`ConfigError` saying how to set it."""
        value = self.get(key)
        if value in (None, ""):
            where = f"[plugins.{self.name}]" if self.plugin else f"[{self.name}]"
            raise ConfigError(
                f"{self.name}: the setting {key!r} is not set; set {env_name(self.name, key)} "
                f"or add `{key} = ...` under {where} in {CONFIG_FILE}"
            )
        return value

    def source(self, key: str) -> str:
        setting = self.declared.get(key, Setting(key, type="any"))
        return self.settings.resolve(self.name, setting, self.plugin).source

    def masked(self) -> dict[str, Any]:
        return {k: mask_value(k, self.get(k), self.declared.get(k, Setting(k)).is_secret) for k in self}

    def __repr__(self) -> str:  # never show secrets, even in a debugger or a traceback
        return f"<SectionView {self.name} {self.masked()!r}>"
