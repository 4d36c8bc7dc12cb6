"""sender_pauses: a number's sends held while Twilio keeps failing

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from textdesk.adapters.db.tables import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sender_pauses",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("failing_since", UtcDateTime(timezone=True), nullable=False),
        sa.Column("paused_until", UtcDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_sender_pauses")),
    )


def downgrade() -> None:
    op.drop_table("sender_pauses")
