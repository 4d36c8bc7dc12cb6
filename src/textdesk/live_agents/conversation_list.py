"""The Workspace's list of every conversation an agent may see, filtered and searched.

Who sees what (as for one conversation): an admin sees all; an agent sees the
conversations handed to one of their queues (their history stays the team's after
the chat ends) and the conversations that never reached a person, which belong to
no queue and are read-only to every agent.

A conversation's state is read from its latest hand-off: ``waiting`` (waiting or
offered), ``agent`` (active), ``ended`` (its last live chat ended; the texter may be
talking to the bot again), or ``bot`` (it never reached a person).

Search is deliberately plain: a case-insensitive substring of the texter's number
(digits only), account name or any line of the transcript, or an exact record
number (one index lookup) whose caller's conversations are shown. The transcript
match is a scan of the lines (a LIKE, no full-text index): fine for the hundreds of
thousands of lines of a desk's first years, without stemming or ranking.  The SQL is
``adapters/db/workspace_views.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textdesk.ports import AgentRow, ListedState, WorkspaceReads

State = ListedState
STATES: dict[State, str] = {
    "bot": "With the bot",
    "waiting": "Waiting",
    "agent": "With an agent",
    "ended": "Ended",
}
PAGE_SIZE = 25


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


async def list_conversations(
    reads: WorkspaceReads,
    agent: AgentRow,
    *,
    state: State | None = None,
    search: str = "",
    page: int = 1,
) -> ConversationPage:
    """One page of the conversations ``agent`` may see, newest activity first.

    One row more than a page is read, to know whether there is a next page without
    counting them all; the previews are read for the page's rows alone.
    """
    page = max(1, page)
    rows = await reads.conversations(
        agent,
        state=state,
        search=search if search.strip() else None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    shown = rows[:PAGE_SIZE]
    last = await reads.last_lines([r.id for r in shown]) if shown else {}
    items = [
        ListedConversation(r.id, r.phone, r.name, r.state, r.updated_at, last.get(r.id))
        for r in shown
    ]
    return ConversationPage(items=items, page=page, has_more=len(rows) > PAGE_SIZE)
