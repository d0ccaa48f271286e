"""Print the Alembic operations that create the tables of one area, for a new revision.

Usage: python scripts/render_migration.py AREA_TABLES... --after PREVIOUS_TABLES...
A development helper: the output is pasted into tomcore/store/migrations/versions/ and read.
"""

import sys

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from tomcore.store.models import Base

args = sys.argv[1:]
after = args[args.index("--after") + 1:] if "--after" in args else []
area = args[: args.index("--after")] if "--after" in args else args
engine = create_engine("sqlite://")
with engine.begin() as conn:
    Base.metadata.create_all(conn, tables=[Base.metadata.tables[t] for t in after])
    ctx = MigrationContext.configure(conn, opts={
        "include_object": lambda obj, name, kind, reflected, compare_to: (
            (obj.name if kind == "table" else obj.table.name) in area + after
        ),
        "render_as_batch": True,
        "target_metadata": Base.metadata,
    })
    ops = produce_migrations(ctx, Base.metadata)
    print(render_python_code(ops.upgrade_ops, render_as_batch=True))
    print("#---- downgrade")
    print(render_python_code(ops.downgrade_ops, render_as_batch=True))
