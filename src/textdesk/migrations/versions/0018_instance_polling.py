"""instance_snapshots and instance_poll: polling an instance that may not call out

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from textdesk.adapters.db.tables import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_snapshots",
        sa.Column("sys_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=False),
        sa.Column("state_on", sa.String(length=32), nullable=False),
        sa.Column("assigned_to", sa.String(length=255), nullable=False),
        sa.Column("assigned_on", sa.String(length=32), nullable=False),
        sa.Column("comments_through", sa.String(length=32), nullable=False),
        sa.Column("kept_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sys_id", name=op.f("pk_instance_snapshots")),
    )
    op.create_table(
        "instance_poll",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=32), nullable=True),
        sa.Column("due_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_poll")),
    )


def downgrade() -> None:
    op.drop_table("instance_poll")
    op.drop_table("instance_snapshots")
