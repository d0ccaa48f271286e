"""Command-line options built from declared parameters (:class:`tomcore.contracts.base.Param`).

Brokers' query parameters (and any other component's declared parameters) become click
options: ``Param("ndet_min", "int")`` is ``--ndet-min INT``; choices become a
:class:`click.Choice`; ``multiple`` parameters repeat; booleans are ``--x/--no-x``. Values
given on the command line are collected with :func:`collect` and validated by the service
(so the rules are the same for the CLI, saved queries and scripts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

from tomcore.contracts.base import Param

_METAVARS = {"str": "TEXT", "int": "INT", "float": "NUMBER", "bool": "", "datetime": "TIME", "json": "JSON"}
_TYPES = {"int": click.INT, "float": click.FLOAT}


def param_help(param: Param) -> str:
    """The help text of an option, with its bounds and default."""
    extra = []
    if param.minimum is not None and param.maximum is not None:
        extra.append(f"{param.minimum:g} to {param.maximum:g}")
    elif param.minimum is not None:
        extra.append(f">= {param.minimum:g}")
    elif param.maximum is not None:
        extra.append(f"<= {param.maximum:g}")
    if param.default is not None:
        extra.append(f"default {param.default}")
    if param.multiple:
        extra.append("repeatable")
    if param.required:
        extra.append("required")
    return param.help + (f" [{'; '.join(extra)}]" if extra else "")


def param_option(param: Param) -> click.Option:
    """One click option for a declared parameter (its destination is ``param.name``)."""
    flag = param.option
    if param.type == "bool":
        return click.Option([f"{flag}/--no-{flag.lstrip('-')}", param.name], default=None, help=param_help(param))
    kind: Any = _TYPES.get(param.type, click.STRING)
    metavar: str | None = param.metavar or _METAVARS[param.type]
    if param.choices is not None:
        kind = click.Choice([str(c) for c in param.choices])
        metavar = None
    return click.Option([flag, param.name], type=kind, multiple=param.multiple, default=None,
                        metavar=metavar, help=param_help(param))


def param_options(params: Iterable[Param]) -> list[click.Option]:
    return [param_option(p) for p in params]


def collect(params: Sequence[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """The declared parameters given on the command line (unset and empty ones left out)."""
    result: dict[str, Any] = {}
    for param in params:
        value = values.get(param.name)
        if value is None or (isinstance(value, (tuple, list)) and not value):
            continue
        result[param.name] = list(value) if isinstance(value, tuple) else value
    return result
