"""Exporting targets: the TOM Toolkit's CSV (lossless: imports back to the same targets),
ECSV and VOTable.

A CSV column is written as ``KEY:TYPE`` exactly when reading its text back would give
another type (a string extra ``"007"``). ECSV and VOTable (astropy tables) carry types.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tomcore.domain.extras import BOOLEAN, DATETIME, NUMBER, infer, typed
from tomcore.domain.targets import DERIVED_FIELDS, MODEL_FIELDS, NUMERIC_FIELDS, Target
from tomcore.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.services.target_query import TargetQuery


class CsvLayout:
    """The columns of a lossless CSV export, gathered from the targets chunk by chunk
    (:meth:`add`), so that a long export can be laid out in one streaming pass and written
    in a second.

    Model-field columns any target uses (name and type first), ``name2``... for aliases,
    ``groups`` when a target is in a list, then every extra key, sorted; an extra's header
    is ``KEY:TYPE`` when the text of a value would read back as another type (a string
    extra ``"007"``).
    """

    def __init__(self) -> None:
        self._used: set[str] = {"name", "type"}
        self.n_alias = 0
        self.groups = False
        self._types: dict[str, set[str]] = {}
        self._force: set[str] = set()

    def add(self, targets: Iterable[Target]) -> CsvLayout:
        unused = [f for f in MODEL_FIELDS if f not in self._used]
        for t in targets:
            if unused:
                found = [f for f in unused if getattr(t, f) is not None]
                if found:
                    self._used.update(found)
                    unused = [f for f in unused if f not in self._used]
            if len(t.aliases) > self.n_alias:
                self.n_alias = len(t.aliases)
            if t.lists:
                self.groups = True
            for key, value in t.extras.items():
                if value is None:
                    continue
                tv = typed(value)
                self._types.setdefault(key, set()).add(tv.type)
                if key not in self._force and infer(_text(value)).type != tv.type:
                    self._force.add(key)
        return self

    @property
    def fields(self) -> list[str]:
        return [f for f in MODEL_FIELDS if f in self._used]

    def extra_columns(self) -> list[tuple[str, str, str | None]]:
        """``(key, header, forced type)`` for every extra key, sorted."""
        result: list[tuple[str, str, str | None]] = []
        for key in sorted(self._types):
            kinds = self._types[key]
            if key in self._force:
                if len(kinds) > 1:
                    raise ValidationError(f"extra {key!r} mixes {', '.join(sorted(kinds))} values with text that reads "
                                          "as another type; CSV cannot keep them apart (export to ECSV instead)")
                kind = next(iter(kinds))
                result.append((key, f"{key}:{kind}", kind))
            else:
                result.append((key, key, None))
        return result

    def header(self) -> list[str]:
        return (self.fields + [f"name{i + 2}" for i in range(self.n_alias)] + (["groups"] if self.groups else [])
                + [h for _, h, _ in self.extra_columns()])

    def rows(self, targets: Iterable[Target]) -> Iterator[list[str]]:
        fields, n_alias, keys = self.fields, self.n_alias, [k for k, _, _ in self.extra_columns()]
        for t in targets:
            row = [_text(getattr(t, f)) if f not in ("name", "type", "scheme") else (getattr(t, f) or "") for f in fields]
            row += list(t.aliases) + [""] * (n_alias - len(t.aliases))
            if self.groups:
                row.append(",".join(t.lists))
            row += [_text(t.extras.get(key)) for key in keys]
            yield row


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return typed(value).text


def table_columns(targets: Sequence[Target]) -> tuple[list[str], int]:
    """Model-field columns any target uses (name and type first) and the number of alias
    columns."""
    layout = CsvLayout().add(targets)
    return layout.fields, layout.n_alias


def export_rows(targets: Sequence[Target]) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of a lossless CSV export."""
    layout = CsvLayout().add(targets)
    return layout.header(), list(layout.rows(targets))


def write_csv(targets: Sequence[Target], stream: Any) -> None:
    layout = CsvLayout().add(targets)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(layout.header())
    writer.writerows(layout.rows(targets))


def write_csv_chunks(chunks: Callable[[], Iterable[Sequence[Target]]], stream: Any) -> int:
    """A lossless CSV of many targets in bounded memory: ``chunks()`` is called twice, for
    one pass that lays the columns out and one that writes the rows; returns the count."""
    layout = CsvLayout()
    for chunk in chunks():
        layout.add(chunk)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(layout.header())
    count = 0
    for chunk in chunks():
        writer.writerows(layout.rows(chunk))
        count += len(chunk)
    return count


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


def export_query(tom: Tom, query: TargetQuery, path: str | Path, fmt: str | None = None) -> tuple[int, str]:
    """Write the targets matching ``query`` to ``path``; returns ``(count, format)``.

    CSV is streamed (two passes over the query, a chunk of targets at a time), so an
    export of a whole large TOM runs in bounded memory; ECSV and VOTable are written by
    astropy from one table of all the targets.
    """
    from tomcore.services.target_io import format_of
    from tomcore.services.target_query import find, stream

    path = Path(path)
    kind = format_of(path, fmt)
    if kind == "csv":
        # Written next to the destination and moved over it: a failed export leaves no half file.
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("w", newline="", encoding="utf-8") as fh:
                count = write_csv_chunks(lambda: (r.targets for r in stream(tom, query)), fh)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return count, kind
    targets = find(tom, query, count=False).targets
    export_file(targets, path, kind)
    return len(targets), kind
