"""The Alembic migrations and the SQLAlchemy models describe the same schema, on SQLite and
(with TOM_TEST_DATABASE_URL) on PostgreSQL; a new TOM is at the newest revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tomcore.store.models import Base


def test_new_tom_is_at_newest_revision(tom):
    assert tom.db.current_revision() == tom.db.head_revision()
    tom.db.check_revision()


def test_models_and_migrations_agree(tom):
    with tom.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if not _ignorable(d)]
    assert diff == [], f"models and migrations differ on {tom.db.dialect}: {diff}"


def test_upgrade_is_idempotent(tom):
    before = tom.db.current_revision()
    tom.db.upgrade()
    assert tom.db.current_revision() == before


def _ignorable(diff) -> bool:
    # alembic_version is Alembic's own table; the matcher's temporary table is per connection.
    name = diff[1].name if hasattr(diff[1], "name") else ""
    return diff[0] in ("remove_table",) and name in ("alembic_version", "tom_ranges")
