"""The ADQL this plugin sends to SIMBAD, and how SIMBAD compares identifiers.

One query resolves a whole batch of names: ``basic`` joined to ``ident`` (one row per
identifier; name lookup is a match on ``ident.id``, where SIMBAD ignores case and spacing)
and to ``ids`` (every identifier of the object in one ``|``-separated string). A second,
optional query reads the published distances of the objects found from ``mesDistance``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

#: Columns of ``basic`` the catalog maps (SIMBAD TAP names).
BASIC_COLUMNS = (
    "oid", "main_id", "ra", "dec", "coo_err_maj", "coo_err_min", "pmra", "pmdec", "plx_value", "plx_err",
    "rvz_type", "rvz_radvel", "rvz_redshift", "rvz_err", "otype", "sp_type",
)
#: Columns of ``mesDistance`` read for distances.
DISTANCE_COLUMNS = ("oidref", "dist", "unit", "minus_err", "plus_err", "method", "bibcode")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def adql_string(value: str) -> str:
    """``value`` as an ADQL string literal: single quotes doubled, control characters dropped."""
    return "'" + _CONTROL.sub("", value).replace("'", "''") + "'"


def objects_query(names: Sequence[str]) -> str:
    """One query for the objects having any of ``names`` as an identifier.

    Each row carries the identifier that matched (``matched_id``, in SIMBAD's spelling) so
    rows can be given back to the names asked for.
    """
    if not names:
        raise ValueError("no names to query")
    columns = ", ".join(f"basic.{c}" for c in BASIC_COLUMNS)
    where = " OR ".join(f"ident.id = {adql_string(name)}" for name in names)
    return (
        f"SELECT ident.id AS matched_id, {columns}, ids.ids "
        "FROM basic JOIN ident ON basic.oid = ident.oidref "
        "LEFT JOIN ids ON basic.oid = ids.oidref "
        f"WHERE {where}"
    )


def distances_query(oids: Iterable[int]) -> str:
    """The published distances of the objects with these internal ids."""
    wanted = sorted({int(oid) for oid in oids})
    if not wanted:
        raise ValueError("no objects to query")
    return (
        f"SELECT {', '.join(DISTANCE_COLUMNS)} FROM mesDistance "
        f"WHERE oidref IN ({', '.join(str(oid) for oid in wanted)})"
    )


def identifier_key(name: str) -> str:
    """How SIMBAD compares identifiers: case and spacing ignored (``"m31"`` is ``"M  31"``).

    A leading ``NAME`` (SIMBAD's prefix for common names) is ignored too, so a term asked
    as ``Andromeda Galaxy`` finds its way back from ``NAME Andromeda Galaxy``.
    """
    key = _SPACES.sub("", name.casefold())
    if name.strip()[:5].casefold() == "name " and len(key) > 4:
        key = key[4:]
    return key


def clean_identifier(identifier: str) -> str:
    """An identifier as people write it: internal runs of spaces collapsed (SIMBAD pads
    ``"M  31"``, ``"NGC   224"``) and the ``NAME`` prefix of common names dropped."""
    text = _SPACES.sub(" ", identifier).strip()
    if text[:5].casefold() == "name " and len(text) > 5:
        text = text[5:].strip()
    return text
