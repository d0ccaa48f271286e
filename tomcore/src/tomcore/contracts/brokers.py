"""The broker contract: what an alert-broker plugin implements.

A broker declares its query parameters (:class:`tomcore.contracts.base.Param`: name, type,
help, allowed values, bounds); the CLI builds ``tom alerts query BROKER`` options from them
and the core validates values before the broker sees them. A broker then

* runs a query, yielding pages of :class:`~tomcore.domain.alerts.Alert` (``query``),
* fetches one object (``fetch``) and its light curve, detections and upper limits
  (``light_curve``; ``light_curves`` for many, concurrently),
* may list the live allowed values of a parameter (``choices``: ALeRCE's classifiers,
  ANTARES' tags).

Ingestion (matching alerts to targets, storing light curves with provenance, saved queries,
idempotence, one transaction per page, events) is the core's job
(:mod:`tomcore.services.alerts`), never the plugin's.

Errors: a service that fails or gives up raises :class:`tomcore.errors.ServiceError` (the
:class:`tomcore.http.HttpClient` does this); an object the broker does not know raises
:class:`tomcore.errors.NotFoundError`; a query the broker rejects raises
:class:`tomcore.errors.ValidationError` naming the parameter. A single record that cannot be
read (malformed JSON, a missing field, NaN where a number is needed) is never raised out of
a query: it goes to the page's ``problems`` with its object id; ``light_curve`` raises
:class:`BadRecord` for it, and the core reports and skips that object's light curve.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar

import attrs

from tomcore.config import Setting
from tomcore.contracts.base import Component, Param
from tomcore.domain.alerts import Alert, AlertPage
from tomcore.domain.data import PhotometryPoint
from tomcore.errors import NotFoundError, TomError, ValidationError

__all__ = ["RESERVED_PARAMS", "BadRecord", "Broker", "Choice", "LightCurves"]

#: Names a broker parameter may not take: they are the options every query command has.
RESERVED_PARAMS = frozenset({"limit", "json", "ingest", "help", "replace", "name", "broker", "all", "since", "list",
                             "target_list"})


class BadRecord(TomError):
    """One record of a broker's answer cannot be read (malformed JSON, a missing field, a
    NaN where a number is needed). The message names the object id and the reason; the
    core reports it and skips the record."""


@attrs.frozen
class Choice:
    """A live allowed value of a parameter, with a description (``"SNIa"``, ``"lc_classifier
    hierarchical_random_forest_1.1.0"``)."""

    value: str
    description: str = ""


@attrs.define
class LightCurves:
    """Light curves of many objects: ``points`` by object id, and one message per object
    whose light curve could not be read (it is then absent from ``points``)."""

    points: dict[str, list[PhotometryPoint]] = attrs.Factory(dict)
    problems: list[str] = attrs.Factory(list)


class Broker(Component):
    """Base class of alert brokers.

    Subclasses set ``name``, ``title``, ``description``, ``params`` and ``settings``, and
    implement :meth:`query`, :meth:`fetch` and :meth:`light_curve`.
    """

    #: The parameters ``query`` accepts (their names must avoid :data:`RESERVED_PARAMS`).
    params: ClassVar[tuple[Param, ...]] = ()
    #: True when ``query`` honours ``since`` (only objects with new data since then), so a
    #: saved query asks only for what changed since its last run.
    supports_since: ClassVar[bool] = False
    #: Parameters whose allowed values :meth:`choices` can list live from the service.
    live_choices: ClassVar[tuple[str, ...]] = ()
    #: The score an alert carries, in words ("class probability").
    score_description: ClassVar[str] = ""
    #: Settings every broker has, besides its own.
    common_settings: ClassVar[tuple[Setting, ...]] = (
        Setting("workers", 4, "int", help="Light curves fetched at once during an ingest."),
    )

    # -- what a plugin implements ---------------------------------------------------------------

    def query(self, params: Mapping[str, Any], *, limit: int | None = None,
              since: datetime | None = None) -> Iterator[AlertPage]:
        """Run a query; yield pages of alerts until the results (or ``limit`` alerts) end.

        ``params`` are already validated against :attr:`params` (and :meth:`check`).
        ``since`` (when :attr:`supports_since`) asks only for objects with data newer than
        that time. Records that cannot be parsed are not raised: they go to the page's
        ``problems`` with their object id. Alerts normally come without light curves
        (``light_curve is None``); the core fetches them when it ingests.
        """
        raise NotImplementedError

    def fetch(self, object_id: str) -> Alert:
        """One object by its broker id, with its light curve (``alert.light_curve`` set).

        Raises :class:`NotFoundError` when the broker does not know it.
        """
        raise NotImplementedError

    def light_curve(self, object_id: str) -> list[PhotometryPoint]:
        """Detections (``mag``, ``mag_err``) and upper limits (``limit``, no ``mag``) of an
        object, with ``source`` the broker's name and ``source_id`` the object id, time in
        MJD (UTC), band, and telescope or survey. :class:`BadRecord` when unreadable."""
        raise NotImplementedError

    def web_url(self, object_id: str) -> str | None:
        """The object's page on the broker's website, if it has one."""
        return None

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """Cross-parameter checks after each value was validated (``ra`` needs ``dec``...).

        Return the parameters (possibly normalised) or raise :class:`ValidationError`
        naming the parameters at fault. The default accepts everything.
        """
        return params

    def choices(self, param: str) -> list[Choice]:
        """The live allowed values of ``param`` (one of :attr:`live_choices`)."""
        declared = {p.name: p for p in self.params}
        if param in declared and declared[param].choices is not None:
            return [Choice(str(v)) for v in declared[param].choices or ()]
        raise ValidationError(f"{self.display_name} has no list of values for {param!r}",
                              {param: [f"values are listed for: {', '.join(self.live_choices) or 'none'}"]})

    # -- provided --------------------------------------------------------------------------------

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {s.key for s in cls.settings}
        cls.settings = tuple(cls.settings) + tuple(s for s in cls.common_settings if s.key not in own)
        clashing = sorted(p.name for p in cls.params if p.name in RESERVED_PARAMS)
        if clashing:
            raise TypeError(f"broker {cls.__name__}: parameter names {clashing} are reserved for the query commands")

    def validate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``values`` against :attr:`params` then :meth:`check`; return them converted.

        Raises :class:`ValidationError` listing every bad parameter.
        """
        from tomcore.contracts.base import validate_params

        converted = validate_params(self.params, values, what=f"{self.display_name} query parameters")
        return self.check(converted)

    def light_curves(self, object_ids: Sequence[str], *, workers: int | None = None) -> LightCurves:
        """Light curves of many objects, ``workers`` at a time (default: the ``workers``
        setting). Unreadable or vanished objects become ``problems``; a
        :class:`~tomcore.errors.ServiceError` (the service gave up) is raised."""
        result = LightCurves()
        ids = list(dict.fromkeys(object_ids))
        if not ids:
            return result
        if workers is None:
            workers = int(self.config.get("workers", 4) or 1) if hasattr(self, "config") else 1

        def one(oid: str) -> tuple[str, list[PhotometryPoint] | None, str | None]:
            try:
                return oid, self.light_curve(oid), None
            except BadRecord as exc:
                return oid, None, str(exc)
            except NotFoundError as exc:
                return oid, None, f"{oid}: light curve not found ({exc})"

        if workers <= 1 or len(ids) == 1:
            outcomes = [one(oid) for oid in ids]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, len(ids)), thread_name_prefix=f"{self.name}-lc") as pool:
                outcomes = list(pool.map(one, ids))
        for oid, points, problem in outcomes:
            if problem is not None:
                result.problems.append(problem)
            else:
                result.points[oid] = points or []
        return result

    def describe(self) -> dict[str, Any]:
        """The broker and its parameters, for ``tom alerts brokers``."""
        return {
            "name": self.name,
            "title": self.display_name,
            "description": self.description,
            "plugin": self.plugin_name,
            "supports_since": self.supports_since,
            "score": self.score_description,
            "params": [
                {"name": p.name, "option": p.option, "type": p.type, "help": p.help,
                 "choices": list(p.choices) if p.choices is not None else None,
                 "live_choices": p.name in self.live_choices,
                 "multiple": p.multiple, "minimum": p.minimum, "maximum": p.maximum,
                 "default": p.default, "required": p.required}
                for p in self.params
            ],
        }
