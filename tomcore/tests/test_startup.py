"""`tom --help`, `tom --version` and `tom plugins` stay light: they must not import astropy,
astroquery, numpy or s3fs (nor SQLAlchemy, requests or matplotlib), with every installed
plugin loaded. bench/startup.py measures the time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("astropy", "astroquery", "numpy", "s3fs", "sqlalchemy", "requests", "matplotlib", "pyvo", "cdshealpix")

PROBE = """
import json, sys
from tomcore.cli import run
code = run(sys.argv[1:])
print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plugins"], ["plugins", "--all", "--json"]])
def test_light_commands_import_nothing_heavy(args, tmp_path):
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout.split("@@MODULES@@")[1])
    heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY))
    assert heavy == [], f"`tom {' '.join(args)}` imported {heavy}"
