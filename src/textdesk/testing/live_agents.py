"""Fakes of the repositories of the assigner and the hand-off."""

from __future__ import annotations

from collections.abc import (
    Collection,
    Sequence,
)
from datetime import datetime

from textdesk.domain.live_agents import OPEN_STATUSES, AgentLoad
from textdesk.ports import (
    ActiveChat,
    ConversationRow,
    LapsedOffer,
    OpenHandoff,
    QueueRow,
    TranscriptEntry,
    WaitingHandoff,
)
from textdesk.testing.sending import FakeOutbox
from textdesk.testing.tables import (
    FakeTables,
    FakeUnitOfWork,
    StoredHandoff,
)


class FakeConversations:
    """``ports.ConversationRepository`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def get(self, conversation_id: int) -> ConversationRow | None:
        return self._t.conversations.get(conversation_id)

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None:
        self._t.transcript.extend(entries)

    async def lock(self, which: Collection[tuple[str, str]]) -> None:
        self._t.locked.append(set(which))


class FakeHandoffs:
    """``ports.HandoffRepository`` on ``FakeTables.handoffs``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        open_ = [
            h
            for h in self._t.handoffs
            if h.conversation_id == conversation_id and h.status in OPEN_STATUSES
        ]
        if not open_:
            return None
        latest = max(open_, key=lambda h: h.id)
        return OpenHandoff(latest.id, latest.queue_id, latest.status)

    async def open(self, conversation_id: int, queue_id: int, reason: str, now: datetime) -> int:
        handoff_id = max((h.id for h in self._t.handoffs), default=0) + 1
        self._t.handoffs.append(
            StoredHandoff(
                handoff_id,
                conversation_id,
                queue_id,
                reason=reason,
                requested_at=now,
                last_texter_at=now,
            )
        )
        return handoff_id

    async def position_in_line(self, queue_id: int, handoff_id: int) -> int:
        return sum(
            1
            for h in self._t.handoffs
            if h.queue_id == queue_id and h.status == "waiting" and h.id <= handoff_id
        )

    async def texter_spoke(self, conversation_id: int, now: datetime) -> None:
        for h in self._t.handoffs:
            if h.conversation_id == conversation_id and h.status in OPEN_STATUSES:
                h.last_texter_at = now

    async def close(self, handoff_id: int, status: str, now: datetime, *, ended_by: str) -> None:
        h = self._t.handoff(handoff_id)
        h.status, h.ended_at, h.ended_by, h.offered_to = status, now, ended_by, None

    def _unreachable(self, agent_id: int | None, seen_since: datetime) -> bool:
        agent = self._t.agents.get(agent_id) if agent_id is not None else None
        return agent is None or agent.last_seen_at is None or agent.last_seen_at < seen_since

    async def lapsed_offers(
        self, *, offered_before: datetime, seen_since: datetime
    ) -> list[LapsedOffer]:
        return [
            LapsedOffer(h.id, h.conversation_id, h.offered_to, tuple(h.declined))
            for h in self._t.handoffs
            if h.status == "offered"
            and h.offered_to is not None
            and (
                (h.offered_at is not None and h.offered_at < offered_before)
                or self._unreachable(h.offered_to, seen_since)
            )
        ]

    async def back_in_line(self, handoff_id: int, declined: Sequence[int]) -> None:
        h = self._t.handoff(handoff_id)
        h.status, h.offered_to, h.offered_at, h.declined = "waiting", None, None, list(declined)

    async def waiting(self) -> list[WaitingHandoff]:
        return [
            WaitingHandoff(
                h.id,
                h.conversation_id,
                h.queue_id,
                tuple(h.declined),
                h.position_noticed,
                h.position_noticed_at,
            )
            for h in sorted(self._t.handoffs, key=lambda h: h.id)
            if h.status == "waiting"
        ]

    async def offer(self, handoff_id: int, agent_id: int, now: datetime) -> None:
        h = self._t.handoff(handoff_id)
        h.status, h.offered_to, h.offered_at = "offered", agent_id, now

    async def active_chats(self) -> list[ActiveChat]:
        chats: list[ActiveChat] = []
        for h in self._t.handoffs:
            if h.status != "active":
                continue
            conv = self._t.conversations[h.conversation_id]
            assert h.agent_id is not None
            chats.append(
                ActiveChat(
                    h.id,
                    h.conversation_id,
                    h.agent_id,
                    conv.phone,
                    conv.number,
                    h.accepted_at,
                    h.last_texter_at,
                    h.last_agent_at,
                    h.reminded_at,
                )
            )
        return chats

    async def note_reminded(self, handoff_id: int, now: datetime) -> None:
        self._t.handoff(handoff_id).reminded_at = now

    async def note_position(self, handoff_id: int, position: int, now: datetime) -> None:
        h = self._t.handoff(handoff_id)
        h.position_noticed, h.position_noticed_at = position, now


class FakeAgents:
    """``ports.AgentRepository`` on ``FakeTables.agents``: busy = active chats + offers."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.name == name), None)

    async def default_queue(self) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.is_default), None)

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        def busy(agent_id: int) -> int:
            return sum(
                1
                for h in self._t.handoffs
                if (h.status == "active" and h.agent_id == agent_id)
                or (h.status == "offered" and h.offered_to == agent_id)
            )

        return [
            AgentLoad(
                a.id,
                a.presence,
                a.capacity,
                busy(a.id),
                a.last_assigned_at,
                reachable=a.last_seen_at is not None and a.last_seen_at >= seen_since,
            )
            for a in self._t.agents.values()
            if queue_id in a.queues
        ]

    async def mark_assigned(self, agent_ids: Sequence[int], now: datetime) -> None:
        for agent_id in agent_ids:
            self._t.agents[agent_id].last_assigned_at = now


class FakeChatCloser:
    """``ports.ChatCloser``: ends the hand-off and notes the conversation in ``ended_idle``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def end_idle(self, conversation_id: int, now: datetime) -> None:
        for h in self._t.handoffs:
            if h.conversation_id == conversation_id and h.status == "active":
                h.status = "ended"
        self._t.ended_idle.append(conversation_id)


class FakeAssignment:
    """``ports.AssignmentRepositories`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.handoffs = FakeHandoffs(tables)
        self.agents = FakeAgents(tables)
        self.conversations = FakeConversations(tables)
        self.outbox = FakeOutbox(tables)
        self.chats = FakeChatCloser(tables)


def fake_assignment(tables: FakeTables | None = None) -> FakeUnitOfWork[FakeTables, FakeAssignment]:
    """The assigner's unit of work, in memory."""
    return FakeUnitOfWork(tables or FakeTables(), FakeAssignment)


class FakeHandoffRepositories:
    """``ports.HandoffRepositories`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.handoffs = FakeHandoffs(tables)
        self.agents = FakeAgents(tables)
        self.conversations = FakeConversations(tables)
