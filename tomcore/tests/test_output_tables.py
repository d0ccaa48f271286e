"""Long tables are laid out without rich (which takes about a millisecond a row)."""

from __future__ import annotations

import pytest

from tomcore.cli import output


def test_a_long_table_is_aligned_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"name": f"target-{i}", "ra": i * 0.5, "note": "[bold]x[/bold]" if i == 3 else None}
            for i in range(output.PLAIN_TABLE_ROWS + 1)]
    output.print_table(rows, title="Targets")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Targets"
    assert lines[1].split() == ["name", "ra", "note"]
    assert set(lines[2].strip()) == {"\u2500"}
    body = lines[3:]
    assert len(body) == len(rows)
    assert body[0].split() == ["target-0", "0"]
    assert body[3].split() == ["target-3", "1.5", "[bold]x[/bold]"]  # printed as is, not as markup
    column = lines[1].index("ra")
    assert all(line[column - 1] == " " for line in body)  # every row starts its column in the same place
    assert body[-1].split()[0] == f"target-{output.PLAIN_TABLE_ROWS}"


def test_a_short_table_still_goes_through_rich(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_table([{"name": "M31", "ra": 10.68}])
    out = capsys.readouterr().out
    assert "M31" in out and "10.68" in out and "\u2500" in out
