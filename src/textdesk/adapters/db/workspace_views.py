"""The Workspace's read model on SQLAlchemy: ``ports.WorkspaceReads``.

Every query is filtered by the agent's queues (admins see all) and answers in a
fixed number of statements, whatever the number of chats or lines; the use cases
in ``live_agents/`` (``conversation_list``, ``workspace_views``, ``conversation_view``)
decide what to make of the rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import (
    conversations,
    handoffs,
    queue_members,
    records,
    transcript,
    users,
)
from textdesk.ports import AgentRow, ListedRow, ListedState

_RECORD_NUMBER = re.compile(r"^[A-Za-z]{2,5}\d{5,10}$")


def seen_by(agent: AgentRow) -> ColumnElement[bool]:
    """For a non-admin: handed to one of the agent's queues, or never handed to anyone.

    A conversation belongs to the queues it was ever handed to: its history stays
    readable to that team after the chat ends. One that never reached a person
    belongs to no queue, and every agent may read it (read-only: there is no chat to
    act on).

    Its own alias of ``handoffs``, so it is not correlated with a query that joins
    the hand-offs itself (the conversation list joins each one's latest).
    """
    ever = handoffs.alias("ever_handed")
    mine = exists().where(
        ever.c.conversation_id == conversations.c.id,
        queue_members.c.queue_id == ever.c.queue_id,
        queue_members.c.agent_id == agent.id,
    )
    anyone = exists().where(ever.c.conversation_id == conversations.c.id)
    return or_(mine, ~anyone)


# --- the conversation list ------------------------------------------------------------


def _latest_handoff() -> Any:
    """The id of each conversation's latest hand-off."""
    return (
        select(handoffs.c.conversation_id, func.max(handoffs.c.id).label("handoff_id"))
        .group_by(handoffs.c.conversation_id)
        .subquery("latest")
    )


def _state_of(status: Any) -> Any:
    return case(
        (status.is_(None), literal("bot")),
        (status.in_(("waiting", "offered")), literal("waiting")),
        (status == "active", literal("agent")),
        else_=literal("ended"),
    )


def _matching(text: str) -> Any:
    """Conversations whose number, account name, record number or lines contain ``text``."""
    needle = text.strip()
    like = f"%{needle.lower()}%"
    found = [
        func.lower(users.c.name).like(like),
        exists().where(
            transcript.c.conversation_id == conversations.c.id,
            func.lower(transcript.c.body).like(like),
        ),
    ]
    digits = re.sub(r"\D", "", needle)
    if len(digits) >= 3:
        found.append(conversations.c.phone.like(f"%{digits}%"))
    if _RECORD_NUMBER.match(needle):
        callers = select(records.c.caller_id, records.c.caller_phone).where(
            records.c.number == needle.upper()
        )
        found.append(
            exists(
                callers.where(
                    or_(
                        records.c.caller_phone == conversations.c.phone,
                        and_(
                            records.c.caller_id.is_not(None),
                            records.c.caller_id == conversations.c.user_id,
                        ),
                    )
                )
            )
        )
    return or_(*found)


async def listed(
    conn: AsyncConnection,
    agent: AgentRow,
    *,
    state: ListedState | None,
    search: str | None,
    limit: int,
    offset: int,
) -> list[ListedRow]:
    """The conversations ``agent`` may see, newest activity first (one query)."""
    latest = _latest_handoff()
    state_expr = _state_of(handoffs.c.status).label("state")
    query = (
        select(
            conversations.c.id,
            conversations.c.phone,
            conversations.c.updated_at,
            users.c.name,
            state_expr,
        )
        .select_from(
            conversations.outerjoin(users, users.c.id == conversations.c.user_id)
            .outerjoin(latest, latest.c.conversation_id == conversations.c.id)
            .outerjoin(handoffs, handoffs.c.id == latest.c.handoff_id)
        )
        .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if not agent.is_admin:
        query = query.where(seen_by(agent))
    if state is not None:
        query = query.where(_state_of(handoffs.c.status) == state)
    if search is not None:
        query = query.where(_matching(search))
    return [
        ListedRow(r.id, r.phone, r.name, r.state, r.updated_at) for r in await conn.execute(query)
    ]


async def last_lines(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, str]:
    """Each conversation's latest transcript line, for the list's preview (one query)."""
    newest = (
        select(func.max(transcript.c.id))
        .where(transcript.c.conversation_id.in_(ids))
        .group_by(transcript.c.conversation_id)
    )
    rows = await conn.execute(
        select(transcript.c.conversation_id, transcript.c.body).where(transcript.c.id.in_(newest))
    )
    return {r.conversation_id: r.body for r in rows}


class SqlWorkspaceReads:
    """``ports.WorkspaceReads`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def conversations(
        self,
        agent: AgentRow,
        *,
        state: ListedState | None,
        search: str | None,
        limit: int,
        offset: int,
    ) -> list[ListedRow]:
        return await listed(
            self._conn, agent, state=state, search=search, limit=limit, offset=offset
        )

    async def last_lines(self, conversation_ids: Sequence[int]) -> dict[int, str]:
        return await last_lines(self._conn, list(conversation_ids))
