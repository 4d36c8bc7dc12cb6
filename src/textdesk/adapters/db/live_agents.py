"""The live-agent desk's repositories of ``ports.py`` on SQLAlchemy.

Each wraps the SQL of its table's module (``agents.py``, …) on one connection, as
``repositories.py`` does for the dispatcher and the assigner; nothing here adds a
statement or a round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import conversations, media
from textdesk.adapters.db.handoffs import current_handoff
from textdesk.adapters.db.records import SqlRecordStore
from textdesk.adapters.db.repositories import (
    SqlAgents,
    SqlConversations,
    SqlOutbox,
    SqlUnitOfWork,
)
from textdesk.adapters.db.tables import handoffs
from textdesk.adapters.db.workspace_views import SqlWorkspaceReads
from textdesk.ports import AgentRow, ChatRow, CheckedImage, ConversationRow, QueueRow


class SqlPresence:
    """``ports.PresenceRepository`` (``agents.last_seen_at``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark_seen(self, agent_ids: Sequence[int], now: datetime) -> None:
        await agent_store.mark_seen(self._conn, agent_ids, now)


def presence(db: AsyncEngine) -> SqlUnitOfWork[SqlPresence]:
    """The heartbeat's unit of work: one transaction per beat."""
    return SqlUnitOfWork(db, SqlPresence)


# --- the agents' actions (``live_agents/desk``) -----------------------------------------


class SqlChats:
    """``ports.ChatRepository`` (the ``handoffs`` table)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open_chat(self, conversation_id: int) -> ChatRow | None:
        row = await current_handoff(self._conn, conversation_id)
        if row is None:
            return None
        return ChatRow(row.id, row.queue_id, row.status, row.agent_id, row.offered_to)

    async def accept(self, handoff_id: int, agent_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(
                status="active",
                agent_id=agent_id,
                accepted_at=now,
                offered_to=None,
                last_agent_at=now,
            )
        )

    async def agent_spoke(self, handoff_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(handoffs).where(handoffs.c.id == handoff_id).values(last_agent_at=now)
        )

    async def end(self, handoff_id: int, now: datetime, *, ended_by: str) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(status="ended", ended_at=now, ended_by=ended_by)
        )

    async def hand_on(
        self,
        handoff_id: int,
        *,
        queue_id: int,
        declined: Sequence[int],
        note: str | None,
        offer_to: int | None,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {
            "queue_id": queue_id,
            "status": "waiting",
            "agent_id": None,
            "offered_to": None,
            "declined": list(declined),
            "note": note,
        }
        if offer_to is not None:
            values.update(status="offered", offered_to=offer_to, offered_at=now)
        await self._conn.execute(
            update(handoffs).where(handoffs.c.id == handoff_id).values(**values)
        )


class SqlDeskAgents(SqlAgents):
    """``ports.DeskAgents`` (``adapters/db/agents.py``)."""

    async def agent_by_id(self, agent_id: int) -> AgentRow | None:
        return await agent_store.agent_by_id(self._conn, agent_id)

    async def queue_by_id(self, queue_id: int) -> QueueRow | None:
        return await agent_store.queue_by_id(self._conn, queue_id)

    async def queue_ids_of(self, agent_id: int) -> set[int]:
        return await agent_store.queue_ids_of(self._conn, agent_id)


class SqlDeskConversations(SqlConversations):
    """``ports.DeskConversations`` (``adapters/db/conversations.py``)."""

    async def save(self, rows: Sequence[ConversationRow], now: datetime) -> None:
        await conversations.save(self._conn, rows, now)


class SqlUploads:
    """``ports.UploadStore`` (the ``media`` table, with the preview beside the original)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def save(self, image: CheckedImage, data: bytes, now: datetime) -> str:
        return await media.save(
            self._conn,
            data=data,
            content_type=image.content_type,
            now=now,
            preview=(image.preview, image.preview_type),
        )


class SqlDesk:
    """``ports.DeskRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conversations = SqlDeskConversations(conn)
        self.chats = SqlChats(conn)
        self.agents = SqlDeskAgents(conn)
        self.outbox = SqlOutbox(conn)
        self.records = SqlRecordStore(conn)
        self.uploads = SqlUploads(conn)
        self.views = SqlWorkspaceReads(conn)


def desk(db: AsyncEngine) -> SqlUnitOfWork[SqlDesk]:
    """The desk's unit of work: one transaction per action."""
    return SqlUnitOfWork(db, SqlDesk)
