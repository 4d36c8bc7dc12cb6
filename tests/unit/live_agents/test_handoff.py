"""Handing a texter to a person, on in-memory repositories: queues, hours, places in line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from textdesk.channel.answering import TextInContext
from textdesk.domain.agent.messages import InboundText, Texter, Transfer
from textdesk.live_agents.handoff import LiveAgents
from textdesk.ports import QueueRow
from textdesk.testing.clock import FixedClock
from textdesk.testing.live_agents import FakeHandoffRepositories
from textdesk.testing.tables import FakeTables, StoredAgent, StoredHandoff

CONVERSATION = 7
DESK = "+15550100100"
TEXTER = "+15551230001"


@dataclass
class Rig:
    tables: FakeTables = field(default_factory=FakeTables)
    clock: FixedClock = field(default_factory=FixedClock)

    def live_agents(self) -> LiveAgents:
        return LiveAgents(
            grace=timedelta(seconds=45),
            repositories=lambda turn: FakeHandoffRepositories(self.tables),
        )

    def turn(self, conversation_id: int = CONVERSATION) -> TextInContext:
        return TextInContext(
            # The hand-off is given its fake repositories: the turn's are never used.
            repos=cast(Any, None),
            conversation_id=conversation_id,
            texter=Texter(TEXTER),
            number=DESK,
            text=InboundText("agent please"),
            media=[],
            now=self.clock.now(),
        )

    def queue(self, queue_id: int, name: str, **extra: Any) -> QueueRow:
        queue = QueueRow(
            queue_id, name, **{"is_default": False, "timezone": "UTC", "hours": None, **extra}
        )
        self.tables.queues[queue_id] = queue
        return queue

    def agent(self, agent_id: int, queue_id: int, **extra: Any) -> StoredAgent:
        agent = StoredAgent(agent_id, {queue_id}, **{"last_seen_at": self.clock.now(), **extra})
        self.tables.agents[agent_id] = agent
        return agent

    def notes(self) -> list[str]:
        return [e.body for e in self.tables.transcript if e.author == "system"]


async def test_a_texter_is_put_in_line_for_the_queue_they_asked_for() -> None:
    """With an agent on duty, the texter waits in the named queue, told their wait."""
    r = Rig()
    r.queue(1, "general", is_default=True)
    r.queue(2, "billing")
    r.agent(10, 2)

    result = await r.live_agents().request(r.turn(), Transfer(queue="billing"))
    assert result.value == {"status": "queued", "wait_minutes": 1, "queue": "billing"}
    [handoff] = r.tables.handoffs
    assert (handoff.queue_id, handoff.status, handoff.position_noticed) == (2, "waiting", 1)
    assert r.notes() == ["Transferred to billing (asked)"]


async def test_an_unknown_queue_falls_back_to_the_default_one() -> None:
    """A topic naming a queue that does not exist still reaches a person."""
    r = Rig()
    r.queue(1, "general", is_default=True)
    r.agent(10, 1)

    result = await r.live_agents().request(r.turn(), Transfer(queue="nope"))
    assert result.value["queue"] == "general"


async def test_nobody_on_duty_means_no_hand_off() -> None:
    """Agents away, or whose Workspace is closed, cannot take a texter: "unavailable"."""
    r = Rig()
    r.queue(1, "general", is_default=True)
    r.agent(10, 1, presence="away")
    r.agent(11, 1, last_seen_at=r.clock.now() - timedelta(minutes=5))

    result = await r.live_agents().request(r.turn(), Transfer())
    assert result.value == {"status": "unavailable"}
    assert r.tables.handoffs == []
    assert r.notes() == ["Asked for an agent (asked): nobody available in general"]


async def test_a_closed_queue_says_out_of_hours() -> None:
    """Outside the queue's hours the texter is told so, whoever is signed in."""
    r = Rig()
    r.queue(
        1, "general", is_default=True, hours={"sat": ["10:00", "11:00"]}
    )  # 2025-01-06 is a Monday
    r.agent(10, 1)

    result = await r.live_agents().request(r.turn(), Transfer())
    assert result.value == {"status": "out_of_hours"}
    assert r.tables.handoffs == []


async def test_asking_again_keeps_the_texter_s_place_in_line() -> None:
    """A second request while waiting opens no second hand-off; the place is re-counted."""
    r = Rig()
    r.queue(1, "general", is_default=True)
    r.agent(10, 1, capacity=1)
    r.tables.handoffs.append(StoredHandoff(1, 99, 1))  # someone ahead
    live_agents = r.live_agents()

    await live_agents.request(r.turn(), Transfer())
    result = await live_agents.request(r.turn(), Transfer())
    assert [h.conversation_id for h in r.tables.handoffs] == [99, CONVERSATION]
    assert r.tables.handoff(2).position_noticed == 2
    assert result.value["wait_minutes"] == 4


async def test_a_texter_who_says_bye_abandons_the_line_or_ends_the_chat() -> None:
    """BYE while waiting abandons the hand-off; BYE with an agent ends the chat."""
    r = Rig()
    waiting = StoredHandoff(1, CONVERSATION, 1, status="offered", offered_to=10)
    chatting = StoredHandoff(2, 8, 1, status="active", agent_id=11)
    r.tables.handoffs.extend([waiting, chatting])
    live_agents = r.live_agents()

    await live_agents.texter_left(r.turn())
    await live_agents.texter_left(r.turn(conversation_id=8))
    assert (waiting.status, waiting.ended_by, waiting.offered_to) == ("abandoned", "texter", None)
    assert (chatting.status, chatting.ended_at) == ("ended", r.clock.now())


async def test_a_text_for_the_agent_starts_the_reply_clock() -> None:
    """While a hand-off is open, each text from the texter is the agent's to answer."""
    r = Rig()
    chat = StoredHandoff(1, CONVERSATION, 1, status="active", agent_id=10)
    r.tables.handoffs.append(chat)

    await r.live_agents().texter_spoke(r.turn())
    assert chat.last_texter_at == r.clock.now()
