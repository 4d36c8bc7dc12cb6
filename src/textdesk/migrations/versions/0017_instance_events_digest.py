"""instance_events.digest: two events of one incident in the same second are both noted

``sys_updated_on`` counts whole seconds, so (sys_id, event, sys_updated_on) took a
second comment saved in the same second for the first one posted again.  The key
now ends with a digest of what the event says.  Events noted before have an empty
digest: one of those posted again after the upgrade would be noted anew, but the
instance posts each event once, when it happens, and a signed post is refused five
minutes after it was signed.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_OLD_KEY = ["sys_id", "event", "updated_on"]


def upgrade() -> None:
    # SQLite cannot change a primary key in place: there the batch copies the table.
    with op.batch_alter_table("instance_events", recreate="auto") as batch:
        batch.add_column(
            sa.Column("digest", sa.String(length=64), nullable=False, server_default="")
        )
        batch.drop_constraint("pk_instance_events", type_="primary")
        batch.create_primary_key("pk_instance_events", [*_OLD_KEY, "digest"])


def downgrade() -> None:
    # Events that differ only by their digest become one again: one of them is kept.
    op.execute(
        "DELETE FROM instance_events WHERE EXISTS (SELECT 1 FROM instance_events AS other"
        " WHERE other.sys_id = instance_events.sys_id AND other.event = instance_events.event"
        " AND other.updated_on = instance_events.updated_on"
        " AND other.digest < instance_events.digest)"
    )
    with op.batch_alter_table("instance_events", recreate="auto") as batch:
        batch.drop_constraint("pk_instance_events", type_="primary")
        batch.create_primary_key("pk_instance_events", _OLD_KEY)
        batch.drop_column("digest")
