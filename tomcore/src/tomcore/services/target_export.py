"""Exporting targets: the TOM Toolkit's CSV (lossless: imports back to the same targets),
ECSV and VOTable.

A CSV column is written as ``KEY:TYPE`` exactly when reading its text back would give
another type (a string extra ``"007"``). ECSV and VOTable (astropy tables) carry types.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tomcore.domain.extras import BOOLEAN, DATETIME, NUMBER, infer, typed
from tomcore.domain.targets import DERIVED_FIELDS, MODEL_FIELDS, NUMERIC_FIELDS, Target
from tomcore.errors import ValidationError


def _extra_columns(targets: Sequence[Target]) -> list[tuple[str, str, str | None]]:
    """``(key, header, forced type)`` for every extra key, sorted; a ``KEY:TYPE`` header
    when the text of a value would read back as another type."""
    types: dict[str, set[str]] = {}
    needs_force: dict[str, bool] = {}
    for target in targets:
        for key, value in target.extras.items():
            if value is None:
                continue
            tv = typed(value)
            types.setdefault(key, set()).add(tv.type)
            if infer(_text(value)).type != tv.type:
                needs_force[key] = True
    result: list[tuple[str, str, str | None]] = []
    for key in sorted(types):
        kinds = types[key]
        if needs_force.get(key):
            if len(kinds) > 1:
                raise ValidationError(f"extra {key!r} mixes {', '.join(sorted(kinds))} values with text that reads as "
                                      "another type; CSV cannot keep them apart (export to ECSV instead)")
            kind = next(iter(kinds))
            result.append((key, f"{key}:{kind}", kind))
        else:
            result.append((key, key, None))
    return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return typed(value).text


def table_columns(targets: Sequence[Target]) -> tuple[list[str], int]:
    """Model-field columns any target uses (name and type first) and the number of alias
    columns."""
    used = [f for f in MODEL_FIELDS if f in ("name", "type") or any(getattr(t, f) is not None for t in targets)]
    return used, max((len(t.aliases) for t in targets), default=0)


def export_rows(targets: Sequence[Target]) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of a lossless CSV export."""
    fields, n_alias = table_columns(targets)
    extras = _extra_columns(targets)
    header = fields + [f"name{i + 2}" for i in range(n_alias)] + (["groups"] if any(t.lists for t in targets) else [])
    header += [h for _, h, _ in extras]
    rows = []
    with_groups = "groups" in header
    for t in targets:
        row = [_text(getattr(t, f)) if f not in ("name", "type", "scheme") else (getattr(t, f) or "") for f in fields]
        row += list(t.aliases) + [""] * (n_alias - len(t.aliases))
        if with_groups:
            row.append(",".join(t.lists))
        row += [_text(t.extras.get(key)) for key, _, _ in extras]
        rows.append(row)
    return header, rows


def write_csv(targets: Sequence[Target], stream: Any) -> None:
    header, rows = export_rows(targets)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def to_table(targets: Sequence[Target]) -> Any:
    """An astropy Table of targets (typed, masked columns) for ECSV and VOTable."""
    import numpy as np
    from astropy.table import MaskedColumn, Table

    fields, n_alias = table_columns(targets)
    table = Table()

    def add(name: str, values: list[Any], kind: str) -> None:
        mask = [v is None for v in values]
        if kind == "float":
            data = np.array([np.nan if v is None else v for v in values], dtype=float)
        elif kind == "int":
            data = np.array([0 if v is None else v for v in values], dtype=np.int64)
        elif kind == "bool":
            data = np.array([bool(v) for v in values], dtype=bool)
        else:
            data = np.array(["" if v is None else str(v) for v in values], dtype=str)
        table[name] = MaskedColumn(data, mask=mask) if any(mask) else data

    for field in fields:
        add(field, [getattr(t, field) for t in targets], "float" if field in (*NUMERIC_FIELDS, *DERIVED_FIELDS) else "str")
    for i in range(n_alias):
        add(f"name{i + 2}", [t.aliases[i] if i < len(t.aliases) else None for t in targets], "str")
    if any(t.lists for t in targets):
        add("groups", [",".join(t.lists) or None for t in targets], "str")
    for key in sorted({k for t in targets for k in t.extras}):
        values = [t.extras.get(key) for t in targets]
        kinds = {typed(v).type for v in values if v is not None}
        if kinds == {NUMBER}:
            kind = "int" if all(isinstance(v, int) for v in values if v is not None) else "float"
            add(key, values, kind)
        elif kinds == {BOOLEAN}:
            add(key, values, "bool")
        elif kinds == {DATETIME}:
            add(key, [typed(v).text if v is not None else None for v in values], "str")
        else:
            add(key, [_text(v) if v is not None else None for v in values], "str")
    return table


def export_file(targets: Sequence[Target], path: str | Path, fmt: str | None = None) -> str:
    """Write targets to ``path`` as CSV, ECSV or VOTable; returns the format used."""
    path = Path(path)
    from tomcore.services.target_io import format_of

    kind = format_of(path, fmt)
    if kind == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            write_csv(targets, fh)
        return kind
    table = to_table(targets)
    table.meta["tom_export"] = datetime.now().astimezone().isoformat()
    table.write(path, format="ascii.ecsv" if kind == "ecsv" else "votable", overwrite=True)
    return kind
