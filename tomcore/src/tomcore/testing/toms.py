"""Throw-away TOMs for tests: SQLite by default, PostgreSQL when asked.

Creating a schema with Alembic takes a while, so each process migrates one template
database once and copies it for every TOM: a file copy on SQLite, ``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tomcore.app import Tom
from tomcore.config import CONFIG_FILE
from tomcore.home import DATABASE_FILE, config_template
from tomcore.plugins import build_plugin_host

#: Environment variable naming a PostgreSQL server (an admin URL) to test against.
TEST_DATABASE_ENV = "TOM_TEST_DATABASE_URL"

#: Settings every test TOM gets: no long sleeps between retries, short timeouts.
TEST_SETTINGS = """
[http]
timeout = 5.0
connect_timeout = 2.0
retries = 2
backoff = 0.0
max_retry_after = 1.0
"""

_lock = threading.Lock()
_templates: dict[str, str] = {}


def _sqlite_template() -> str:
    with _lock:
        if "sqlite" not in _templates:
            from tomcore.store.db import Database, sqlite_url

            directory = Path(tempfile.mkdtemp(prefix="tom-template-"))
            atexit.register(shutil.rmtree, directory, True)
            path = directory / DATABASE_FILE
            db = Database(sqlite_url(path))
            db.upgrade()
            db.dispose()
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _templates["sqlite"] = str(path)
        return _templates["sqlite"]


def _admin_engine(admin_url: str) -> Any:
    from sqlalchemy import create_engine

    from tomcore.store.db import make_engine

    engine = make_engine(admin_url)
    return create_engine(engine.url, isolation_level="AUTOCOMMIT")


def _postgres_template(admin_url: str) -> str:
    from sqlalchemy import text

    with _lock:
        if admin_url not in _templates:
            from tomcore.store.db import Database

            name = f"tom_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            engine = _admin_engine(admin_url)
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            db = Database(str(engine.url.set(database=name).render_as_string(hide_password=False)))
            db.upgrade()
            db.dispose()

            def drop() -> None:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                engine.dispose()

            atexit.register(drop)
            _templates[admin_url] = name
        return _templates[admin_url]


def new_postgres_database(admin_url: str) -> tuple[str, Any]:
    """A fresh database copied from the migrated template: ``(url, drop)``."""
    from sqlalchemy import text

    template = _postgres_template(admin_url)
    engine = _admin_engine(admin_url)
    name = f"tom_test_{uuid.uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = engine.url.set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url, drop


def make_tom(
    home: Path,
    *,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
    load_plugins: bool | list[str] = True,
    plugins: Mapping[str, object] | None = None,
    config: str = "",
    strict: bool = False,
) -> tuple[Tom, Any]:
    """Create a TOM in ``home`` and open it. Returns ``(tom, cleanup)``.

    :param database_url: an admin URL of a PostgreSQL server to get a fresh database on;
        default: ``TOM_TEST_DATABASE_URL`` if set, else SQLite in ``home``.
    :param env: the environment the TOM sees (default: ``os.environ`` without ``TOM_*``).
    :param load_plugins: True loads every installed plugin, False none, a list only those.
    :param plugins: extra plugin objects to register, by name.
    :param config: more TOML appended to ``tom.toml``.
    """
    home.mkdir(parents=True, exist_ok=True)
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOM_")}
    admin_url = database_url if database_url is not None else os.environ.get(TEST_DATABASE_ENV)
    cleanups = []
    db_url = None
    if admin_url:
        db_url, drop = new_postgres_database(admin_url)
        cleanups.append(drop)
    else:
        shutil.copyfile(_sqlite_template(), home / DATABASE_FILE)
    (home / "data").mkdir(exist_ok=True)
    (home / CONFIG_FILE).write_text(config_template("Test TOM", db_url, None) + TEST_SETTINGS + config, encoding="utf-8")
    host_env = dict(env)
    if load_plugins is not True:
        host_env["TOM_LOAD_PLUGINS"] = ",".join(load_plugins or [])
    host = build_plugin_host(env=host_env, strict=strict, extra=plugins)
    tom = Tom.open(home, env=env, plugins=host)

    def cleanup() -> None:
        tom.close()
        for step in cleanups:
            step()

    return tom, cleanup
