"""The Agent Workspace's read model: who may see what, the inbox, transfer targets.

One conversation's page is read by ``conversation_view.py``, the list of all of
them by ``conversation_list.py``.

Every function answers in a fixed number of queries (``ports.WorkspaceReads``; the
SQL is ``adapters/db/workspace_views.py``), whatever the number of chats or lines,
and every one of them is filtered by the agent's queues (admins see all): the web
layer never reads a table directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from textdesk.ports import AgentRow, WorkspaceReads


async def visible_queue_ids(reads: WorkspaceReads, agent: AgentRow) -> set[int] | None:
    """The queues whose conversations ``agent`` may see; None means all (an admin)."""
    return None if agent.is_admin else await reads.queue_ids_of(agent.id)


async def visible_among(
    reads: WorkspaceReads, agent: AgentRow, conversation_ids: Iterable[int]
) -> set[int]:
    """Which of ``conversation_ids`` the agent may see (one query, none for none).

    A conversation belongs to the queues it was ever handed to: its history stays
    readable to that team after the chat ends. One that never reached a person
    belongs to no queue, and every agent may read it (read-only: there is no chat to
    act on). The conversation list applies the same rule (``conversation_list``).
    """
    wanted = set(conversation_ids)
    if not wanted:
        return set()
    return await reads.visible_among(agent, wanted)


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
    reads: WorkspaceReads, agent: AgentRow, *, now: datetime, remind_after: timedelta
) -> Inbox:
    """Waiting texters and active chats of the agent's queues, oldest request first."""
    allowed = await visible_queue_ids(reads, agent)
    result = Inbox(waiting=[], mine=[], team=[])
    for r in await reads.open_handoffs(allowed):
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
                r.status == "active"
                and unanswered
                and r.last_texter_at is not None
                and now - r.last_texter_at >= remind_after
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
    reads: WorkspaceReads, agent: AgentRow, *, seen_since: datetime
) -> tuple[list[Target], list[Target]]:
    """Queues and colleagues a chat can be handed to (two queries).

    A colleague with no Workspace connected since ``seen_since`` is shown as "not
    connected" beside the presence they chose: an offer to them goes back in line.
    """
    found_queues = [
        Target(q.id, q.name, "always open" if q.hours is None else f"hours in {q.timezone}")
        for q in await reads.queues()
    ]
    colleagues = [
        Target(a.id, a.name, _presence(a, seen_since))
        for a in await reads.agents()
        if a.id != agent.id
    ]
    return found_queues, colleagues


def _presence(agent: AgentRow, seen_since: datetime) -> str:
    connected = agent.last_seen_at is not None and agent.last_seen_at >= seen_since
    if connected or agent.presence == "offline":  # "offline, not connected" says it twice
        return agent.presence
    return f"{agent.presence}, not connected"
