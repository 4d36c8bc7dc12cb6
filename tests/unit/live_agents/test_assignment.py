"""The assigner on in-memory repositories: lapsed offers, who is offered a chat, places in line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from textdesk.live_agents.assignment import Assigner, Timers
from textdesk.ports import AgentEvent, ConversationRow, WorkspaceEvent
from textdesk.testing.clock import FixedClock
from textdesk.testing.live_agents import FakeAssignment, fake_assignment
from textdesk.testing.tables import FakeTables, FakeUnitOfWork, StoredAgent, StoredHandoff

QUEUE = 1
DESK = "+15550100100"


@dataclass
class Rig:
    uow: FakeUnitOfWork[FakeTables, FakeAssignment] = field(default_factory=fake_assignment)
    clock: FixedClock = field(default_factory=FixedClock)
    events: list[WorkspaceEvent] = field(default_factory=list)
    wakes: int = 0

    @property
    def tables(self) -> FakeTables:
        return self.uow.tables

    def assigner(self) -> Assigner:
        async def publish(event: WorkspaceEvent) -> None:
            self.events.append(event)

        def woken() -> None:
            self.wakes += 1

        return Assigner(
            uow=self.uow, clock=self.clock, timers=Timers(), publish=publish, on_enqueued=woken
        )

    def agent(self, agent_id: int, **extra: Any) -> StoredAgent:
        agent = StoredAgent(agent_id, {QUEUE}, **{"last_seen_at": self.clock.now(), **extra})
        self.tables.agents[agent_id] = agent
        return agent

    def handoff(self, handoff_id: int, **extra: Any) -> StoredHandoff:
        conversation_id = 100 + handoff_id
        self.tables.conversations[conversation_id] = ConversationRow(
            conversation_id, f"+1555123{handoff_id:04d}", DESK, None, "agent", None
        )
        handoff = StoredHandoff(handoff_id, conversation_id, QUEUE, **extra)
        self.tables.handoffs.append(handoff)
        return handoff


async def test_a_lapsed_offer_goes_to_the_next_agent() -> None:
    """Not accepted within the offer timeout: offered to another agent, never back to the first."""
    r = Rig()
    r.agent(1)
    r.agent(2, last_assigned_at=r.clock.now())  # would come second otherwise
    lapsing = r.handoff(
        1, status="offered", offered_to=1, offered_at=r.clock.now() - timedelta(seconds=31)
    )

    assert await r.assigner().run_once() == 2
    assert (lapsing.status, lapsing.offered_to, lapsing.declined) == ("offered", 2, [1])
    assert r.events == [WorkspaceEvent("queue", 101), AgentEvent("offer", 101, 2)]


async def test_an_offer_to_an_agent_whose_workspace_closed_lapses_at_once() -> None:
    """An agent not seen within the presence grace cannot accept: the offer moves on now."""
    r = Rig()
    r.agent(1, last_seen_at=r.clock.now() - timedelta(minutes=5))
    r.agent(2)
    offer = r.handoff(1, status="offered", offered_to=1, offered_at=r.clock.now())

    await r.assigner().run_once()
    assert (offer.offered_to, offer.declined) == (2, [1])


async def test_a_transfer_is_not_offered_back_to_the_agent_who_sent_it() -> None:
    """The sender is in the declined list: the texter waits rather than return to them."""
    r = Rig()
    r.agent(1)  # the sender: free, and first by every other rule
    transferred = r.handoff(1, declined=[1])

    assert await r.assigner().run_once() == 0
    assert (transferred.status, transferred.offered_to) == ("waiting", None)
    r.agent(2, capacity=1)
    await r.assigner().run_once()
    assert (transferred.status, transferred.offered_to) == ("offered", 2)


async def test_the_least_busy_agent_is_offered_the_next_texter() -> None:
    """Among agents with room, the one with fewest chats is offered; full agents are skipped."""
    r = Rig()
    r.agent(1, capacity=1)
    r.agent(2)
    r.handoff(1, status="active", agent_id=1, accepted_at=r.clock.now())
    waiting = r.handoff(2)

    await r.assigner().run_once()
    assert waiting.offered_to == 2
    assert r.tables.agents[2].last_assigned_at == r.clock.now()


async def test_with_nobody_available_texters_are_told_their_new_place_in_line() -> None:
    """Moving up the line is texted, once a minute at most; the dispatcher is woken."""
    r = Rig()
    told_at = r.clock.now() - timedelta(minutes=2)
    r.handoff(1, position_noticed=2, position_noticed_at=told_at)
    r.handoff(2, position_noticed=3, position_noticed_at=told_at)
    assigner = r.assigner()

    assert await assigner.run_once() == 0
    assert [t.body for t in r.tables.outbox] == [
        "You're next in line for an agent.",
        "You're now number 2 in line for an agent.",
    ]
    assert [(t.to_phone, t.from_phone) for t in r.tables.outbox] == [
        ("+15551230001", DESK),
        ("+15551230002", DESK),
    ]
    assert [(e.author, e.outbox_id) for e in r.tables.transcript] == [("bot", 1), ("bot", 2)]
    assert r.tables.handoff(1).position_noticed == 1
    assert r.wakes == 1

    r.tables.handoffs.remove(r.tables.handoff(1))
    r.clock.advance(30)
    await assigner.run_once()
    assert len(r.tables.outbox) == 2  # moved up again, but told less than a minute ago
    r.clock.advance(30)
    await assigner.run_once()
    assert r.tables.outbox[-1].body == "You're next in line for an agent."


async def test_an_idle_chat_is_ended_with_its_conversation_locked_first() -> None:
    """A chat quiet for the idle limit is closed, after the pass has locked its conversation."""
    r = Rig()
    r.agent(1)
    idle = r.handoff(
        1, status="active", agent_id=1, accepted_at=r.clock.now() - timedelta(minutes=31)
    )
    r.handoff(2, status="active", agent_id=1, accepted_at=r.clock.now())

    await r.assigner().run_once()
    assert r.tables.locked == [{("+15551230001", DESK)}]
    assert r.tables.ended_idle == [idle.conversation_id]
    assert WorkspaceEvent("ended", idle.conversation_id) in r.events


async def test_an_agent_is_reminded_once_of_a_texter_waiting_for_an_answer() -> None:
    """Three minutes without the agent's answer: one reminder, not one per pass."""
    r = Rig()
    r.agent(1)
    asked = r.clock.now() - timedelta(minutes=3)
    chat = r.handoff(1, status="active", agent_id=1, accepted_at=asked, last_texter_at=asked)
    assigner = r.assigner()

    await assigner.run_once()
    await assigner.run_once()
    assert r.events == [AgentEvent("reminder", 101, 1)]
    assert chat.reminded_at == r.clock.now()
