"""topics, topic_versions, topic_generation: topics in the database, with versions

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from textdesk.adapters.db.tables import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("file_hash", sa.String(length=64), nullable=True),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("draft_valid", sa.Boolean(), nullable=True),
        sa.Column("draft_base", sa.Integer(), nullable=True),
        sa.Column("draft_by", sa.String(length=200), nullable=True),
        sa.Column("draft_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("published", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
    )
    op.create_table(
        "topic_versions",
        sa.Column("topic_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_versions_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "version", name=op.f("pk_topic_versions")),
    )
    op.create_table(
        "topic_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_generation")),
    )


def downgrade() -> None:
    op.drop_table("topic_generation")
    op.drop_table("topic_versions")
    op.drop_table("topics")
