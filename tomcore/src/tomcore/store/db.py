"""Engines, sessions and migrations for the TOM's database.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout;
write transactions start with ``BEGIN IMMEDIATE`` so that two processes (a runner and a
command) queue instead of failing on a lock upgrade. PostgreSQL is selected by URL
(``postgresql+psycopg://...``). The schema is owned by the Alembic migrations shipped in
``tomcore.store.migrations``; a new database is upgraded to the newest revision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from tomcore.config import mask_text
from tomcore.errors import ConfigError, TomError

log = logging.getLogger("tomcore.store")

MIGRATIONS = "tomcore.store:migrations"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("tom_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database.url {mask_text(url)!r} is not a database URL") from None
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(f"database.url {mask_text(url)!r}: SQLAlchemy knows no database {parsed.drivername!r} "
                          "(use sqlite:///PATH or postgresql+psycopg://user:password@host/dbname)") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the database driver for {parsed.drivername} is not installed ({exc.name}); "
                          "pip install 'tomcore[postgres]'") from None


class Database:
    """The TOM's database: an engine, sessions and the schema's revision."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.engine.execution_options(tom_readonly=True), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return mask_text(self.url)

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        maker = self._reader if readonly else self._writer
        with maker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection; a database that cannot be reached is one :class:`TomError` naming
        it (password masked) and the driver's reason."""
        try:
            connection = self.engine.connect()
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise TomError(f"cannot connect to the database {self.display_url}: {mask_text(reason)}") from exc
        with connection:
            yield connection

    # -- migrations ----------------------------------------------------------------------------

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        config.set_main_option("path_separator", "os")
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default: the newest)."""
        from alembic import command

        config = self._alembic_config()
        with self.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database (None: no TOM tables). Read with
        plain SQL, so that commands need not import Alembic."""
        from sqlalchemy.exc import OperationalError, ProgrammingError

        with self.connect() as connection:
            try:
                versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            except (OperationalError, ProgrammingError):
                return None
        return versions[0] if len(versions) == 1 else (",".join(sorted(versions)) or None)

    def head_revision(self) -> str:
        """The newest revision this tomcore ships."""
        from tomcore.store.migrations import HEAD_REVISION

        return HEAD_REVISION

    def script_head_revision(self) -> str | None:
        """The newest revision according to the migration scripts themselves (Alembic)."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def check_revision(self) -> None:
        """Raise a :class:`TomError` saying what to run when the schema is not current."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            if current is None:
                raise TomError(f"the database {self.display_url} has no TOM tables; run `tom db upgrade`")
            raise TomError(f"the database is at revision {current}, this tomcore needs {head}; run `tom db upgrade`")

    def ping(self) -> None:
        with self.connect() as connection:
            connection.execute(text("SELECT 1"))
