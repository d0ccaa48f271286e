"""alerts: saved broker queries and their runs.

Owned by the alerts area. Before the first release this revision is edited in place when
the models of its area change (the models/migrations test keeps them in agreement).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
