"""House rules that keep the code base readable: no module grows past 600 lines, and the
CLI stays a thin face (no SQL, no service internals in command modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT = 600
SOURCES = sorted(
    p for p in [*REPO.glob("tomcore/src/tomcore/**/*.py"), *REPO.glob("plugins/*/src/**/*.py")]
    if "migrations/versions" not in p.as_posix()
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_module_is_at_most_600_lines(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= LIMIT, f"{path.relative_to(REPO)} has {lines} lines: split it by what it holds"


@pytest.mark.parametrize("path", sorted(REPO.glob("tomcore/src/tomcore/cli/*.py")), ids=lambda p: p.name)
def test_cli_modules_do_not_touch_the_database(path):
    text = path.read_text(encoding="utf-8")
    for forbidden in ("tomcore.store", "from sqlalchemy", "import sqlalchemy", "session.execute"):
        assert forbidden not in text, f"{path.name} uses {forbidden!r}: that belongs in a service"
