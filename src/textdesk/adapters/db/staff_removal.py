"""Listing agents with their queues; removing agents and queues, history kept.

A removed agent or queue stays as a row with ``removed_at`` set: hand-offs point
at both (foreign keys without ON DELETE) and the Workspace shows who handled a
chat and in which queue, so the row keeps its name for that history while
adapters/db/agents.py no longer finds it for sign-in, offers or lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import (
    agents,
    conversations,
    handoffs,
    queue_members,
    queues,
    transcript,
)
from textdesk.ports import AgentFootprint, ListedAgent, OpenChat, QueueFootprint

OPEN_STATUSES = ("waiting", "offered", "active")


async def list_agents_with_queues(conn: AsyncConnection) -> list[ListedAgent]:
    """Agents not removed, by name, each with the names of its open queues (two queries)."""
    memberships = await conn.execute(
        select(queue_members.c.agent_id, queues.c.name)
        .join(queues, queues.c.id == queue_members.c.queue_id)
        .where(queues.c.removed_at.is_(None))
        .order_by(queues.c.name)
    )
    names: dict[int, list[str]] = {}
    for agent_id, queue_name in memberships:
        names.setdefault(agent_id, []).append(queue_name)
    rows = await conn.execute(
        select(agents).where(agents.c.removed_at.is_(None)).order_by(agents.c.name)
    )
    return [
        ListedAgent(
            r.id, r.name, r.email, r.role, r.capacity, r.presence, tuple(names.get(r.id, ()))
        )
        for r in rows
    ]


async def _open_chats(conn: AsyncConnection, where: ColumnElement[bool]) -> list[OpenChat]:
    rows = await conn.execute(
        select(conversations.c.phone, handoffs.c.status)
        .join(conversations, conversations.c.id == handoffs.c.conversation_id)
        .where(handoffs.c.status.in_(OPEN_STATUSES), where)
        .order_by(handoffs.c.id)
    )
    return [OpenChat(r.phone, r.status) for r in rows]


async def agent_footprint(conn: AsyncConnection, agent_id: int) -> AgentFootprint:
    async def count(table: Any, column: Any) -> int:
        found = await conn.execute(
            select(func.count()).select_from(table).where(column == agent_id)
        )
        return int(found.scalar_one())

    return AgentFootprint(
        open_chats=await _open_chats(
            conn, or_(handoffs.c.agent_id == agent_id, handoffs.c.offered_to == agent_id)
        ),
        queues=await count(queue_members, queue_members.c.agent_id),
        handoffs=await count(handoffs, handoffs.c.agent_id),
        lines=await count(transcript, transcript.c.agent_id),
    )


async def remove_agent(conn: AsyncConnection, agent_id: int, now: datetime) -> list[OpenChat]:
    """Mark the agent removed; returns the chats that are theirs or offered to them,
    and when there are any the caller rolls back (nothing is removed).

    Marked first and checked after, in one transaction: an offer that assignment
    makes meanwhile is seen here (or, committed after, lapses like any unanswered
    offer and goes to a colleague).  The email is freed for a new account (it is
    replaced by a marker that is not an address) and the password hash voided.
    """
    await conn.execute(
        update(agents)
        .where(agents.c.id == agent_id)
        .values(
            removed_at=now,
            presence="offline",
            session_epoch=agents.c.session_epoch + 1,
            email=f"removed-agent-{agent_id}",
            password_hash="",
        )
    )
    held = await _open_chats(
        conn, or_(handoffs.c.agent_id == agent_id, handoffs.c.offered_to == agent_id)
    )
    if not held:
        await conn.execute(delete(queue_members).where(queue_members.c.agent_id == agent_id))
    return held


async def queue_footprint(conn: AsyncConnection, queue_id: int) -> QueueFootprint:
    members = await conn.execute(select(func.count()).where(queue_members.c.queue_id == queue_id))
    ended = await conn.execute(
        select(func.count()).where(
            handoffs.c.queue_id == queue_id, handoffs.c.status.not_in(OPEN_STATUSES)
        )
    )
    return QueueFootprint(
        open_chats=await _open_chats(conn, handoffs.c.queue_id == queue_id),
        members=int(members.scalar_one()),
        handoffs=int(ended.scalar_one()),
    )


async def remove_queue(
    conn: AsyncConnection, queue_id: int, name: str, now: datetime
) -> list[OpenChat]:
    """Mark the queue removed; returns the chats waiting or active in it, and when
    there are any the caller rolls back (nothing is removed).

    Its name gets a suffix, so the name is free for a new queue and history says
    the queue is gone.  Memberships stay: a conversation belongs to the queues it
    was handed to (live_agents/workspace_views.py), so the team keeps reading the
    chats it handled; no new chat can enter a removed queue.
    """
    suffix = f" (removed #{queue_id})"
    await conn.execute(
        update(queues)
        .where(queues.c.id == queue_id)
        .values(removed_at=now, name=name[: 100 - len(suffix)] + suffix)
    )
    return await _open_chats(conn, handoffs.c.queue_id == queue_id)
