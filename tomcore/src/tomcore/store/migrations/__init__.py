"""The Alembic migrations of the TOM's schema.

:data:`HEAD_REVISION` lets commands check that a database is current without importing
Alembic (which costs a few hundred milliseconds); ``tomcore/tests/test_migrations.py``
checks that it names the newest script.
"""

HEAD_REVISION = "0004"
