"""Reading the fixed-format text Horizons returns (apis.md §4.3).

:func:`parse_result` turns the ``result`` text of an elements request into an
:class:`ElementsRecord`: the target body name and its source, the small-body record number,
the first row of the CSV table between ``$$SOE`` and ``$$EOE`` (columns named by the header
line holding ``JDTDB,``), and the physical parameters (``H``/``G`` two lines below the line
ending ``rotational period in hours)``, ``M1``/``M2``/``k1``/``k2``/``PHCOF`` two lines below
``Comet physical``). ``n.a.`` and the ~9.999e99 sentinel of undefined values become None.

Texts without a table are read for what Horizons says instead: several matches raise
:class:`~tomcore.errors.AmbiguousError` listing record numbers (small bodies) or ID numbers
(major bodies); ``No matches found`` gives None; any other message raises
:class:`~tomcore.errors.ServiceError` quoting it.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from tomcore.errors import AmbiguousError, ServiceError

SERVICE = "JPL Horizons"
#: Horizons writes this for undefined values (the period of a hyperbolic orbit).
SENTINEL = 9.99e99

_PAIR = re.compile(r"([A-Za-z][\w\-]*)\s*=\s*([^\s=]+)")
_TARGET = re.compile(r"Target body name:\s*(?P<name>.*?)\s*(?:\{source:\s*(?P<source>[^}]*)\})?\s*$")
_RECORD = re.compile(r"Rec #:\s*(\d+)")
_DASHES = re.compile(r"^\s*-{3,}(?:\s+-{3,})*\s*$")


class HorizonsMessage(ServiceError):
    """Horizons answered, but with a message instead of elements for this term
    (``No ephemeris for target``, ``Cannot interpret date``, a refused value...)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(SERVICE, message, status=status)


@attrs.define
class ElementsRecord:
    """The elements of one body as Horizons gave them.

    :param target_name: as on the ``Target body name:`` line (``433 Eros (A898 PA)``).
    :param source: the orbit solution or ephemeris (``JPL#659``, ``mar099``).
    :param record: the small-body record number (``Rec #:``), None for major bodies.
    :param elements: the first table row by Horizons column name (``JDTDB``, ``EC``, ``QR``,
        ``IN``, ``OM``, ``W``, ``Tp``, ``N``, ``MA``, ``TA``, ``A``, ``AD``, ``PR``).
    :param physical: ``H``, ``G`` (asteroids) or ``M1``, ``M2``, ``k1``, ``k2``, ``PHCOF`` (comets).
    :param comet: the text carries the comet physical section.
    """

    target_name: str
    source: str | None
    record: str | None
    elements: dict[str, float | None]
    physical: dict[str, float | None]
    comet: bool
    calendar_date: str | None = None

    @property
    def small_body(self) -> bool:
        return self.record is not None or (self.source or "").upper().startswith("JPL#")


def number(text: str | None) -> float | None:
    """A Horizons number: ``n.a.``, blanks and the undefined-value sentinel are None."""
    if text is None:
        return None
    text = text.strip().rstrip(",")
    if not text or text.lower().strip(".") in ("n.a", "na", "n/a"):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or abs(value) >= SENTINEL:
        return None
    return value


def parse_result(text: str, term: str) -> ElementsRecord | None:
    """The elements in ``text`` (the answer for ``term``); None when Horizons found nothing."""
    lines = text.splitlines()
    if any(line.strip() == "$$SOE" for line in lines):
        return _elements(lines, term)
    for index, line in enumerate(lines):
        if "Multiple major-bodies match string" in line:
            raise _ambiguous(lines, index, term, major=True)
        if "Matching small-bodies" in line:
            rest = "\n".join(lines[index + 1:index + 4])
            if "No matches found" in rest:
                return None
            raise _ambiguous(lines, index, term, major=False)
        if "No matches found" in line:
            return None
    raise HorizonsMessage(f"no elements for {term!r}: {_message(lines)}")


