"""Table definitions (SQLAlchemy Core): the storage shape, separate from domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no 64-bit autoincrement distinct from INTEGER PRIMARY KEY; PostgreSQL does.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


numbers = Table(
    "numbers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("phone", String(20), nullable=False, unique=True),
    Column("purpose", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("phone", String(20), nullable=True, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Every inbound webhook, stored before anything else.  ``id`` gives arrival order.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_sid", String(64), nullable=False, unique=True),
    Column("from_phone", String(32), nullable=False),
    Column("to_phone", String(32), nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("media", Json, nullable=False),
    Column("params", Json, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    # The form as posted (percent-encoded), when the columns above could not hold it
    # as it was: a NUL replaced, an over-long sender shortened, a repeated field.
    Column("raw_form", Text, nullable=True),
    # Unprocessed, its turn stopped before a remote record store's call: that effect
    # (``domain/agent/awaiting.py``), run by the inbox loop outside any transaction.
    Column("awaiting", Json, nullable=True),
    # Until when one process holds the waiting row's remote call (``CLAIM_SECONDS``).
    Column("awaiting_claimed_until", UtcDateTime, nullable=True),
    Index("ix_inbox_pending", "processed_at", "id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("phone", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("user_id", Id, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("mode", String(16), nullable=False, default="bot"),
    Column("state", Json, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("phone", "number", name="uq_conversations_phone_number"),
)

# The transcript: what the texter, the bot and agents said, in order.
transcript = Table(
    "transcript",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("author", String(16), nullable=False),  # texter | bot | agent | system
    Column("body", Text, nullable=False),
    Column("media", Json, nullable=False),
    Column("inbox_id", Id, nullable=True),
    Column("outbox_id", Id, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("agent_id", Id, nullable=True),  # who wrote an agent line (added in 0004)
    Index("ix_transcript_conversation", "conversation_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, nullable=True),
    Column("kind", String(16), nullable=False),  # reply | agent | notification
    Column("to_phone", String(32), nullable=False),
    Column("from_phone", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("media", Json, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("segments", Integer, nullable=False),
    # pending -> sending -> queued/sent/delivered | undelivered | failed | canceled
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("twilio_sid", String(64), nullable=True, unique=True),
    Column("error_code", Integer, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_to_phone", "to_phone", "id"),
)

# Every status callback as received: staff can see why a text was not delivered.
message_events = Table(
    "message_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("twilio_sid", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_code", Integer, nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Index("ix_message_events_sid", "twilio_sid"),
)

# Sender numbers whose sends are held while Twilio keeps failing (domain/sender_pauses.py);
# a row exists only while a number is paused, so the table is usually empty.
sender_pauses = Table(
    "sender_pauses",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("failing_since", UtcDateTime, nullable=False),
    Column("paused_until", UtcDateTime, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Numbers the carrier (or Twilio) has opted out: texting them answers 21610.
carrier_optouts = Table(
    "carrier_optouts",
    metadata,
    Column("phone", String(32), primary_key=True),
    Column("opted_out_at", UtcDateTime, nullable=False),
    Column("source", String(32), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

# Images texters sent (verified) and agents uploaded; served back through signed URLs.
media = Table(
    "media",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("source_url", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# The built-in record store: incidents, ServiceNow-shaped.
records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(16), nullable=True, unique=True),
    Column("table_name", String(32), nullable=False, default="incident"),
    Column("short_description", String(160), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("category", String(64), nullable=True),
    Column("state", String(32), nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("caller_id", Id, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("caller_phone", String(32), nullable=True),
    Column("assigned_to", String(200), nullable=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_records_caller", "caller_id", "state"),
    Index("ix_records_caller_phone", "caller_phone", "state"),
)

record_comments = Table(
    "record_comments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("public", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_record_comments_record", "record_id", "id"),
)

record_attachments = Table(
    "record_attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("media_key", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# What happened to records (state, comment, assignment): the notification feed.
record_events = Table(
    "record_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),  # created | state_changed | commented | assigned
    Column("data", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("handled_at", UtcDateTime, nullable=True),
    Index("ix_record_events_pending", "handled_at", "id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
)

# --- subscriptions and notifications -----------------------------------------------

# Per account and channel; no row means off (notifications are opt-in).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(16), primary_key=True),  # sms
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Every change of a subscription: when, to what, and how (sms | api | workspace).
subscription_changes = Table(
    "subscription_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    # Why and by whom, when staff changed it (added in 0007).
    Column("reason", Text, nullable=True),
    Column("actor", String(200), nullable=True),
    Index("ix_subscription_changes_user", "user_id", "id"),
)

# Each notification meant for an account: queued (with its outbox row, whose status
# is the delivery status) or skipped with the reason; the history staff look at.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("record_id", Id, ForeignKey("records.id", ondelete="SET NULL"), nullable=True),
    Column("event_id", Id, nullable=True),
    Column("source", String(16), nullable=False),  # event | api
    Column("template", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # queued | skipped
    Column("reason", String(32), nullable=True),  # not_subscribed | opted_out | no_phone
    Column("outbox_id", Id, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_notifications_user", "user_id", "id"),
    Index("ix_notifications_outbox", "outbox_id"),
)

# Record events a ServiceNow instance posted (added in 0013): the key is the event
# itself, so a rule that fires twice or a retried post is noted, and notified, once.
# ``digest`` (0017) hashes what the event says: sys_updated_on counts whole seconds,
# and two comments saved in one second are two events.
instance_events = Table(
    "instance_events",
    metadata,
    Column("sys_id", String(64), primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("updated_on", String(32), primary_key=True),
    Column("digest", String(64), primary_key=True, server_default=""),
    Column("received_at", UtcDateTime, nullable=False),
)

# Polling an instance that may not call out (added in 0018): what was last known of
# each incident, every part with the sys_updated_on it is from (parts only move
# forward), and the rounds' cursor and schedule, one row, shared by every process.
instance_snapshots = Table(
    "instance_snapshots",
    metadata,
    Column("sys_id", String(64), primary_key=True),
    Column("state", String(100), nullable=False),
    Column("state_on", String(32), nullable=False),
    Column("assigned_to", String(255), nullable=False),
    Column("assigned_on", String(32), nullable=False),
    Column("comments_through", String(32), nullable=False),
    Column("kept_at", UtcDateTime, nullable=False),
)

instance_poll = Table(
    "instance_poll",
    metadata,
    Column("name", String(32), primary_key=True),  # what is polled: "incident"
    Column("cursor", String(32), nullable=True),  # None until the first round is done
    Column("due_at", UtcDateTime, nullable=False),
)

# Reports a texter made while a remote record store (ServiceNow) did not answer (added
# in 0015): kept here, in the turn's transaction, until ``records/backlog.py`` has made
# each one there (``made_at``), under the turn's effect key so it is made once.
record_backlog = Table(
    "record_backlog",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(120), nullable=False, unique=True),
    Column("record", Json, nullable=False),
    Column("phone", String(32), nullable=False),
    Column("number", String(32), nullable=False),
    Column("conversation_id", Id, nullable=True),
    Column("message", Text, nullable=False),
    Column("kept_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("retry_at", UtcDateTime, nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("made_at", UtcDateTime, nullable=True),
    Column("record_number", String(40), nullable=True),
    Column("last_error", Text, nullable=True),
)

# --- topics ------------------------------------------------------------------------
# Topics with their drafts and published versions (added in TOPICS_MIGRATION): the
# source of each is kept as written, so an export gives back the very bytes imported.
topics = Table(
    "topics",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("origin", String(16), nullable=False),
    Column("file_name", String(200), nullable=True),
    Column("file_hash", String(64), nullable=True),
    Column("draft", Text, nullable=True),
    Column("draft_valid", Boolean, nullable=True),
    Column("draft_base", Integer, nullable=True),
    Column("draft_by", String(200), nullable=True),
    Column("draft_at", UtcDateTime, nullable=True),
    Column("published", Integer, nullable=True),
    Column("revision", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

topic_versions = Table(
    "topic_versions",
    metadata,
    Column("topic_id", String(100), ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
)

# A topic's images and conversation scripts (added in 0019), shared by its draft and
# published version: an image a topic uses is neither replaced nor deleted.
topic_assets = Table(
    "topic_assets",
    metadata,
    Column("topic_id", String(100), ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row: bumped by every change to the published set; each process polls it.
topic_generation = Table(
    "topic_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

# --- live agents -------------------------------------------------------------------

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),  # agent | admin
    Column("presence", String(16), nullable=False),  # available | away | offline
    Column("capacity", Integer, nullable=False),
    Column("last_assigned_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Bumped at sign-out: session cookies carry it, so a copied cookie dies too.
    Column("session_epoch", Integer, nullable=False, default=0, server_default="0"),
    # The heartbeat: refreshed while a live Workspace stream of theirs is open, in any
    # process; assignment offers chats only to agents seen within the grace period.
    Column("last_seen_at", UtcDateTime, nullable=True),
    # Set by `agents remove`: the row stays so the hand-offs and transcript lines the
    # agent handled keep their name; nothing signs in as it or offers chats to it.
    Column("removed_at", UtcDateTime, nullable=True),
)

queues = Table(
    "queues",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("timezone", String(64), nullable=False),
    # {"mon": ["09:00", "17:00"], ...}; null means always open.
    Column("hours", Json, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Set by `queues remove`: ended hand-offs keep the queue they were in.
    Column("removed_at", UtcDateTime, nullable=True),
)

queue_members = Table(
    "queue_members",
    metadata,
    Column("queue_id", Id, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", Id, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
)

# One request for a person: waiting -> offered -> active -> ended (or abandoned).
handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "conversation_id", Id, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("queue_id", Id, ForeignKey("queues.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("note", Text, nullable=True),
    Column("agent_id", Id, ForeignKey("agents.id"), nullable=True),
    Column("offered_to", Id, ForeignKey("agents.id"), nullable=True),
    Column("offered_at", UtcDateTime, nullable=True),
    Column("declined", Json, nullable=False),  # agent ids whose offer lapsed
    Column("requested_at", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("ended_by", String(16), nullable=True),
    Column("last_texter_at", UtcDateTime, nullable=True),
    Column("last_agent_at", UtcDateTime, nullable=True),
    Column("reminded_at", UtcDateTime, nullable=True),
    Column("position_noticed", Integer, nullable=True),
    Column("position_noticed_at", UtcDateTime, nullable=True),
    Index("ix_handoffs_status", "status", "queue_id", "id"),
    Index("ix_handoffs_conversation", "conversation_id", "id"),
)

# Failed sign-ins, counted before the password is checked (domain/sign_in_throttle.py); shared
# by every process when there is no Redis.  Keys are digests, never emails or addresses.
sign_in_tallies = Table(
    "sign_in_tallies",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_sign_in_tallies_expires_at", "expires_at"),
)
