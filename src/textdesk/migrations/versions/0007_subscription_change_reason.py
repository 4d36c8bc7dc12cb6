"""subscription_changes.reason and .actor: why staff changed a subscription, and who

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscription_changes") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("actor", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscription_changes") as batch:
        batch.drop_column("actor")
        batch.drop_column("reason")
