"""nox sessions: tests (SQLite), tests_postgres, lint, typecheck, bench.

Each session installs every distribution of the repository from the working tree.
"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile

import nox

nox.options.sessions = ["tests", "tests_postgres", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PLUGINS = sorted(p.rstrip("/") for p in glob.glob("plugins/*/") if os.path.exists(os.path.join(p, "pyproject.toml")))


def install_all(session: nox.Session) -> None:
    specs = ["-e", "./tomcore[postgres,testing]"]
    for plugin in PLUGINS:
        with open(os.path.join(plugin, "pyproject.toml")) as fh:
            has_test = "\ntest = [" in fh.read()
        specs += ["-e", f"./{plugin}[test]" if has_test else f"./{plugin}"]
    session.install(*specs, "-r", "requirements-dev.txt")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite on SQLite."""
    install_all(session)
    env = {"TOM_TEST_DATABASE_URL": ""}
    session.run("pytest", "-n", "2", *session.posargs, env=env)


@nox.session
def tests_postgres(session: nox.Session) -> None:
    """The whole suite on a throw-away PostgreSQL cluster (skipped, saying why, without one)."""
    install_all(session)
    directory = tempfile.mkdtemp(prefix="tom-pg.")
    os.chmod(directory, 0o755)
    url = subprocess.run(["bash", "scripts/postgres", "start", directory], capture_output=True, text=True, check=True)
    if not url.stdout.strip():
        session.skip(f"no PostgreSQL: {url.stderr.strip()}")
    try:
        session.run("pytest", "-n", "2", *session.posargs, env={"TOM_TEST_DATABASE_URL": url.stdout.strip()})
    finally:
        subprocess.run(["bash", "scripts/postgres", "stop", directory], check=False)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    install_all(session)
    session.run("mypy", "--config-file", "tomcore/pyproject.toml", "tomcore/src/tomcore")


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark in bench/ and print its figures."""
    install_all(session)
    for script in sorted(glob.glob("bench/*.py")):
        session.run("python", script, *session.posargs)
