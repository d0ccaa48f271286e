"""The exceptions tomcore and its plugins raise for people to read.

Every error a user can cause or fix (bad input, a missing TOM, a service that gave up) is a
:class:`TomError`. The CLI prints its message on one line and exits with status 1; anything
else is a bug and gets a traceback under ``--debug``. Plugins raise these too: a broker that
cannot reach its service raises :class:`ServiceError`, a facility that refuses a request
raises :class:`ValidationError` with the fields at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class TomError(Exception):
    """Base class of every error meant for the user. ``str(error)`` is the whole message."""


class ConfigError(TomError):
    """A setting is missing or has a value that cannot be used."""


class NoTomError(TomError):
    """No TOM was found for a command that needs one."""


class PluginError(TomError):
    """A plugin failed to load, to register, or clashed with another plugin."""

    def __init__(self, message: str, plugins: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.plugins = tuple(plugins)


class UnknownComponentError(TomError):
    """A broker, catalog, facility... was asked for by a name nobody registered."""


class NotFoundError(TomError):
    """A record (target, list, observation, data product, saved query...) does not exist."""


class DuplicateError(TomError):
    """Creating a record would duplicate one that exists (a target matched by name or position)."""


class ValidationError(TomError):
    """Input was rejected. ``errors`` maps a field (or ``"line 12, column dec"``) to its reasons.

    The message lists every error, one per line after the first, so nothing is hidden.
    """

    def __init__(self, message: str, errors: Mapping[str, Sequence[str] | str] | None = None) -> None:
        self.errors: dict[str, list[str]] = {
            key: [value] if isinstance(value, str) else list(value) for key, value in (errors or {}).items()
        }
        self.summary = message
        detail = "".join(
            f"\n  {key}: {'; '.join(reasons)}" for key, reasons in self.errors.items()
        )
        super().__init__(message + detail)


class ServiceError(TomError):
    """An external service failed or gave up after its retries.

    ``service`` is its human name ("ALeRCE", "LCO portal"), ``status`` the last HTTP status if
    there was one. The message never contains credentials.
    """

    def __init__(self, service: str, message: str, *, status: int | None = None, url: str | None = None) -> None:
        self.service = service
        self.status = status
        self.url = url
        super().__init__(f"{service}: {message}")


class StorageError(TomError):
    """Data product storage failed: access denied, a missing bucket or directory, a file
    that is not where its record says, a checksum that does not match. The message names
    the storage and never contains credentials."""


class AuthenticationError(ServiceError):
    """The service refused our credentials (a 401 or 403)."""


class AmbiguousError(TomError):
    """A term matched several things and the user must choose; ``candidates`` lists them
    as ``(identifier, description)`` pairs, shown one per line."""

    def __init__(self, message: str, candidates: Sequence[tuple[str, str]] = ()) -> None:
        self.candidates = list(candidates)
        self.summary = message
        lines = "".join(f"\n  {ident}  {desc}".rstrip() for ident, desc in self.candidates)
        super().__init__(message + lines)
