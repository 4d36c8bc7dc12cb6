"""Fakes of the live-agent desk's repositories: presence, the agents' actions, the read models.

They keep their rows in the shared ``FakeTables`` (``testing/tables.py``), beside the
assigner's and the hand-off's, so one test can follow a chat through all of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textdesk.domain.records import Record
from textdesk.ports import (
    AgentRow,
    ChatRow,
    CheckedImage,
    ConversationHead,
    ConversationRow,
    DeliveredLine,
    HandoffView,
    InboxRow,
    ListedRow,
    ListedState,
    QueueRow,
    RecordLine,
)
from textdesk.testing.live_agents import FakeAgents, FakeConversations
from textdesk.testing.notifications import (
    FakeCarrierOptOuts,
    FakeNotifications,
    FakeSubscriptions,
    NotificationTables,
)
from textdesk.testing.records import FakeRecordStore, RecordTables
from textdesk.testing.sending import FakeOutbox
from textdesk.testing.tables import FakeTables, FakeUnitOfWork, StoredHandoff


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
    heads: dict[int, ConversationHead] = field(default_factory=dict)
    shown: dict[int, HandoffView] = field(default_factory=dict)  # conversation id -> hand-off
    transcripts: dict[int, list[DeliveredLine]] = field(default_factory=dict)  # oldest first
    texter_records: list[RecordLine] = field(default_factory=list)
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

    async def conversation(self, conversation_id: int) -> ConversationHead | None:
        self.queries.append(("conversation", {"id": conversation_id}))
        return self.heads.get(conversation_id)

    async def shown_handoff(self, conversation_id: int) -> HandoffView | None:
        self.queries.append(("shown_handoff", {"id": conversation_id}))
        return self.shown.get(conversation_id)

    async def transcript(self, conversation_id: int, *, limit: int) -> list[DeliveredLine]:
        self.queries.append(("transcript", {"id": conversation_id, "limit": limit}))
        return list(reversed(self.transcripts.get(conversation_id, [])))[:limit]

    async def records_of(self, user_id: int | None, phone: str, *, limit: int) -> list[RecordLine]:
        self.queries.append(("records_of", {"user_id": user_id, "phone": phone, "limit": limit}))
        return self.texter_records[:limit]

    async def agent(self, agent_id: int) -> AgentRow | None:
        self.queries.append(("agent", {"id": agent_id}))
        return next((a for a in self.agent_rows if a.id == agent_id), None)


@dataclass
class FakeWorkspacePage:
    """``ports.WorkspaceReadRepositories``: the read model, and the notification fakes
    on their own tables."""

    views: FakeWorkspaceReads = field(default_factory=FakeWorkspaceReads)
    tables: NotificationTables = field(default_factory=NotificationTables)

    @property
    def notifications(self) -> FakeNotifications:
        return FakeNotifications(self.tables)

    @property
    def subscriptions(self) -> FakeSubscriptions:
        return FakeSubscriptions(self.tables)

    @property
    def optouts(self) -> FakeCarrierOptOuts:
        return FakeCarrierOptOuts(self.tables)


# --- the agents' actions -----------------------------------------------------------------


@dataclass
class DeskTables(FakeTables):
    """``FakeTables`` with what only the desk reads or writes."""

    staff: dict[int, AgentRow] = field(default_factory=dict)  # as sessions find agents
    records: list[Record] = field(default_factory=list)
    uploads: dict[str, tuple[CheckedImage, bytes]] = field(default_factory=dict)
    notes: dict[int, str | None] = field(default_factory=dict)  # hand-off id -> transfer note
    # Conversations the agents acting may see; None: all of them.
    visible: set[int] | None = None


class FakeChats:
    """``ports.ChatRepository`` on ``FakeTables.handoffs``."""

    def __init__(self, tables: DeskTables) -> None:
        self._t = tables

    async def open_chat(self, conversation_id: int) -> ChatRow | None:
        open_ = [
            h
            for h in self._t.handoffs
            if h.conversation_id == conversation_id and h.status in ("waiting", "offered", "active")
        ]
        if not open_:
            return None
        h = max(open_, key=lambda h: h.id)
        return ChatRow(h.id, h.queue_id, h.status, h.agent_id, h.offered_to)

    def _h(self, handoff_id: int) -> StoredHandoff:
        return self._t.handoff(handoff_id)

    async def accept(self, handoff_id: int, agent_id: int, now: datetime) -> None:
        h = self._h(handoff_id)
        h.status, h.agent_id, h.accepted_at, h.offered_to = "active", agent_id, now, None
        h.last_agent_at = now

    async def agent_spoke(self, handoff_id: int, now: datetime) -> None:
        self._h(handoff_id).last_agent_at = now

    async def end(self, handoff_id: int, now: datetime, *, ended_by: str) -> None:
        h = self._h(handoff_id)
        h.status, h.ended_at, h.ended_by = "ended", now, ended_by

    async def hand_on(
        self,
        handoff_id: int,
        *,
        queue_id: int,
        declined: Sequence[int],
        note: str | None,
        offer_to: int | None,
        now: datetime,
    ) -> None:
        h = self._h(handoff_id)
        h.queue_id, h.status, h.agent_id, h.offered_to = queue_id, "waiting", None, None
        h.declined = list(declined)
        self._t.notes[handoff_id] = note
        if offer_to is not None:
            h.status, h.offered_to, h.offered_at = "offered", offer_to, now


class FakeDeskAgents(FakeAgents):
    """``ports.DeskAgents``: ``DeskTables.staff`` for who they are, ``agents`` for queues."""

    def __init__(self, tables: DeskTables) -> None:
        super().__init__(tables)
        self._desk = tables

    async def agent_by_id(self, agent_id: int) -> AgentRow | None:
        return self._desk.staff.get(agent_id)

    async def queue_by_id(self, queue_id: int) -> QueueRow | None:
        return self._desk.queues.get(queue_id)

    async def queue_ids_of(self, agent_id: int) -> set[int]:
        found = self._desk.agents.get(agent_id)
        return set(found.queues) if found is not None else set()


class FakeDeskConversations(FakeConversations):
    """``ports.DeskConversations`` on ``FakeTables.conversations``."""

    def __init__(self, tables: DeskTables) -> None:
        super().__init__(tables)
        self._desk = tables

    async def save(self, rows: Sequence[ConversationRow], now: datetime) -> None:
        for row in rows:
            self._desk.conversations[row.id] = row


class FakeUploads:
    """``ports.UploadStore`` on ``DeskTables.uploads``: keys ``att/1``, ``att/2``, …"""

    def __init__(self, tables: DeskTables) -> None:
        self._t = tables

    async def save(self, image: CheckedImage, data: bytes, now: datetime) -> str:
        key = f"att/{len(self._t.uploads) + 1}"
        self._t.uploads[key] = (image, data)
        return key


@dataclass
class FakeImageChecker:
    """``ports.ImageChecker``: every upload is a PNG, unless ``refuse`` names why not."""

    refuse: str | None = None

    def check(self, data: bytes, *, max_pixels: int) -> CheckedImage | str:
        return self.refuse or CheckedImage("image/png", b"preview", "image/jpeg")


class FakeDesk:
    """``ports.DeskRepositories`` on ``DeskTables``."""

    def __init__(self, tables: DeskTables) -> None:
        self.conversations = FakeDeskConversations(tables)
        self.chats = FakeChats(tables)
        self.agents = FakeDeskAgents(tables)
        self.outbox = FakeOutbox(tables)
        self.records = FakeRecordStore(RecordTables(records=tables.records))
        self.uploads = FakeUploads(tables)
        self.views = FakeWorkspaceReads(visible=tables.visible)


def fake_desk(tables: DeskTables | None = None) -> FakeUnitOfWork[DeskTables, FakeDesk]:
    """The desk's unit of work, in memory."""
    return FakeUnitOfWork(tables or DeskTables(), FakeDesk)
