"""Fakes of the live-agent desk's repositories: presence, the agents' actions, the read models.

They keep their rows in the shared ``FakeTables`` (``testing/tables.py``), beside the
assigner's and the hand-off's, so one test can follow a chat through all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textdesk.ports import AgentRow, InboxRow, ListedRow, ListedState, QueueRow
from textdesk.testing.tables import FakeTables, FakeUnitOfWork


class FakePresence:
    """``ports.PresenceRepository`` on ``FakeTables.agents`` (unknown ids are ignored,
    as the UPDATE of a removed agent's row changes nothing)."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def mark_seen(self, agent_ids: Sequence[int], now: datetime) -> None:
        for agent_id in agent_ids:
            if agent_id in self._t.agents:
                self._t.agents[agent_id].last_seen_at = now


def fake_presence(tables: FakeTables | None = None) -> FakeUnitOfWork[FakeTables, FakePresence]:
    """The heartbeat's unit of work, in memory."""
    return FakeUnitOfWork(tables or FakeTables(), FakePresence)


@dataclass
class FakeWorkspaceReads:
    """``ports.WorkspaceReads`` answering from rows a test arranges; ``queries`` names
    each query asked, in order, with its arguments (a page's round trips).

    The SQL's filters (who may see what, search) are the adapter's and tested there;
    these rows are taken as already filtered for the agent asking.
    """

    listed: list[ListedRow] = field(default_factory=list)
    lines: dict[int, str] = field(default_factory=dict)
    # Conversations the agent asking may see; None: every one asked about.
    visible: set[int] | None = None
    members: dict[int, set[int]] = field(default_factory=dict)  # agent id -> queue ids
    handoffs: list[InboxRow] = field(default_factory=list)  # open ones, oldest first
    queue_rows: list[QueueRow] = field(default_factory=list)
    agent_rows: list[AgentRow] = field(default_factory=list)
    queries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def conversations(
        self,
        agent: AgentRow,
        *,
        state: ListedState | None,
        search: str | None,
        limit: int,
        offset: int,
    ) -> list[ListedRow]:
        self.queries.append(
            ("conversations", {"state": state, "search": search, "limit": limit, "offset": offset})
        )
        found = [r for r in self.listed if state is None or r.state == state]
        return found[offset : offset + limit]

    async def last_lines(self, conversation_ids: Sequence[int]) -> dict[int, str]:
        self.queries.append(("last_lines", {"ids": list(conversation_ids)}))
        return {i: self.lines[i] for i in conversation_ids if i in self.lines}

    async def visible_among(self, agent: AgentRow, conversation_ids: Collection[int]) -> set[int]:
        self.queries.append(("visible_among", {"ids": set(conversation_ids)}))
        wanted = set(conversation_ids)
        return wanted if self.visible is None else wanted & self.visible

    async def queue_ids_of(self, agent_id: int) -> set[int]:
        self.queries.append(("queue_ids_of", {"agent_id": agent_id}))
        return set(self.members.get(agent_id, set()))

    async def open_handoffs(self, queue_ids: Collection[int] | None) -> list[InboxRow]:
        self.queries.append(("open_handoffs", {"queue_ids": queue_ids}))
        return [h for h in self.handoffs if queue_ids is None or h.queue_id in queue_ids]

    async def queues(self) -> list[QueueRow]:
        self.queries.append(("queues", {}))
        return list(self.queue_rows)

    async def agents(self) -> list[AgentRow]:
        self.queries.append(("agents", {}))
        return list(self.agent_rows)
