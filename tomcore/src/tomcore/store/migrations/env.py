"""Alembic environment for the TOM's schema.

Run through :meth:`tomcore.store.db.Database.upgrade` (``tom db upgrade``), which passes the
connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tomcore.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from tomcore.store.db import make_engine

        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise SystemExit("no database: run migrations through `tom db upgrade`")
        engine = make_engine(url)
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - `alembic upgrade --sql` is not offered
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
