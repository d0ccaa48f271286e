"""The ADQL this plugin sends to SIMBAD, and how SIMBAD compares identifiers.

One query resolves a whole batch of names: the names travel as a TAP upload (a VOTable
table ``TAP_UPLOAD.names`` of ``asked_index``, ``asked_id``), joined to ``ident`` (one row per
identifier; name lookup is a match on ``ident.id``, where SIMBAD ignores case and spacing), to
``basic`` and to ``ids`` (every identifier of the object in one ``|``-separated string). This
is how astroquery's ``query_objects`` asks for a list of names: the query text stays the same
size whatever the number of names (SIMBAD takes up to 200,000 uploaded rows), and each row
carries the index of the name that found it, so rows go back to the names asked for exactly,
however SIMBAD spelled the identifier that matched. A second, optional query reads the
published distances of the objects found from ``mesDistance``, their ids uploaded the same
way (``TAP_UPLOAD.oids``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape

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


#: Name of the uploaded table of names (``TAP_UPLOAD.<name>`` in the ADQL).
NAMES_TABLE = "names"


def objects_query() -> str:
    """The query for the objects having an uploaded name (``TAP_UPLOAD.names``) as an
    identifier; see :func:`names_upload` for the table.

    Each row carries the index of the name that found it (``asked_index``) and the
    identifier that matched (``matched_id``, in SIMBAD's spelling). Unknown names give no row.
    """
    upload = f"TAP_UPLOAD.{NAMES_TABLE}"
    columns = ", ".join(f"basic.{c}" for c in BASIC_COLUMNS)
    return (
        f"SELECT {upload}.asked_index, ident.id AS matched_id, {columns}, ids.ids "
        f"FROM {upload} JOIN ident ON {upload}.asked_id = ident.id "
        "JOIN basic ON basic.oid = ident.oidref "
        "LEFT JOIN ids ON basic.oid = ids.oidref"
    )


def names_upload(names: Iterable[tuple[int, str]]) -> bytes:
    """The VOTable of ``(index, name)`` pairs uploaded as ``TAP_UPLOAD.names``
    (columns ``asked_index`` int and ``asked_id`` char)."""
    rows = "".join(f"<TR><TD>{int(index)}</TD><TD>{escape(_CONTROL.sub('', name))}</TD></TR>"
                   for index, name in names)
    return _votable(NAMES_TABLE, '<FIELD name="asked_index" datatype="int"/>'
                                 '<FIELD name="asked_id" datatype="char" arraysize="*"/>', rows)


#: Name of the uploaded table of object ids (``TAP_UPLOAD.<name>``).
OIDS_TABLE = "oids"


def distances_query() -> str:
    """The published distances of the uploaded objects (``TAP_UPLOAD.oids``, see
    :func:`oids_upload`), one row per measurement."""
    upload = f"TAP_UPLOAD.{OIDS_TABLE}"
    columns = ", ".join(f"mesDistance.{c}" for c in DISTANCE_COLUMNS)
    return f"SELECT {columns} FROM {upload} JOIN mesDistance ON mesDistance.oidref = {upload}.oid"


def oids_upload(oids: Iterable[int]) -> bytes:
    """The VOTable of SIMBAD object ids uploaded as ``TAP_UPLOAD.oids`` (column ``oid``)."""
    wanted = sorted({int(oid) for oid in oids})
    if not wanted:
        raise ValueError("no objects to query")
    rows = "".join(f"<TR><TD>{oid}</TD></TR>" for oid in wanted)
    return _votable(OIDS_TABLE, '<FIELD name="oid" datatype="long"/>', rows)


def _votable(name: str, fields: str, rows: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        f'<RESOURCE type="results"><TABLE name="{name}">{fields}'
        f"<DATA><TABLEDATA>{rows}</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>\n"
    ).encode()


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
