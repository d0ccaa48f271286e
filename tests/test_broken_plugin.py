"""Done-when of the core issue: with every real plugin installed and a deliberately broken
plugin beside them, `tom plugins` shows the broken one as an error line and every other
command still works; strict mode makes it fatal. Runs the real `tom` executable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tomcore.testing.distributions import write_distribution

TOM = str(Path(sys.executable).with_name("tom"))


@pytest.fixture
def env(tmp_path):
    site = tmp_path / "site"
    write_distribution(site, "tom-broken-example", modules={
        "tom_broken_example": "raise RuntimeError('this plugin is broken on purpose')\n",
    }, entry_points={"broken-example": "tom_broken_example"})
    write_distribution(site, "tom-misspelled-example", modules={"tom_misspelled_example": (
        "from tomcore import hookimpl\n\n@hookimpl\ndef register_broker(register):\n    pass\n"
    )}, entry_points={"misspelled-example": "tom_misspelled_example"})
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
    environment["PYTHONPATH"] = str(site)
    return environment


def tom(args, env, cwd, check=True):
    result = subprocess.run([TOM, *args], env=env, cwd=cwd, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, f"tom {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result


def test_broken_plugin_is_an_error_line_and_everything_else_works(env, tmp_path):
    home = tmp_path / "tom"
    tom(["init", str(home)], env, tmp_path)
    listing = tom(["plugins"], env, home)
    line = next(line for line in listing.stdout.splitlines() if "broken-example" in line)
    assert "ERROR" in line
    infos = {i["name"]: i for i in json.loads(tom(["plugins", "--json"], env, home).stdout)}
    assert "broken on purpose" in infos["broken-example"]["errors"][0]
    assert "register_broker" in infos["misspelled-example"]["errors"][0]
    healthy = [i for name, i in infos.items() if name not in ("broken-example", "misspelled-example")]
    assert all(not i["errors"] for i in healthy), healthy
    tom(["config", "show"], env, home)
    tom(["db", "status"], env, home)
    assert "Commands:" in tom(["--help"], env, home).stdout


def test_strict_mode_makes_the_broken_plugin_fatal(env, tmp_path):
    env = {**env, "TOM_STRICT_PLUGINS": "1"}
    result = tom(["plugins"], env, tmp_path, check=False)
    assert result.returncode == 1
    assert "broken-example" in result.stderr and "TOM_STRICT_PLUGINS" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("broken on purpose") == 1  # one error line, no warning repeating it


def test_load_plugins_can_leave_the_broken_one_out(env, tmp_path):
    env = {**env, "TOM_LOAD_PLUGINS": ""}
    result = tom(["plugins", "--json"], env, tmp_path)
    infos = {i["name"]: i for i in json.loads(result.stdout)}
    assert "broken-example" in infos and "misspelled-example" in infos  # installed, shown, not loaded
    assert all(i["skipped"] and not i["loaded"] and not i["errors"] and not i["registered"] for i in infos.values())
    assert infos["broken-example"]["distribution"] == "tom-broken-example"
    assert result.stderr == ""
    line = next(line for line in tom(["plugins"], env, tmp_path).stdout.splitlines() if "broken-example" in line)
    assert "not loaded (TOM_LOAD_PLUGINS)" in line and "ERROR" not in line
    env = {**env, "TOM_LOAD_PLUGINS": "misspelled-example"}
    infos = {i["name"]: i for i in json.loads(tom(["plugins", "--json"], env, tmp_path).stdout)}
    assert infos["broken-example"]["skipped"] and not infos["misspelled-example"]["skipped"]
    assert infos["misspelled-example"]["errors"]
