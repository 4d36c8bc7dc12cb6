"""``ports.AnsweringRepositories`` on SQLAlchemy: the inbox, conversations, replies, locks.

Each class wraps the SQL of its table's module (``inbox.py``, ``conversations.py``,
``media.py``; the texters' directory is ``texter_accounts.py``'s) on the transaction's
one connection; nothing here adds a statement or a round trip to the webhook's path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import conversations, inbox, media
from textdesk.adapters.db.dialect import lock_keys_waiting_at_most, try_lock_keys
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.adapters.db.notification_repositories import SqlSubscriptionRepositories
from textdesk.adapters.db.record_backlog import SqlRecordBacklog
from textdesk.adapters.db.records import SqlRecordStore
from textdesk.adapters.db.repositories import (
    SqlHandoffRepositories,
    SqlOutbox,
    SqlStatuses,
    SqlUnitOfWork,
)
from textdesk.adapters.db.texter_accounts import SqlTexterDirectory
from textdesk.adapters.texters import TextersWithProfiles
from textdesk.domain.twilio_forms import InboundSms
from textdesk.ports import (
    ConversationRow,
    InboundRow,
    TexterDirectory,
    TexterProfiles,
    TranscriptEntry,
)


def _lock_key(key: tuple[str, str]) -> str:
    return conversations.lock_key(*key)


class SqlInbox:
    """``ports.InboxRepository`` (``adapters/db/inbox.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def store(
        self, messages: Sequence[tuple[InboundSms, datetime]]
    ) -> list[InboundRow | None]:
        return await inbox.store(self._conn, messages)

    async def pending(self, *, limit: int) -> list[InboundRow]:
        return await inbox.pending(self._conn, limit=limit)

    async def pending_for(self, ids: Sequence[int]) -> list[InboundRow]:
        return await inbox.pending_for(self._conn, ids)

    async def waiting_from(self, phones: Sequence[str]) -> list[InboundRow]:
        return await inbox.waiting_from(self._conn, phones)

    async def set_media(self, inbox_id: int, media_entries: list[dict[str, Any]]) -> None:
        await inbox.set_media(self._conn, inbox_id, media_entries)

    async def set_awaiting(self, waits: dict[int, dict[str, Any] | None]) -> None:
        await inbox.set_awaiting(self._conn, waits)

    async def claim_awaiting(self, inbox_id: int, *, now: datetime, until: datetime) -> bool:
        return await inbox.claim_awaiting(self._conn, inbox_id, now=now, until=until)

    async def release_awaiting(self, ids: Sequence[int]) -> None:
        await inbox.release_awaiting(self._conn, ids)

    async def mark_processed(
        self, ids: Sequence[int], when: datetime, errors: dict[int, str] | None = None
    ) -> None:
        await inbox.mark_processed(self._conn, ids, when, errors)


class SqlAnsweredConversations:
    """``ports.AnsweredConversations`` (``conversations.py``; locks from ``dialect.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def load_or_create(
        self, keys: Sequence[tuple[str, str]], users_by_phone: dict[str, int], now: datetime
    ) -> dict[tuple[str, str], ConversationRow]:
        return await conversations.load_or_create(self._conn, keys, users_by_phone, now)

    async def save(self, rows: Sequence[ConversationRow], now: datetime) -> None:
        await conversations.save(self._conn, rows, now)

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None:
        await conversations.append(self._conn, entries, now)

    async def try_lock(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        got = await try_lock_keys(self._conn, [_lock_key(k) for k in keys])
        return {k for k in keys if _lock_key(k) in got}

    async def lock_waiting_at_most(self, keys: Sequence[tuple[str, str]], ms: int) -> bool:
        return await lock_keys_waiting_at_most(self._conn, [_lock_key(k) for k in keys], ms)


class SqlInboundMedia:
    """``ports.InboundMedia`` (``media.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def save(
        self,
        *,
        data: bytes,
        content_type: str,
        now: datetime,
        source_url: str | None,
        preview: tuple[bytes, str] | None,
    ) -> str:
        return await media.save(
            self._conn,
            data=data,
            content_type=content_type,
            now=now,
            source_url=source_url,
            preview=preview,
        )


class SqlAnswering:
    """``ports.AnsweringRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection, profiles: TexterProfiles | None = None) -> None:
        self._conn = conn
        self.inbox = SqlInbox(conn)
        self.conversations = SqlAnsweredConversations(conn)
        # Another service's users, when people are kept there: read from memory.
        self.directory: TexterDirectory = (
            SqlTexterDirectory(conn)
            if profiles is None
            else TextersWithProfiles(SqlTexterDirectory(conn), profiles)
        )
        self.media = SqlInboundMedia(conn)
        self.outbox = SqlOutbox(conn)
        self.statuses = SqlStatuses(conn)
        self.records = SqlRecordStore(conn)
        self.handoffs = SqlHandoffRepositories(conn)
        self.subscriptions = SqlSubscriptionRepositories(conn, self.directory)
        self.backlog = SqlRecordBacklog(conn)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self._conn.begin_nested():
            yield


class SqlAnsweringUnitOfWork(SqlUnitOfWork[SqlAnswering]):
    """The inbox loop's transactions, and reads outside any (``read``)."""

    def __init__(self, db: AsyncEngine, profiles: TexterProfiles | None = None) -> None:
        super().__init__(db, _repositories(profiles))
        self._engine = db
        self._profiles = profiles

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlAnswering]:
        async with self._engine.connect() as conn:
            yield SqlAnswering(conn, self._profiles)


def _repositories(profiles: TexterProfiles | None) -> Callable[[AsyncConnection], SqlAnswering]:
    return lambda conn: SqlAnswering(conn, profiles)


def answering(db: AsyncEngine, profiles: TexterProfiles | None = None) -> SqlAnsweringUnitOfWork:
    """The inbox loop's unit of work (``profiles``: another service's users, if any)."""
    return SqlAnsweringUnitOfWork(db, profiles)


def group_commit(
    db: AsyncEngine, profiles: TexterProfiles | None = None
) -> GroupCommitter[SqlAnswering]:
    """The webhooks' group committer, its writers handed the batch's repositories."""
    return GroupCommitter(db, _repositories(profiles))
