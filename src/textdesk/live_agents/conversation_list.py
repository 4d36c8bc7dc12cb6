"""The Workspace's list of every conversation an agent may see, filtered and searched.

Who sees what (``workspace_views.seen_by``, as for one conversation): an admin sees
all; an agent sees the conversations handed to one of their queues (their history
stays the team's after the chat ends) and the conversations that never reached a
person, which belong to no queue and are read-only to every agent.

A conversation's state is read from its latest hand-off: ``waiting`` (waiting or
offered), ``agent`` (active), ``ended`` (its last live chat ended; the texter may be
talking to the bot again), or ``bot`` (it never reached a person).

Search is deliberately plain: a case-insensitive substring of the texter's number
(digits only), account name or any line of the transcript, or an exact record
number (one index lookup) whose caller's conversations are shown. The transcript
match is a scan of the lines (a LIKE, no full-text index): fine for the hundreds of
thousands of lines of a desk's first years, without stemming or ranking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.agents import AgentRow
from textdesk.adapters.db.tables import (
    conversations,
    handoffs,
    records,
    transcript,
    users,
)
from textdesk.live_agents.workspace_views import seen_by

State = Literal["bot", "waiting", "agent", "ended"]
STATES: dict[State, str] = {
    "bot": "With the bot",
    "waiting": "Waiting",
    "agent": "With an agent",
    "ended": "Ended",
}
PAGE_SIZE = 25
_RECORD_NUMBER = re.compile(r"^[A-Za-z]{2,5}\d{5,10}$")


@dataclass(frozen=True)
class ListedConversation:
    id: int
    phone: str
    name: str | None
    state: State
    updated_at: datetime
    last_line: str | None


@dataclass(frozen=True)
class ConversationPage:
    items: list[ListedConversation]
    page: int
    has_more: bool


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


async def list_conversations(
    conn: AsyncConnection,
    agent: AgentRow,
    *,
    state: State | None = None,
    search: str = "",
    page: int = 1,
) -> ConversationPage:
    """One page of the conversations ``agent`` may see, newest activity first."""
    page = max(1, page)
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
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    )
    if not agent.is_admin:
        query = query.where(seen_by(agent))
    if state is not None:
        query = query.where(_state_of(handoffs.c.status) == state)
    if search.strip():
        query = query.where(_matching(search))
    rows = list(await conn.execute(query))
    shown = rows[:PAGE_SIZE]
    last = await _last_lines(conn, [r.id for r in shown])
    items = [
        ListedConversation(r.id, r.phone, r.name, r.state, r.updated_at, last.get(r.id))
        for r in shown
    ]
    return ConversationPage(items=items, page=page, has_more=len(rows) > PAGE_SIZE)


async def _last_lines(conn: AsyncConnection, ids: list[int]) -> dict[int, str]:
    """Each conversation's latest transcript line, for the list's preview (one query)."""
    if not ids:
        return {}
    newest = (
        select(func.max(transcript.c.id))
        .where(transcript.c.conversation_id.in_(ids))
        .group_by(transcript.c.conversation_id)
    )
    rows = await conn.execute(
        select(transcript.c.conversation_id, transcript.c.body).where(transcript.c.id.in_(newest))
    )
    return {r.conversation_id: r.body for r in rows}
