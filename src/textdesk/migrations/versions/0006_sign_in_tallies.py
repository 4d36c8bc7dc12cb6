"""sign_in_tallies: failed sign-ins shared by every process

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from textdesk.adapters.db.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_tallies",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_tallies")),
    )
    op.create_index("ix_sign_in_tallies_expires_at", "sign_in_tallies", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_tallies_expires_at", table_name="sign_in_tallies")
    op.drop_table("sign_in_tallies")
