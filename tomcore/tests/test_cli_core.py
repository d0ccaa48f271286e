"""The `tom` command line itself: init, version, help, plugins, config, db, errors."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from tomcore import __version__, hookimpl
from tomcore.cli import run
from tomcore.cli.context import CliState
from tomcore.contracts.brokers import Broker


def invoke(args, env=None):
    """Run the CLI in-process like a user would (no TOM given in advance)."""
    runner = CliRunner()
    with runner.isolation() as streams:
        code = run(list(args), state=CliState(env=env or {}))
    return code, streams[0].getvalue().decode(), streams[1].getvalue().decode()


def test_version_and_help():
    code, out, _ = invoke(["--version"])
    assert code == 0 and __version__ in out
    code, out, _ = invoke(["--help"])
    assert code == 0
    for command in ("init", "plugins", "config", "db"):
        assert f"  {command} " in out


def test_init_creates_a_tom_at_the_newest_revision(tmp_path):
    home = tmp_path / "mytom"
    code, out, err = invoke(["init", str(home), "--name", "Lab TOM"])
    assert code == 0, err
    assert "Created a TOM" in out and (home / "tom.db").exists() and (home / "data").is_dir()
    code, out, _ = invoke(["--home", str(home), "db", "status", "--json"])
    status = json.loads(out)
    assert status["up_to_date"] and status["backend"] == "sqlite"
    code, out, _ = invoke(["init", str(home)])
    assert code == 0 and "already a TOM" in out
    import sqlite3

    assert sqlite3.connect(home / "tom.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_command_outside_a_tom_is_one_line_saying_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = invoke(["db", "status"])
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("Error: no TOM here") and "tom init" in err


def test_usage_errors_exit_2():
    code, _, err = invoke(["no-such-command"])
    assert code == 2 and "No such command" in err
    code, _, err = invoke(["init", "--no-such-option"])
    assert code == 2


def test_debug_shows_the_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tomcore.cli", "--debug", "db", "status"],
                            cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "NoTomError" in result.stderr
    plain = subprocess.run([sys.executable, "-m", "tomcore.cli", "db", "status"],
                           cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert plain.returncode == 1 and "Traceback" not in plain.stderr


def test_unexpected_errors_are_one_line_without_debug(tom, tom_plugin, run_tom):
    import click

    @click.command("explode")
    def explode():
        raise ZeroDivisionError("postgresql://u:secretpw@h/db went wrong")

    class Plugin:
        @hookimpl
        def register_commands(self, cli):
            cli.add_command(explode)

    tom_plugin(Plugin(), "exploding")
    result = run_tom("explode", expect=1)
    assert result.stderr.startswith("Error: unexpected ZeroDivisionError")
    assert "secretpw" not in result.stderr and "--debug" in result.stderr


class Token(Broker):
    from tomcore.config import Setting

    name = "tokened"
    settings = (Setting("token", None, secret=True), Setting("base_url", "https://broker.example"))


class TokenPlugin:
    @hookimpl
    def register_brokers(self, register):
        register(Token())


def test_plugins_json_lists_what_each_plugin_registered(tom, tom_plugin, run_tom):
    tom_plugin(TokenPlugin(), "tokens")
    infos = {i["name"]: i for i in run_tom("plugins", "--json").json()}
    assert infos["tokens"]["registered"] == {"brokers": ["tokened"]}
    assert infos["tokens"]["hooks"] == ["register_brokers"]
    assert all(not i["builtin"] for i in infos.values())
    everything = run_tom("plugins", "--all", "--json").json()
    assert len(everything) >= len(infos)
    table = run_tom("plugins").stdout
    assert "tokens" in table and "tokened" in table


def test_config_show_masks_secrets_and_names_sources(tom_factory):
    from tomcore.testing.pytest_plugin import make_runner

    tom = tom_factory(load_plugins=False, plugins={"tokens": TokenPlugin()},
                      config='\n[plugins.tokened]\ntoken = "very-secret-token"\n',
                      env={"TOM_TOKENED_BASE_URL": "https://env.example"})
    run_tom = make_runner(tom)
    out = run_tom("config", "show").stdout
    assert "very-secret-token" not in out and "********" in out
    rows = {(r["section"], r["key"]): r for r in run_tom("config", "show", "--json").json()["settings"]}
    assert rows[("plugins.tokened", "token")]["value"] == "********"
    assert rows[("plugins.tokened", "base_url")] | {"help": ""} == {
        "section": "plugins.tokened", "key": "base_url", "value": "https://env.example",
        "source": "env:TOM_TOKENED_BASE_URL", "help": ""}
    from tomcore.config import mask_text

    assert rows[("database", "url")]["value"] == mask_text(tom.database_url)
    assert rows[("storage", "url")]["value"] == tom.storage_url
    for section in ("tokened", "plugins.tokened"):
        shown = run_tom("config", "show", "--section", section, "--json").json()["settings"]
        assert {"token", "base_url"} <= {r["key"] for r in shown} and {r["section"] for r in shown} == {"plugins.tokened"}
    assert "no settings section 'nope'" in run_tom("config", "show", "--section", "nope", expect=1).stderr


def test_unreachable_or_unknown_database_is_one_line_and_init_leaves_nothing(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / "t"
    code, _out, err = invoke(["init", str(home), "--database-url", f"postgresql+psycopg://me:s3cret@127.0.0.1:{port}/tom"])
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith("Error: cannot connect to the database") and "s3cret" not in err
    assert not home.exists()  # no tom.toml pointing at a database that was never made
    code, _out, err = invoke(["init", str(home), "--database-url", "nosuchdb://x"])
    assert code == 1 and err.count("\n") == 1 and "knows no database 'nosuchdb'" in err, err
    assert not home.exists()
    assert invoke(["init", str(home)])[0] == 0
    code, _out, err = invoke(["--home", str(home), "--database-url", f"postgresql+psycopg://me:s3cret@127.0.0.1:{port}/tom",
                             "targets", "list"])
    assert code == 1 and err.startswith("Error: cannot connect to the database") and "s3cret" not in err, err


def test_init_refuses_a_storage_no_backend_serves(tmp_path):
    home = tmp_path / "t"
    code, _out, err = invoke(["init", str(home), "--storage", "nosuch://bucket/x"])
    assert code == 1 and err.startswith("Error: no storage backend serves nosuch:// URLs"), err
    assert not home.exists()


def test_database_url_option_overrides_the_config(tmp_path):
    home = tmp_path / "t"
    assert invoke(["init", str(home)])[0] == 0
    other = tmp_path / "other.db"
    code, out, err = invoke(["--home", str(home), "--database-url", f"sqlite:///{other}", "db", "upgrade"])
    assert code == 0, err
    assert other.exists() and str(other) in out
