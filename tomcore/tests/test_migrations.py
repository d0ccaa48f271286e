"""The Alembic migrations and the SQLAlchemy models describe the same schema, on SQLite and
(with TOM_TEST_DATABASE_URL) on PostgreSQL; a new TOM is at the newest revision."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tomcore.store.models import Base


def test_new_tom_is_at_newest_revision(tom):
    assert tom.db.current_revision() == tom.db.head_revision()
    tom.db.check_revision()


def test_head_revision_constant_names_the_newest_script(tom):
    assert tom.db.head_revision() == tom.db.script_head_revision()


def test_an_old_or_empty_database_is_refused_with_what_to_run(tom_factory, tmp_path):
    import pytest
    from sqlalchemy import text

    from tomcore.errors import TomError
    from tomcore.store.db import Database, sqlite_url

    empty = Database(sqlite_url(tmp_path / "empty.db"))
    assert empty.current_revision() is None
    with pytest.raises(TomError, match="tom db upgrade"):
        empty.check_revision()
    tom = tom_factory()
    with tom.db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(TomError, match="revision 0001.*tom db upgrade"):
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
