"""The Workspace's read model on SQLAlchemy: ``ports.WorkspaceReads``.

Every query is filtered by the agent's queues (admins see all) and answers in a
fixed number of statements, whatever the number of chats or lines; the use cases
in ``live_agents/`` (``conversation_list``, ``workspace_views``, ``conversation_view``)
decide what to make of the rows.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import conversations as conversation_store
from textdesk.adapters.db.notifications import SqlNotifications
from textdesk.adapters.db.subscriptions import SqlCarrierOptOuts, SqlSubscriptions
from textdesk.adapters.db.tables import (
    agents,
    conversations,
    handoffs,
    queue_members,
    queues,
    records,
    transcript,
    users,
)
from textdesk.domain.live_agents import OPEN_STATUSES
from textdesk.domain.records import OPEN_STATES
from textdesk.ports import (
    AgentRow,
    ConversationHead,
    DeliveredLine,
    HandoffView,
    InboxRow,
    ListedRow,
    ListedState,
    QueueRow,
    RecordLine,
)

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


async def visible_among(
    conn: AsyncConnection, agent: AgentRow, conversation_ids: Collection[int]
) -> set[int]:
    """Which of ``conversation_ids`` the agent may see (one query; see :func:`seen_by`)."""
    query = select(conversations.c.id).where(conversations.c.id.in_(set(conversation_ids)))
    if not agent.is_admin:
        query = query.where(seen_by(agent))
    return {int(r) for r in (await conn.execute(query)).scalars()}


async def open_handoffs(conn: AsyncConnection, queue_ids: Collection[int] | None) -> list[InboxRow]:
    """The open hand-offs of ``queue_ids`` (None: all), oldest request first (one query)."""
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
    if queue_ids is not None:
        query = query.where(handoffs.c.queue_id.in_(queue_ids))
    return [
        InboxRow(
            conversation_id=r.conversation_id,
            queue_id=r.queue_id,
            phone=r.phone,
            texter_name=r.texter_name,
            queue_name=r.queue_name,
            status=r.status,
            reason=r.reason,
            note=r.note,
            requested_at=r.requested_at,
            offered_to=r.offered_to,
            offered_name=r.offered_name,
            agent_id=r.agent_id,
            agent_name=r.agent_name,
            last_texter_at=r.last_texter_at,
            last_agent_at=r.last_agent_at,
            preview=r.preview,
        )
        for r in await conn.execute(query)
    ]


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


# --- one conversation's page -----------------------------------------------------------


async def conversation_head(conn: AsyncConnection, conversation_id: int) -> ConversationHead | None:
    head = (
        await conn.execute(
            select(conversations, users.c.name.label("user_name"), users.c.email)
            .select_from(conversations.outerjoin(users, users.c.id == conversations.c.user_id))
            .where(conversations.c.id == conversation_id)
        )
    ).first()
    if head is None:
        return None
    return ConversationHead(
        head.id,
        head.phone,
        head.number,
        head.mode,
        head.state,
        head.user_id,
        head.user_name,
        head.email,
    )


async def shown_handoff(conn: AsyncConnection, conversation_id: int) -> HandoffView | None:
    # The open hand-off wins over ended ones; among those, the newest.
    still_open = case((handoffs.c.status.in_(OPEN_STATUSES), 0), else_=1)
    r = (
        await conn.execute(
            select(handoffs, queues.c.name.label("queue_name"), agents.c.name.label("agent_name"))
            .select_from(
                handoffs.join(queues, queues.c.id == handoffs.c.queue_id).outerjoin(
                    agents, agents.c.id == handoffs.c.agent_id
                )
            )
            .where(handoffs.c.conversation_id == conversation_id)
            .order_by(still_open, handoffs.c.id.desc())
            .limit(1)
        )
    ).first()
    if r is None:
        return None
    return HandoffView(
        r.status,
        r.queue_id,
        r.queue_name,
        r.reason,
        r.note,
        r.agent_id,
        r.agent_name,
        r.offered_to,
        r.requested_at,
        r.accepted_at,
    )


async def records_of(
    conn: AsyncConnection, user_id: int | None, phone: str, *, limit: int
) -> list[RecordLine]:
    """The texter's records (by account or by phone), open ones first, newest first."""
    mine = records.c.caller_phone == phone
    if user_id is not None:
        mine = or_(mine, records.c.caller_id == user_id)
    is_closed = case((records.c.state.in_(OPEN_STATES), 0), else_=1)
    rows = await conn.execute(
        select(
            records.c.number,
            records.c.short_description,
            records.c.state,
            records.c.priority,
            records.c.updated_at,
        )
        .where(and_(mine, records.c.number.is_not(None)))
        .order_by(is_closed, records.c.id.desc())
        .limit(limit)
    )
    return [
        RecordLine(r.number, r.short_description, r.state, r.priority, r.updated_at) for r in rows
    ]


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

    async def visible_among(self, agent: AgentRow, conversation_ids: Collection[int]) -> set[int]:
        # Looked up in the module when called, so a test can slow the query down.
        return await visible_among(self._conn, agent, conversation_ids)

    async def queue_ids_of(self, agent_id: int) -> set[int]:
        return await agent_store.queue_ids_of(self._conn, agent_id)

    async def open_handoffs(self, queue_ids: Collection[int] | None) -> list[InboxRow]:
        return await open_handoffs(self._conn, queue_ids)

    async def queues(self) -> list[QueueRow]:
        return await agent_store.list_queues(self._conn)

    async def agents(self) -> list[AgentRow]:
        return await agent_store.list_agents(self._conn)

    async def conversation(self, conversation_id: int) -> ConversationHead | None:
        return await conversation_head(self._conn, conversation_id)

    async def shown_handoff(self, conversation_id: int) -> HandoffView | None:
        return await shown_handoff(self._conn, conversation_id)

    async def transcript(self, conversation_id: int, *, limit: int) -> list[DeliveredLine]:
        return await conversation_store.transcript_lines(
            self._conn, conversation_id, limit=limit, newest_first=True
        )

    async def records_of(self, user_id: int | None, phone: str, *, limit: int) -> list[RecordLine]:
        return await records_of(self._conn, user_id, phone, limit=limit)

    async def agent(self, agent_id: int) -> AgentRow | None:
        return await agent_store.agent_by_id(self._conn, agent_id)


class SqlWorkspacePage:
    """``ports.WorkspaceReadRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.views = SqlWorkspaceReads(conn)
        self.notifications = SqlNotifications(conn)
        self.subscriptions = SqlSubscriptions(conn)
        self.optouts = SqlCarrierOptOuts(conn)


class SqlReads:
    """The pages' unit of work: one connection, nothing written, no write lock.

    ``connect()`` rather than ``begin()``: on SQLite every ``begin()`` is a BEGIN
    IMMEDIATE that waits its turn for the one writer, which a page read must not.
    """

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[SqlWorkspacePage]:
        async with self._db.connect() as conn:
            yield SqlWorkspacePage(conn)
