"""`tom plugin new NAME KIND` writes plugins that install with pip and pass their own tests
against the current tomcore (so the template cannot drift from the core unnoticed)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tomcore.errors import TomError, ValidationError
from tomcore.scaffold import KINDS, new_plugin


def test_generated_plugins_install_and_pass_their_tests(tmp_path):
    made = [new_plugin(f"demo-{kind}", kind, tmp_path / "src") for kind in KINDS]
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--target", str(site), *[str(p.directory) for p in made]],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
    env["PYTHONPATH"] = str(site)
    tests = [str(p.directory / "tests") for p in made]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout


def test_generated_requirements_accept_the_installed_tomcore(tmp_path):
    """pip resolves the generated plugin's dependencies against the tomcore in use (a
    development version does not satisfy ">=0.1.0"; pip would go to the index for one)."""
    import tomllib

    from packaging.requirements import Requirement

    from tomcore import __version__

    plugin = new_plugin("demo-deps", "broker", tmp_path)
    project = tomllib.loads((plugin.directory / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]
    tomcore = [r for r in requirements if r.name == "tomcore"]
    assert len(tomcore) == 2
    for requirement in tomcore:
        assert requirement.specifier.contains(__version__), (str(requirement), __version__)


def test_cli_writes_the_plugin(run_tom, tmp_path):
    out = run_tom("plugin", "new", "my-broker", "broker", "--directory", str(tmp_path)).stdout
    root = tmp_path / "tom-broker-my-broker"
    assert "Created" in out and (root / "pyproject.toml").is_file()
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points.tom]\nmy-broker = "tom_broker_my_broker"' in pyproject
    assert (root / "src" / "tom_broker_my_broker" / "broker.py").is_file()
    assert "class MyBrokerBroker(Broker)" in (root / "src" / "tom_broker_my_broker" / "broker.py").read_text()


def test_bad_names_and_kinds_are_refused(tmp_path):
    with pytest.raises(ValidationError, match="NAME"):
        new_plugin("Bad Name", "broker", tmp_path)
    with pytest.raises(ValidationError, match="KIND"):
        new_plugin("fine", "telescope", tmp_path)
    new_plugin("once", "catalog", tmp_path)
    with pytest.raises(TomError, match="not empty"):
        new_plugin("once", "catalog", tmp_path)
