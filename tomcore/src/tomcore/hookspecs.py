"""The hook specifications: everything a tomcore plugin can do.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the
specs below; it may accept any subset of a spec's arguments. Two families:

``register_*(register)``
    Hand objects to the core. The plugin calls ``register(obj)`` once per object; the core
    collects them, names them and refuses two plugins registering the same name (a
    third-party plugin may replace a built-in one of the same name). Each plugin's hook is
    called on its own, so one failing plugin is reported by name and the others still count.

``on_*(tom, ...)``
    Events. Every plugin implementing one is called, once per *batch* (a bulk import of
    100,000 targets fires ``on_targets_created`` once, with all of them), after the batch is
    committed. A plugin that raises is reported (and fatal under ``TOM_STRICT_PLUGINS=1``);
    the other plugins are still called.

Every spec here is documented in ``docs/hooks.md`` and has a test named ``test_hook_<name>``;
``tomcore/tests/test_hookspecs.py`` fails otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only, kept out of the start-up path
    import click

    from tomcore.app import Tom
    from tomcore.contracts.brokers import Broker
    from tomcore.contracts.cadences import CadenceStrategy
    from tomcore.contracts.catalogs import Catalog
    from tomcore.contracts.facilities import Facility
    from tomcore.contracts.notifiers import Notifier
    from tomcore.contracts.processors import DataProcessor
    from tomcore.contracts.storage import StorageBackend
    from tomcore.domain.alerts import AlertIngestReport
    from tomcore.domain.data import DataProductInfo, ReducedDataBatch
    from tomcore.domain.observations import StatusChange
    from tomcore.domain.targets import Target

PROJECT = "tom"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------------------------
# register_* : hand objects to the core
# --------------------------------------------------------------------------------------------


@hookspec
def register_brokers(register: Callable[[Broker], None]) -> None:
    """Register alert brokers.

    Call ``register(broker)`` with an instance of a :class:`tomcore.contracts.brokers.Broker`
    subclass for each broker the plugin offers. ``broker.name`` is how users pick it
    (``tom alerts query alerce``); its declared query parameters become CLI options.
    """


@hookspec
def register_catalogs(register: Callable[[Catalog], None]) -> None:
    """Register catalogs that resolve a name or designation to target fields.

    Call ``register(catalog)`` with a :class:`tomcore.contracts.catalogs.Catalog` instance.
    ``catalog.name`` is used in ``tom catalog query NAME TERM`` and ``--from NAME:TERM``.
    """


@hookspec
def register_facilities(register: Callable[[Facility], None]) -> None:
    """Register observing facilities (robotic observatories, or manual record keeping).

    Call ``register(facility)`` with a :class:`tomcore.contracts.facilities.Facility`
    instance. Its sites feed the planner; its observation types and parameters become the
    options of ``tom observe FACILITY``.
    """


@hookspec
def register_storage(register: Callable[[StorageBackend], None]) -> None:
    """Register storage backends for data products, chosen by URL scheme.

    Call ``register(backend)`` with a :class:`tomcore.contracts.storage.StorageBackend`
    whose ``schemes`` (``("s3",)``) say which ``storage.url`` values it serves. The built-in
    local-directory backend serves ``file`` and plain paths.
    """


@hookspec
def register_data_processors(register: Callable[[DataProcessor], None]) -> None:
    """Register data processors that turn uploaded or downloaded files into reduced data.

    Call ``register(processor)`` with a :class:`tomcore.contracts.processors.DataProcessor`.
    The core picks a processor by the product's data type, then by ``processor.accepts()``
    (file name and format). A processor may introduce a new data type name.
    """


@hookspec
def register_notifiers(register: Callable[[Notifier], None]) -> None:
    """Register notification channels (email, webhooks, chat...).

    Call ``register(notifier)`` with a :class:`tomcore.contracts.notifiers.Notifier`.
    Notification rules in ``tom.toml`` route events to channels by the notifier's ``name``.
    """


@hookspec
def register_cadence_strategies(register: Callable[[CadenceStrategy], None]) -> None:
    """Register cadence strategies that decide when to submit the next observation.

    Call ``register(strategy)`` with a :class:`tomcore.contracts.cadences.CadenceStrategy`.
    ``tom cadence start TARGET FACILITY --strategy NAME`` picks it by ``strategy.name``.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``tom`` command line.

    ``cli`` is the root :class:`click.Group`; call ``cli.add_command(...)``. Keep the module
    that defines the commands cheap to import (no astropy, numpy, SQLAlchemy at module level),
    because ``tom --help`` loads it. Commands reach the TOM with
    :func:`tomcore.cli.context.get_tom`.
    """


# --------------------------------------------------------------------------------------------
# on_* : events, fanned out to every plugin, once per committed batch
# --------------------------------------------------------------------------------------------


@hookspec
def on_targets_created(tom: Tom, targets: Sequence[Target]) -> None:
    """Targets were created (by hand, by import, by a broker ingest or from a catalog).

    :param tom: the TOM they were created in.
    :param targets: every target created by the operation, as committed: a list, or for
        a bulk CSV import a lazy sequence that builds each target when it is read (index
        it, slice it, iterate it, ``len()`` it; ``list(targets)`` for a list).
    """


@hookspec
def on_targets_updated(tom: Tom, targets: list[Target]) -> None:
    """Existing targets changed (edited, merged into, or updated by an import or ingest).

    :param tom: the TOM.
    :param targets: the targets after the change, as committed.
    """


@hookspec
def on_alerts_ingested(tom: Tom, report: AlertIngestReport) -> None:
    """A page of broker alerts was ingested and committed.

    :param tom: the TOM.
    :param report: the broker, the saved query (if any), the alerts of the page, and which
        targets were created, updated or left unchanged, with the photometry points added.
    """


@hookspec
def on_observation_status_changed(tom: Tom, changes: list[StatusChange]) -> None:
    """Observation requests changed status: submitted, updated from the facility (``tom
    observations update``, the runner), cancelled, or set by hand. Once per batch.

    :param tom: the TOM.
    :param changes: one entry per record that changed: the record as committed, the old
        status (None for a new record) and the new one, the time, and ``reopened``.
    """


@hookspec
def on_data_product_saved(tom: Tom, products: list[DataProductInfo]) -> None:
    """Data products (files) were stored: uploaded, downloaded from a facility or a broker.

    :param tom: the TOM.
    :param products: the stored products, with their target, type, URL, size and checksum.
    """


@hookspec
def on_reduced_data_saved(tom: Tom, batch: ReducedDataBatch) -> None:
    """Reduced data (photometry points, spectra, other values) were written.

    :param tom: the TOM.
    :param batch: what was written, grouped by target, with where it came from.
    """
