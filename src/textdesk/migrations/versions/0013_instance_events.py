"""instance_events: record events a ServiceNow instance posted, each noted once

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from textdesk.adapters.db.tables import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_events",
        sa.Column("sys_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("updated_on", sa.String(length=32), nullable=False),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sys_id", "event", "updated_on", name=op.f("pk_instance_events")),
    )


def downgrade() -> None:
    op.drop_table("instance_events")
