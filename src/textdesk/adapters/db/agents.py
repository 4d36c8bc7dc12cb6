"""Agents, queues and their membership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import agents, handoffs, queue_members, queues
from textdesk.domain.live_agents import AgentLoad
from textdesk.ports import AgentRow, QueueRow

# ``AgentRow`` is defined with the ports that use it, and still imported from here.
__all__ = [
    "AgentRow",
    "add_member",
    "agent_by_email",
    "agent_by_id",
    "default_queue",
    "insert_agent",
    "list_agents",
    "list_queues",
    "loads",
    "mark_assigned",
    "mark_seen",
    "queue_by_id",
    "queue_by_name",
    "queue_ids_of",
    "set_presence",
    "sign_out",
    "unreachable_ids",
    "upsert_queue",
]


# Removed agents and queues stay as rows for history (adapters/db/staff_removal.py); nothing
# here finds them, so nobody signs in as a removed agent, is offered a chat in a
# removed queue, or is listed.
_present = agents.c.removed_at.is_(None)
_open = queues.c.removed_at.is_(None)


def _agent(r: Any) -> AgentRow:
    return AgentRow(
        r.id,
        r.name,
        r.email,
        r.role,
        r.presence,
        r.capacity,
        r.password_hash,
        r.session_epoch,
        r.last_seen_at,
    )


def _queue(r: Any) -> QueueRow:
    return QueueRow(r.id, r.name, r.is_default, r.timezone, r.hours)


async def agent_by_email(conn: AsyncConnection, email: str) -> AgentRow | None:
    row = (
        await conn.execute(select(agents).where(agents.c.email == email.lower(), _present))
    ).first()
    return _agent(row) if row else None


async def agent_by_id(conn: AsyncConnection, agent_id: int) -> AgentRow | None:
    row = (await conn.execute(select(agents).where(agents.c.id == agent_id, _present))).first()
    return _agent(row) if row else None


async def list_agents(conn: AsyncConnection) -> list[AgentRow]:
    rows = await conn.execute(select(agents).where(_present).order_by(agents.c.name))
    return [_agent(r) for r in rows]


async def insert_agent(
    conn: AsyncConnection,
    *,
    name: str,
    email: str,
    password_hash: str,
    role: str,
    capacity: int,
    now: datetime,
) -> int:
    result = await conn.execute(
        agents.insert()
        .values(
            name=name,
            email=email.lower(),
            password_hash=password_hash,
            role=role,
            presence="offline",
            capacity=capacity,
            created_at=now,
        )
        .returning(agents.c.id)
    )
    return int(result.scalar_one())


async def set_presence(conn: AsyncConnection, agent_id: int, presence: str) -> None:
    await conn.execute(update(agents).where(agents.c.id == agent_id).values(presence=presence))


async def mark_seen(conn: AsyncConnection, agent_ids: Sequence[int], now: datetime) -> None:
    """A live Workspace connection of each of these agents is open at ``now``."""
    if agent_ids:
        await conn.execute(
            update(agents).where(agents.c.id.in_(list(agent_ids))).values(last_seen_at=now)
        )


def unreachable_ids(seen_since: datetime) -> Any:
    """A subquery: agents with no live Workspace connection seen since ``seen_since``."""
    return select(agents.c.id).where(
        or_(agents.c.last_seen_at.is_(None), agents.c.last_seen_at < seen_since)
    )


async def sign_out(conn: AsyncConnection, agent_id: int) -> None:
    """Offline, and every session cookie issued so far is void."""
    await conn.execute(
        update(agents)
        .where(agents.c.id == agent_id)
        .values(presence="offline", session_epoch=agents.c.session_epoch + 1)
    )


async def list_queues(conn: AsyncConnection) -> list[QueueRow]:
    rows = await conn.execute(select(queues).where(_open).order_by(queues.c.name))
    return [_queue(r) for r in rows]


async def queue_by_name(conn: AsyncConnection, name: str) -> QueueRow | None:
    row = (await conn.execute(select(queues).where(queues.c.name == name, _open))).first()
    return _queue(row) if row else None


async def queue_by_id(conn: AsyncConnection, queue_id: int) -> QueueRow | None:
    row = (await conn.execute(select(queues).where(queues.c.id == queue_id, _open))).first()
    return _queue(row) if row else None


async def default_queue(conn: AsyncConnection) -> QueueRow | None:
    """Where transfers without a queue go (and agents added without one)."""
    row = (await conn.execute(select(queues).where(queues.c.is_default, _open).limit(1))).first()
    return _queue(row) if row else None


async def upsert_queue(
    conn: AsyncConnection,
    *,
    name: str,
    timezone: str,
    hours: dict[str, list[str]] | None,
    is_default: bool,
    now: datetime,
) -> int:
    existing = await queue_by_name(conn, name)
    # The first queue is the default until another is named so.
    is_default = is_default or await default_queue(conn) is None
    if is_default:
        await conn.execute(update(queues).values(is_default=False))
    if existing is not None:
        await conn.execute(
            update(queues)
            .where(queues.c.id == existing.id)
            .values(timezone=timezone, hours=hours, is_default=is_default or existing.is_default)
        )
        return existing.id
    result = await conn.execute(
        queues.insert()
        .values(name=name, timezone=timezone, hours=hours, is_default=is_default, created_at=now)
        .returning(queues.c.id)
    )
    return int(result.scalar_one())


async def add_member(conn: AsyncConnection, queue_id: int, agent_id: int) -> None:
    exists = (
        await conn.execute(
            select(queue_members.c.agent_id).where(
                queue_members.c.queue_id == queue_id, queue_members.c.agent_id == agent_id
            )
        )
    ).first()
    if exists is None:
        await conn.execute(queue_members.insert().values(queue_id=queue_id, agent_id=agent_id))


async def queue_ids_of(conn: AsyncConnection, agent_id: int) -> set[int]:
    rows = await conn.execute(
        select(queue_members.c.queue_id).where(queue_members.c.agent_id == agent_id)
    )
    return set(rows.scalars())


async def loads(conn: AsyncConnection, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
    """Members of a queue with their number of active chats (one query).

    Those whose Workspace was last seen connected before ``seen_since`` are loaded as
    not reachable.
    """
    active = (
        select(handoffs.c.agent_id, func.count().label("n"))
        .where(handoffs.c.status == "active")
        .group_by(handoffs.c.agent_id)
        .subquery()
    )
    offered = (
        select(handoffs.c.offered_to, func.count().label("n"))
        .where(handoffs.c.status == "offered")
        .group_by(handoffs.c.offered_to)
        .subquery()
    )
    rows = await conn.execute(
        select(
            agents.c.id,
            agents.c.presence,
            agents.c.capacity,
            agents.c.last_assigned_at,
            agents.c.last_seen_at,
            (func.coalesce(active.c.n, 0) + func.coalesce(offered.c.n, 0)).label("busy"),
        )
        .select_from(
            agents.join(queue_members, queue_members.c.agent_id == agents.c.id)
            .outerjoin(active, active.c.agent_id == agents.c.id)
            .outerjoin(offered, offered.c.offered_to == agents.c.id)
        )
        .where(queue_members.c.queue_id == queue_id, _present)
    )
    return [
        AgentLoad(
            r.id,
            r.presence,
            r.capacity,
            int(r.busy),
            r.last_assigned_at,
            reachable=r.last_seen_at is not None and r.last_seen_at >= seen_since,
        )
        for r in rows
    ]


async def mark_assigned(conn: AsyncConnection, agent_ids: Sequence[int], now: datetime) -> None:
    if agent_ids:
        await conn.execute(
            update(agents).where(agents.c.id.in_(list(agent_ids))).values(last_assigned_at=now)
        )
