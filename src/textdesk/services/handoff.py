"""Handing a conversation from the virtual agent to a person, and back.

The bot's side (``LiveAgents.request``) decides from the queue's hours and its agents'
presence whether anyone can take the texter; the texter's side keeps the hand-off
current while they text.  Agents' actions live in ``services/agent_desk.py``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db.conversations import TranscriptEntry, append
from textdesk.adapters.db.tables import handoffs
from textdesk.domain.events import EffectResult, Transfer
from textdesk.domain.handoff import is_open, wait_minutes
from textdesk.services.processing import TextInContext

log = logging.getLogger(__name__)
OPEN_STATUSES = ("waiting", "offered", "active")


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


async def position_in_line(conn: AsyncConnection, queue_id: int, handoff_id: int) -> int:
    """1 for the next texter to be offered to an agent."""
    ahead = await conn.execute(
        select(func.count()).where(
            handoffs.c.queue_id == queue_id,
            handoffs.c.status == "waiting",
            handoffs.c.id <= handoff_id,
        )
    )
    return int(ahead.scalar_one())


async def free_slots(
    conn: AsyncConnection, queue_id: int, *, seen_since: datetime
) -> tuple[int, int]:
    """(agents on duty in the queue, chats they can still take).

    On duty: available, with a Workspace connected since ``seen_since``; an agent who
    closed the tab is no help to a texter, whatever their presence says.
    """
    loads = await agent_store.loads(conn, queue_id, seen_since=seen_since)
    on_duty = [a for a in loads if a.on_duty]
    return len(on_duty), sum(max(0, a.capacity - a.active) for a in on_duty)


class LiveAgents:
    """The hand-off port of the virtual agent, on our own queues and agents.

    ``grace``: how long after their Workspace was last seen connected an agent still
    counts (``TEXTDESK_PRESENCE_GRACE_SECONDS``).
    """

    def __init__(self, *, grace: timedelta) -> None:
        self._grace = grace

    async def request(self, turn: TextInContext, effect: Transfer) -> EffectResult:
        conn, now = turn.conn, turn.now
        queue = await agent_store.queue_by_name(conn, effect.queue) if effect.queue else None
        if queue is None:
            if effect.queue:
                log.warning("transfer to unknown queue %r: using the default queue", effect.queue)
            queue = await agent_store.default_queue(conn)
        if queue is None:
            return EffectResult(value={"status": "unavailable"})
        if not is_open(queue.hours, queue.timezone, now):
            await self._note(
                conn, turn, now, f"Asked for an agent ({effect.reason}): {queue.name} is closed"
            )
            return EffectResult(value={"status": "out_of_hours"})
        present, slots = await free_slots(conn, queue.id, seen_since=now - self._grace)
        if present == 0:
            await self._note(
                conn,
                turn,
                now,
                f"Asked for an agent ({effect.reason}): nobody available in {queue.name}",
            )
            return EffectResult(value={"status": "unavailable"})
        existing = await current_handoff(conn, turn.conversation_id)
        if existing is not None:
            handoff_id, queue_id = existing.id, existing.queue_id
        else:
            result = await conn.execute(
                handoffs.insert()
                .values(
                    conversation_id=turn.conversation_id,
                    queue_id=queue.id,
                    status="waiting",
                    reason=effect.reason,
                    declined=[],
                    requested_at=now,
                    last_texter_at=now,
                )
                .returning(handoffs.c.id)
            )
            handoff_id, queue_id = int(result.scalar_one()), queue.id
            await self._note(conn, turn, now, f"Transferred to {queue.name} ({effect.reason})")
        position = await position_in_line(conn, queue_id, handoff_id)
        await conn.execute(
            update(handoffs)
            .where(handoffs.c.id == handoff_id)
            .values(position_noticed=position, position_noticed_at=now)
        )
        return EffectResult(
            value={
                "status": "queued",
                "wait_minutes": wait_minutes(position, slots),
                "queue": queue.name,
            }
        )

    @staticmethod
    async def _note(conn: AsyncConnection, turn: TextInContext, now: datetime, text: str) -> None:
        await append(conn, [TranscriptEntry(turn.conversation_id, "system", text)], now)


async def texter_spoke(conn: AsyncConnection, conversation_id: int, now: datetime) -> None:
    """A text for the agent arrived: the waiting clock for the agent's reply starts."""
    await conn.execute(
        update(handoffs)
        .where(handoffs.c.conversation_id == conversation_id, handoffs.c.status.in_(OPEN_STATUSES))
        .values(last_texter_at=now)
    )


async def texter_left(conn: AsyncConnection, conversation_id: int, now: datetime) -> None:
    """The texter said BYE while queued or with an agent."""
    current = await current_handoff(conn, conversation_id)
    if current is None:
        return
    await conn.execute(
        update(handoffs)
        .where(handoffs.c.id == current.id)
        .values(
            status="ended" if current.status == "active" else "abandoned",
            ended_at=now,
            ended_by="texter",
            offered_to=None,
        )
    )
