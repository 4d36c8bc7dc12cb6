"""The Agent Workspace's read model: who may see what, the inbox, transfer targets.

One conversation's page is read by ``conversation_view.py``.

Every function answers in a fixed number of queries, whatever the number of chats
or lines, and every one of them is filtered by the agent's queues (admins see all):
the web layer never reads a table directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db.agents import AgentRow
from textdesk.adapters.db.tables import (
    agents,
    conversations,
    handoffs,
    queues,
    transcript,
    users,
)
from textdesk.adapters.db.workspace_views import seen_by
from textdesk.domain.live_agents import OPEN_STATUSES


async def visible_queue_ids(conn: AsyncConnection, agent: AgentRow) -> set[int] | None:
    """The queues whose conversations ``agent`` may see; None means all (an admin)."""
    return None if agent.is_admin else await agent_store.queue_ids_of(conn, agent.id)


async def visible_among(
    conn: AsyncConnection, agent: AgentRow, conversation_ids: Iterable[int]
) -> set[int]:
    """Which of ``conversation_ids`` the agent may see (one query).

    A conversation belongs to the queues it was ever handed to: its history stays
    readable to that team after the chat ends. One that never reached a person
    belongs to no queue, and every agent may read it (read-only: there is no chat to
    act on). The conversation list applies the same rule (``conversation_list``).
    """
    wanted = set(conversation_ids)
    if not wanted:
        return set()
    query = select(conversations.c.id).where(conversations.c.id.in_(wanted))
    if not agent.is_admin:
        query = query.where(seen_by(agent))
    return {int(r) for r in (await conn.execute(query)).scalars()}


# --- the inbox ---------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    """One open hand-off as a row of the inbox."""

    conversation_id: int
    phone: str
    texter_name: str | None
    queue: str
    status: str  # waiting | offered | active
    reason: str
    note: str | None
    requested_at: datetime
    offered_to_me: bool
    offered_to_name: str | None
    agent_id: int | None
    agent_name: str | None
    waiting_since: datetime | None  # the texter's unanswered text, while with an agent
    needs_reminder: bool
    preview: str | None


@dataclass(frozen=True)
class Inbox:
    waiting: list[InboxItem]
    mine: list[InboxItem]
    team: list[InboxItem]  # colleagues' chats in the same queues (all, for an admin)

    @property
    def active_count(self) -> int:
        return len(self.mine)


async def inbox(
    conn: AsyncConnection, agent: AgentRow, *, now: datetime, remind_after: timedelta
) -> Inbox:
    """Waiting texters and active chats of the agent's queues, oldest request first."""
    offered = agents.alias("offered")
    last_text = (
        select(transcript.c.body)
        .where(
            transcript.c.conversation_id == handoffs.c.conversation_id,
            transcript.c.author == "texter",
        )
        .order_by(transcript.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            handoffs,
            conversations.c.phone,
            users.c.name.label("texter_name"),
            queues.c.name.label("queue_name"),
            agents.c.name.label("agent_name"),
            offered.c.name.label("offered_name"),
            last_text.label("preview"),
        )
        .select_from(
            handoffs.join(conversations, conversations.c.id == handoffs.c.conversation_id)
            .join(queues, queues.c.id == handoffs.c.queue_id)
            .outerjoin(users, users.c.id == conversations.c.user_id)
            .outerjoin(agents, agents.c.id == handoffs.c.agent_id)
            .outerjoin(offered, offered.c.id == handoffs.c.offered_to)
        )
        .where(handoffs.c.status.in_(OPEN_STATUSES))
        .order_by(handoffs.c.requested_at, handoffs.c.id)
    )
    allowed = await visible_queue_ids(conn, agent)
    if allowed is not None:
        query = query.where(handoffs.c.queue_id.in_(allowed))
    result = Inbox(waiting=[], mine=[], team=[])
    for r in await conn.execute(query):
        unanswered = r.last_texter_at is not None and (
            r.last_agent_at is None or r.last_texter_at > r.last_agent_at
        )
        item = InboxItem(
            conversation_id=r.conversation_id,
            phone=r.phone,
            texter_name=r.texter_name,
            queue=r.queue_name,
            status=r.status,
            reason=r.reason,
            note=r.note,
            requested_at=r.requested_at,
            offered_to_me=r.status == "offered" and r.offered_to == agent.id,
            offered_to_name=r.offered_name,
            agent_id=r.agent_id,
            agent_name=r.agent_name,
            waiting_since=r.last_texter_at if unanswered and r.status == "active" else None,
            needs_reminder=bool(
                r.status == "active" and unanswered and now - r.last_texter_at >= remind_after
            ),
            preview=r.preview,
        )
        if r.status != "active":
            result.waiting.append(item)
        elif r.agent_id == agent.id:
            result.mine.append(item)
        else:
            result.team.append(item)
    # The offer made to this agent is the first thing they should see.
    result.waiting.sort(key=lambda i: not i.offered_to_me)
    return result


# --- transfer targets ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    id: int
    name: str
    detail: str  # a queue's hours, a colleague's presence and whether they are connected


async def transfer_targets(
    conn: AsyncConnection, agent: AgentRow, *, seen_since: datetime
) -> tuple[list[Target], list[Target]]:
    """Queues and colleagues a chat can be handed to (two queries).

    A colleague with no Workspace connected since ``seen_since`` is shown as "not
    connected" beside the presence they chose: an offer to them goes back in line.
    """
    found_queues = [
        Target(q.id, q.name, "always open" if q.hours is None else f"hours in {q.timezone}")
        for q in await agent_store.list_queues(conn)
    ]
    colleagues = [
        Target(a.id, a.name, _presence(a, seen_since))
        for a in await agent_store.list_agents(conn)
        if a.id != agent.id
    ]
    return found_queues, colleagues


def _presence(agent: AgentRow, seen_since: datetime) -> str:
    connected = agent.last_seen_at is not None and agent.last_seen_at >= seen_since
    if connected or agent.presence == "offline":  # "offline, not connected" says it twice
        return agent.presence
    return f"{agent.presence}, not connected"
