"""record_backlog: reports kept while a remote record store did not answer

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from textdesk.adapters.db.tables import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "record_backlog",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("record", Json, nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", Id, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("kept_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("made_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("record_number", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_backlog")),
        sa.UniqueConstraint("key", name=op.f("uq_record_backlog_key")),
    )


def downgrade() -> None:
    op.drop_table("record_backlog")
