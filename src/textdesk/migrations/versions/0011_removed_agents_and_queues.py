"""agents.removed_at and queues.removed_at: a removed one stays as a name in history

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from textdesk.adapters.db.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("agents", "queues"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("removed_at", UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ("queues", "agents"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("removed_at")
