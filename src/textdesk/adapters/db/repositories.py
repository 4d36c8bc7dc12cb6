"""The repositories of ``ports.py`` on SQLAlchemy: a unit of work per transaction.

Each repository wraps the SQL of its table's module (``outbox.py``, ``sender_pauses.py``, …)
on the transaction's one connection; nothing here adds a statement or a round trip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import conversations, outbox, sender_pauses
from textdesk.adapters.db.dialect import lock_keys
from textdesk.adapters.db.handoffs import SqlHandoffs
from textdesk.domain.live_agents import AgentLoad
from textdesk.domain.sender_pauses import Pause
from textdesk.ports import (
    ConversationRow,
    NewMessage,
    OutboxRow,
    QueueRow,
    StatusUpdate,
    TranscriptEntry,
)

Repositories = TypeVar("Repositories")


class SqlUnitOfWork(Generic[Repositories]):
    """``ports.UnitOfWork`` on an engine: ``make`` builds the repositories of a connection."""

    def __init__(self, db: AsyncEngine, make: Callable[[AsyncConnection], Repositories]) -> None:
        self._db = db
        self._make = make

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Repositories]:
        async with self._db.begin() as conn:
            yield self._make(conn)


class SqlOutbox:
    """``ports.OutboxRepository`` (``adapters/db/outbox.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def enqueue(self, messages: Sequence[NewMessage], now: datetime) -> list[int]:
        return await outbox.enqueue(self._conn, messages, now)

    async def release_expired_claims(self, now: datetime) -> int:
        return await outbox.release_expired_claims(self._conn, now)

    async def claim_due(
        self,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        per_sender: int,
        held: Collection[str] = (),
        probes: Collection[str] = (),
    ) -> list[OutboxRow]:
        return await outbox.claim_due(
            self._conn,
            now=now,
            lease=lease,
            limit=limit,
            per_sender=per_sender,
            held=held,
            probes=probes,
        )

    async def mark_accepted(
        self, rows: Sequence[tuple[int, str, str, datetime]], now: datetime
    ) -> None:
        await outbox.mark_accepted(self._conn, rows, now)

    async def mark_in_doubt(
        self, rows: Sequence[tuple[int, datetime, str, datetime]], now: datetime
    ) -> None:
        await outbox.mark_in_doubt(self._conn, rows, now)

    async def mark_retry(
        self, rows: Sequence[tuple[int, datetime, int | None, str | None]], now: datetime
    ) -> None:
        await outbox.mark_retry(self._conn, rows, now)

    async def mark_held(self, rows: Sequence[tuple[int, datetime]], now: datetime) -> None:
        await outbox.mark_held(self._conn, rows, now)

    async def mark_failed(
        self, rows: Sequence[tuple[int, int | None, str | None]], now: datetime
    ) -> None:
        await outbox.mark_failed(self._conn, rows, now)

    async def mark_canceled(self, rows: Sequence[tuple[int, str]], now: datetime) -> None:
        await outbox.mark_canceled(self._conn, rows, now)

    async def fail_expired(
        self, number: str, *, queued_before: datetime, message: str, now: datetime
    ) -> int:
        return await outbox.fail_expired(
            self._conn, number, queued_before=queued_before, message=message, now=now
        )


class SqlOptOuts:
    """``ports.OptOutRepository`` (``carrier_optouts``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark_opted_out(self, phones: Sequence[str], now: datetime, source: str) -> None:
        await outbox.mark_opted_out(self._conn, phones, now, source)


class SqlSenderPauses:
    """``ports.SenderPauseRepository`` (``adapters/db/sender_pauses.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def load(self) -> dict[str, Pause]:
        return await sender_pauses.load(self._conn)

    async def save(self, pause: Pause, now: datetime) -> None:
        await sender_pauses.save(self._conn, pause, now)

    async def take_probe(self, number: str, *, now: datetime, hold_until: datetime) -> bool:
        return await sender_pauses.take_probe(self._conn, number, now=now, hold_until=hold_until)

    async def return_probe(self, number: str, now: datetime) -> None:
        await sender_pauses.return_probe(self._conn, number, now)

    async def resume(self, number: str, now: datetime) -> bool:
        return await sender_pauses.resume(self._conn, number, now)


# The send-time check on the claiming connection: ``{outbox id: reason}`` for texts
# that must not go out after all.
SendGate = Callable[[AsyncConnection, Sequence[OutboxRow]], Awaitable[dict[int, str]]]


async def _no_gate(conn: AsyncConnection, rows: Sequence[OutboxRow]) -> dict[int, str]:
    return {}


class SqlSendChecks:
    """``ports.SendChecks`` by a gate function run in the claiming transaction."""

    def __init__(self, conn: AsyncConnection, gate: SendGate) -> None:
        self._conn = conn
        self._gate = gate

    async def blocked(self, rows: Sequence[OutboxRow]) -> dict[int, str]:
        return await self._gate(self._conn, rows)


class SqlSending:
    """``ports.SendingRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection, gate: SendGate = _no_gate) -> None:
        self.outbox = SqlOutbox(conn)
        self.optouts = SqlOptOuts(conn)
        self.pauses = SqlSenderPauses(conn)
        self.checks = SqlSendChecks(conn, gate)


def sending(db: AsyncEngine, *, gate: SendGate = _no_gate) -> SqlUnitOfWork[SqlSending]:
    """The dispatcher's unit of work; ``gate`` is its send-time check, if any."""
    return SqlUnitOfWork(db, lambda conn: SqlSending(conn, gate))


class SqlConversations:
    """``ports.ConversationRepository`` (``adapters/db/conversations.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, conversation_id: int) -> ConversationRow | None:
        return await conversations.get(self._conn, conversation_id)

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None:
        await conversations.append(self._conn, entries, now)

    async def lock(self, which: Collection[tuple[str, str]]) -> None:
        await lock_keys(
            self._conn, sorted(conversations.lock_key(phone, number) for phone, number in which)
        )


class SqlAgents:
    """``ports.AgentRepository`` (``adapters/db/agents.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return await agent_store.queue_by_name(self._conn, name)

    async def default_queue(self) -> QueueRow | None:
        return await agent_store.default_queue(self._conn)

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        return await agent_store.loads(self._conn, queue_id, seen_since=seen_since)

    async def mark_assigned(self, agent_ids: Sequence[int], now: datetime) -> None:
        await agent_store.mark_assigned(self._conn, agent_ids, now)


# Ends a chat on the desk's behalf, on the pass's connection (``Desk.end``).
EndChat = Callable[[AsyncConnection, int, datetime], Awaitable[None]]


class SqlChatCloser:
    """``ports.ChatCloser`` by the desk's own way of ending a chat."""

    def __init__(self, conn: AsyncConnection, end: EndChat) -> None:
        self._conn = conn
        self._end = end

    async def end_idle(self, conversation_id: int, now: datetime) -> None:
        await self._end(self._conn, conversation_id, now)


class SqlAssignment:
    """``ports.AssignmentRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection, end: EndChat) -> None:
        self.handoffs = SqlHandoffs(conn)
        self.agents = SqlAgents(conn)
        self.conversations = SqlConversations(conn)
        self.outbox = SqlOutbox(conn)
        self.chats = SqlChatCloser(conn, end)


def assignment(db: AsyncEngine, *, end_chat: EndChat) -> SqlUnitOfWork[SqlAssignment]:
    """The assigner's unit of work; ``end_chat`` closes a chat left idle."""
    return SqlUnitOfWork(db, lambda conn: SqlAssignment(conn, end_chat))


class SqlHandoffRepositories:
    """``ports.HandoffRepositories`` on a turn's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.handoffs = SqlHandoffs(conn)
        self.agents = SqlAgents(conn)
        self.conversations = SqlConversations(conn)


class SqlStatuses:
    """``ports.StatusRepository`` (``adapters/db/outbox.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim_checks(self, *, now: datetime, after: timedelta, limit: int) -> list[str]:
        return await outbox.claim_status_checks(self._conn, now=now, after=after, limit=limit)

    async def apply_reconciled(self, updates: Sequence[StatusUpdate]) -> list[int | None]:
        return await outbox.apply_reconciled(self._conn, updates)

    async def apply_callbacks(self, updates: Sequence[StatusUpdate]) -> list[int | None]:
        return await outbox.apply_status_updates(self._conn, updates)


class SqlReconciling:
    """``ports.ReconcileRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.statuses = SqlStatuses(conn)


def reconciling(db: AsyncEngine) -> SqlUnitOfWork[SqlReconciling]:
    """The reconciler's unit of work."""
    return SqlUnitOfWork(db, SqlReconciling)