def _message(lines: list[str]) -> str:
    """What Horizons said, without the API banner and rulers."""
    kept = [line.strip() for line in lines
            if line.strip() and not line.startswith(("API VERSION", "API SOURCE")) and not set(line.strip()) <= {"*"}]
    text = " ".join(kept[:4])
    return text[:300] or "an empty answer"


def _elements(lines: list[str], term: str) -> ElementsRecord:
    target_name, source, record = term, None, None
    header: list[str] | None = None
    row: list[str] | None = None
    physical: dict[str, float | None] = {}
    comet = False
    inside = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "$$SOE":
            inside = True
            continue
        if stripped == "$$EOE":
            inside = False
            continue
        if inside:
            if row is None and stripped:
                row = [cell.strip() for cell in line.split(",")]
            continue
        if line.startswith("Target body name:"):
            match = _TARGET.match(line)
            if match:
                target_name, source = match["name"].strip(), (match["source"] or "").strip() or None
        elif record is None and (match := _RECORD.search(line)):
            record = match.group(1)
        elif "JDTDB," in line and header is None:
            header = [cell.strip() for cell in line.split(",")]
        elif "rotational period in hours)" in line:
            physical.update(_pairs(lines[index + 1:index + 3]))
        elif "Comet physical" in line:
            comet = True
            physical.update(_pairs(lines[index + 1:index + 3]))
    if header is None or row is None:
        raise ServiceError(SERVICE, f"the elements table for {term!r} has no header or no row")
    # every CSV line ends with a comma: drop the empty last column
    while header and not header[-1]:
        header.pop()
    elements = {}
    calendar = None
    for name, cell in zip(header, row, strict=False):
        if name.startswith("Calendar Date"):
            calendar = cell
        else:
            elements[name] = number(cell)
    if elements.get("JDTDB") is None:
        raise ServiceError(SERVICE, f"the elements table for {term!r} has no epoch (JDTDB)")
    return ElementsRecord(target_name, source, record, elements, physical, comet, calendar)


def _pairs(lines: list[str]) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for line in lines:
        for key, value in _PAIR.findall(line):
            values[key] = number(value)
    return values


def _ambiguous(lines: list[str], index: int, term: str, *, major: bool) -> AmbiguousError:
    candidates = candidates_after(lines, index)
    if major:
        how = "its ID number"
        example = candidates[0][0] if candidates else "499"
    else:
        how = "its record number followed by ';'"
        example = f"{candidates[0][0]};" if candidates else "1;"
    what = "major bodies" if major else "small bodies"
    return AmbiguousError(
        f"JPL Horizons: {term!r} matches {len(candidates) or 'several'} {what}; ask again for one by {how} "
        f"(for example {example!r})", candidates)


def candidates_after(lines: list[str], index: int) -> list[tuple[str, str]]:
    """The rows of the match table after line ``index``: (record or ID, description).

    Columns are cut where the ``----`` ruler under the table header puts them.
    """
    ruler = next((i for i in range(index + 1, min(index + 10, len(lines))) if _DASHES.match(lines[i])), None)
    if ruler is None:
        return []
    starts = [m.start() for m in re.finditer(r"-+", lines[ruler])]
    titles = _cut(lines[ruler - 1], starts) if ruler > 0 else [""] * len(starts)
    found: list[tuple[str, str]] = []
    for line in lines[ruler + 1:]:
        if not line.strip():
            break
        cells = _cut(line, starts)
        if not cells or not re.fullmatch(r"-?\d+", cells[0]):
            break
        described = [f"epoch {cell}" if title.lower().startswith("epoch") else cell
                     for title, cell in zip(titles[1:], cells[1:], strict=False) if cell]
        found.append((cells[0], "  ".join(dict.fromkeys(described))))
    return found


def _cut(line: str, starts: list[int]) -> list[str]:
    cells = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(line)
        cells.append(line[start:end].strip())
    return cells


def describe(record: ElementsRecord) -> dict[str, Any]:
    """A JSON-friendly form of a record (the catalog entry's raw record)."""
    return attrs.asdict(record)
