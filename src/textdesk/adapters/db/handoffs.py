"""Hand-offs to people: the ``handoffs`` table's SQL, and ``ports.HandoffRepository`` on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db.tables import conversations as conversation_table
from textdesk.adapters.db.tables import handoffs
from textdesk.domain.live_agents import OPEN_STATUSES
from textdesk.ports import ActiveChat, LapsedOffer, OpenHandoff, WaitingHandoff


async def current_handoff(conn: AsyncConnection, conversation_id: int) -> Any | None:
    """The open hand-off of a conversation, if any."""
    return (
        await conn.execute(
            select(handoffs)
            .where(
                handoffs.c.conversation_id == conversation_id, handoffs.c.status.in_(OPEN_STATUSES)
            )
            .order_by(handoffs.c.id.desc())
            .limit(1)
        )
    ).first()


class SqlHandoffs:
    """``ports.HandoffRepository`` (the ``handoffs`` table)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lapsed_offers(
        self, *, offered_before: datetime, seen_since: datetime
    ) -> list[LapsedOffer]:
        rows = await self._conn.execute(
            select(
                handoffs.c.id,
                handoffs.c.offered_to,
                handoffs.c.declined,
                handoffs.c.conversation_id,
            ).where(
                handoffs.c.status == "offered",
                or_(
                    handoffs.c.offered_at < offered_before,
                    handoffs.c.offered_to.in_(agent_store.unreachable_ids(seen_since)),
                ),
            )
        )
        return [
            LapsedOffer(r.id, r.conversation_id, r.offered_to, tuple(r.declined or ()))
            for r in rows
        ]

    async def back_in_line(self, handoff_id: int, declined: Sequence[int]) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(status="waiting", offered_to=None, offered_at=None, declined=list(declined))
        )

    async def waiting(self) -> list[WaitingHandoff]:
        rows = await self._conn.execute(
            select(handoffs).where(handoffs.c.status == "waiting").order_by(handoffs.c.id)
        )
        return [
            WaitingHandoff(
                id=r.id,
                conversation_id=r.conversation_id,
                queue_id=r.queue_id,
                declined=tuple(r.declined or ()),
                position_noticed=r.position_noticed,
                position_noticed_at=r.position_noticed_at,
            )
            for r in rows
        ]

    async def offer(self, handoff_id: int, agent_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(status="offered", offered_to=agent_id, offered_at=now)
        )

    async def active_chats(self) -> list[ActiveChat]:
        rows = await self._conn.execute(
            select(handoffs, conversation_table.c.phone, conversation_table.c.number)
            .join(conversation_table, conversation_table.c.id == handoffs.c.conversation_id)
            .where(handoffs.c.status == "active")
        )
        return [
            ActiveChat(
                id=r.id,
                conversation_id=r.conversation_id,
                agent_id=r.agent_id,
                phone=r.phone,
                number=r.number,
                accepted_at=r.accepted_at,
                last_texter_at=r.last_texter_at,
                last_agent_at=r.last_agent_at,
                reminded_at=r.reminded_at,
            )
            for r in rows
        ]

    async def note_reminded(self, handoff_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(handoffs).where(handoffs.c.id == handoff_id).values(reminded_at=now)
        )

    async def note_position(self, handoff_id: int, position: int, now: datetime) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(position_noticed=position, position_noticed_at=now)
        )

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        row = await current_handoff(self._conn, conversation_id)
        return OpenHandoff(row.id, row.queue_id, row.status) if row is not None else None

    async def open(self, conversation_id: int, queue_id: int, reason: str, now: datetime) -> int:
        result = await self._conn.execute(
            handoffs.insert()
            .values(
                conversation_id=conversation_id,
                queue_id=queue_id,
                status="waiting",
                reason=reason,
                declined=[],
                requested_at=now,
                last_texter_at=now,
            )
            .returning(handoffs.c.id)
        )
        return int(result.scalar_one())

    async def position_in_line(self, queue_id: int, handoff_id: int) -> int:
        ahead = await self._conn.execute(
            select(func.count()).where(
                handoffs.c.queue_id == queue_id,
                handoffs.c.status == "waiting",
                handoffs.c.id <= handoff_id,
            )
        )
        return int(ahead.scalar_one())

    async def texter_spoke(self, conversation_id: int, now: datetime) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(
                handoffs.c.conversation_id == conversation_id,
                handoffs.c.status.in_(OPEN_STATUSES),
            )
            .values(last_texter_at=now)
        )

    async def close(self, handoff_id: int, status: str, now: datetime, *, ended_by: str) -> None:
        await self._conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(status=status, ended_at=now, ended_by=ended_by, offered_to=None)
        )
