"""Live-agent hand-off through the services: queue, offer, accept, talk, end."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import at_desk
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db.tables import handoffs
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.domain.agent.messages import InboundText
from textdesk.live_agents.desk import DeskError
from textdesk.ports import AgentRow

OTHER = "+15557654321"
THIRD = "+15557654322"


@pytest.fixture
def converser() -> Converser | None:
    return None


async def _agent(desk: Desk, name: str, *, queues: list[str] | None = None, on: bool = True) -> int:
    agent_id = await admin_use_cases(desk.db, SystemClock()).agents.add_agent(
        name=name,
        email=f"{name.lower()}@example.com",
        password="a-long-password",
        queues=queues or [],
    )
    if on:
        await admin_use_cases(desk.db).agents.set_presence(agent_id=agent_id, presence="available")
        await at_desk(desk.db, agent_id)
    return agent_id


async def _handoff(desk: Desk, phone: str = TEXTER) -> object:
    rows = await desk.rows(
        "SELECT h.* FROM handoffs h JOIN conversations c ON c.id = h.conversation_id "
        "WHERE c.phone = :p ORDER BY h.id DESC",
        p=phone,
    )
    return rows[0] if rows else None


async def _offered(desk: Desk, phone: str = TEXTER) -> object:
    async def check() -> object:
        row = await _handoff(desk, phone)
        return row if row is not None and row.status == "offered" else None  # type: ignore[attr-defined]

    return await desk.eventually(check, what="an offer to an agent")


async def test_nobody_available_gets_the_no_agent_text(desk: Desk) -> None:
    """With every agent offline, asking for one says so and opens no hand-off."""
    await _agent(desk, "Dana", on=False)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    answer = await phone.say("agent")
    assert "No agent is available right now" in answer
    assert "REPORT" in answer
    assert await _handoff(desk) is None
    # Leaving a message instead: REPORT starts the incident topic.
    assert "what's the problem" in await phone.say("report")


async def test_out_of_hours_says_so(desk: Desk) -> None:
    """A queue closed every day answers with the out-of-hours text."""
    await admin_use_cases(desk.db, SystemClock()).agents.add_queue(
        name="Nights",
        is_default=True,
        hours={"mon": ["00:00", "00:01"]},
        timezone="Pacific/Kiritimati",
    )
    await _agent(desk, "Dana", queues=["Nights"])
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    answer = await phone.say("agent")
    assert "outside business hours" in answer
    assert await _handoff(desk) is None


async def test_a_chat_from_request_to_end(desk: Desk) -> None:
    """Queued with an estimate, offered, accepted; texts flow both ways; the bot resumes."""
    dana = await _agent(desk, "Dana")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    standby = await phone.say("agent")
    assert "Please stand by" in standby
    assert "Estimated wait: about 1 min." in standby
    offer = await _offered(desk)
    assert offer.offered_to == dana  # type: ignore[attr-defined]

    now = SystemClock().now()
    agent = await _agent_row(desk, dana)
    async with desk.container.desk.begin() as actions:
        await actions.accept(agent, offer.conversation_id, now)  # type: ignore[attr-defined]
    desk.container.loops[1].wake()
    assert "this is Dana" in (await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER))[-1].body
    phone.seen += 1

    # While with an agent, texts (even a bot command other than BYE) get no bot reply.
    assert await phone.say("my screen is black") == ""
    assert await phone.say("menu") == ""
    lines = [r.body for r in await desk.rows("SELECT body FROM transcript WHERE author='texter'")]
    assert lines[-2:] == ["my screen is black", "menu"]

    async with desk.container.desk.begin() as actions:
        await actions.reply_text(agent, offer.conversation_id, "Try the power button.", now)  # type: ignore[attr-defined]
        await actions.end(agent, offer.conversation_id, now)  # type: ignore[attr-defined]
    desk.container.loops[1].wake()
    sent = await desk.fake.wait_for_messages(phone.seen + 2, to=TEXTER)
    assert sent[-2].body == "Try the power button."
    assert "back with the virtual agent" in sent[-1].body
    phone.seen += 2
    assert (await _handoff(desk)).status == "ended"  # type: ignore[union-attr]
    assert "1. Report an issue" in await phone.say("menu")


async def test_bye_while_waiting_leaves_the_queue(desk: Desk) -> None:
    """A texter who gives up is taken out of the line."""
    await _agent(desk, "Dana")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("agent")
    await _offered(desk)
    assert "Goodbye" in await phone.say("bye")
    row = await _handoff(desk)
    assert (row.status, row.ended_by) == ("abandoned", "texter")  # type: ignore[union-attr]


async def test_two_texters_two_agents_one_offer_each(desk: Desk) -> None:
    """Assignment is fair: the agent with fewer chats gets the next texter."""
    dana = await _agent(desk, "Dana")
    lee = await _agent(desk, "Lee")
    first, second = Phone(desk, TEXTER), Phone(desk, OTHER)
    await first.say("hi")
    await first.say("agent")
    one = await _offered(desk, TEXTER)
    await second.say("hi")
    await second.say("agent")
    two = await _offered(desk, OTHER)
    assert {one.offered_to, two.offered_to} == {dana, lee}  # type: ignore[attr-defined]


async def test_an_offer_not_accepted_goes_to_the_next_agent(desk: Desk) -> None:
    """A lapsed offer moves on to another available agent."""
    await _agent(desk, "Dana")
    await _agent(desk, "Lee")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("agent")
    first = await _offered(desk)
    await _lapse(desk, first.id)  # type: ignore[attr-defined]

    async def moved() -> object:
        row = await _handoff(desk)
        return row if row.offered_to not in (None, first.offered_to) else None  # type: ignore[union-attr]

    again = await desk.eventually(moved, what="the offer moving on")
    declined = again.declined  # type: ignore[attr-defined]
    assert (json.loads(declined) if isinstance(declined, str) else declined) == [
        first.offered_to  # type: ignore[attr-defined]
    ]


async def _lapse(desk: Desk, handoff_id: int) -> None:
    """Make the offer look older than the offer time instead of waiting for it."""
    past = SystemClock().now() - timedelta(minutes=5)
    async with desk.db.begin() as conn:
        await conn.execute(
            update(handoffs).where(handoffs.c.id == handoff_id).values(offered_at=past)
        )
    desk.container.loops[2].wake()


async def _transfer_to(desk: Desk, sender: int, colleague: int) -> Any:
    """The sender accepts the texter's chat and transfers it to a colleague."""
    first = await _offered(desk)
    cid = first.conversation_id  # type: ignore[attr-defined]
    clock = SystemClock()
    agent = await _agent_row(desk, sender)
    assert first.offered_to == sender  # type: ignore[attr-defined]
    async with desk.container.desk.begin() as actions:
        await actions.accept(agent, cid, clock.now())
        await actions.transfer(
            agent, cid, queue_id=None, to_agent_id=colleague, note="", now=clock.now()
        )
    return await _handoff(desk)


async def test_an_unaccepted_transfer_goes_to_the_queue_not_back_to_its_sender(
    desk: Desk,
) -> None:
    """Dana transfers her chat to Lee, who lets the offer lapse: Kim is offered it."""
    dana = await _agent(desk, "Dana")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("agent")
    lee = await _agent(desk, "Lee")
    kim = await _agent(desk, "Kim")
    handed = await _transfer_to(desk, dana, lee)
    assert (handed.status, handed.offered_to) == ("offered", lee)  # type: ignore[attr-defined]
    await _lapse(desk, handed.id)  # type: ignore[attr-defined]

    async def moved() -> object:
        row = await _handoff(desk)
        return row if row.offered_to not in (None, lee) else None  # type: ignore[union-attr]

    again = await desk.eventually(moved, what="the lapsed transfer moving on")
    assert again.offered_to == kim  # type: ignore[attr-defined]


async def test_a_lapsed_transfer_waits_in_line_when_only_its_sender_is_free(
    desk: Desk,
) -> None:
    """With nobody but the sender left, the chat waits in the queue for the next agent."""
    dana = await _agent(desk, "Dana")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("agent")
    lee = await _agent(desk, "Lee")
    handed = await _transfer_to(desk, dana, lee)
    await _lapse(desk, handed.id)  # type: ignore[attr-defined]

    async def back_in_line() -> object:
        row = await _handoff(desk)
        return row if row.status == "waiting" else None  # type: ignore[union-attr]

    waiting = await desk.eventually(back_in_line, what="the lapsed transfer back in line")
    assert waiting.offered_to is None  # type: ignore[attr-defined]
    await asyncio.sleep(1.5)  # the assigner passes every second: it must not offer it to Dana
    still = await _handoff(desk)
    assert (still.status, still.offered_to) == ("waiting", None)  # type: ignore[attr-defined]
    # A colleague who comes in later is offered it.
    kim = await _agent(desk, "Kim")
    desk.container.loops[2].wake()
    assert (await _offered(desk)).offered_to == kim  # type: ignore[attr-defined]


async def test_an_agent_outside_the_queue_cannot_act(desk: Desk) -> None:
    """Agents act only on conversations of their queues."""
    await admin_use_cases(desk.db, SystemClock()).agents.add_queue(
        name="Service desk", is_default=True
    )
    await admin_use_cases(desk.db, SystemClock()).agents.add_queue(name="Hardware")
    await _agent(desk, "Dana")
    outsider = await _agent(desk, "Lee", queues=["Hardware"], on=False)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("agent")
    offer = await _offered(desk)
    agent = await _agent_row(desk, outsider)
    async with desk.container.desk.begin() as actions:
        with pytest.raises(DeskError, match="not in your queues"):
            await actions.accept(agent, offer.conversation_id, SystemClock().now())  # type: ignore[attr-defined]


async def _backdate(desk: Desk, phone: str, **columns: timedelta) -> None:
    """Make a hand-off's timestamps look older instead of waiting for the timers."""
    row = await _handoff(desk, phone)
    now = SystemClock().now()
    async with desk.db.begin() as conn:
        await conn.execute(
            update(handoffs)
            .where(handoffs.c.id == row.id)  # type: ignore[attr-defined]
            .values(**{name: now - ago for name, ago in columns.items()})
        )


async def _accept(desk: Desk, agent_id: int, conversation_id: int) -> None:
    agent = await _agent_row(desk, agent_id)
    async with desk.container.desk.begin() as actions:
        await actions.accept(agent, conversation_id, SystemClock().now())


async def _agent_row(desk: Desk, agent_id: int) -> AgentRow:
    """The agent as the Workspace's session finds them."""
    async with desk.db.connect() as conn:
        agent = await agent_store.agent_by_id(conn, agent_id)
    assert agent is not None
    return agent


async def test_waiting_texters_hear_when_their_place_in_line_changes(desk: Desk) -> None:
    """Moving up the line is texted, but not within a minute of the last such text."""
    dana = await admin_use_cases(desk.db, SystemClock()).agents.add_agent(
        name="Dana",
        email="dana@example.com",
        password="a-long-password",
        capacity=1,
    )
    await admin_use_cases(desk.db).agents.set_presence(agent_id=dana, presence="available")
    await at_desk(desk.db, dana)
    busy, second, third = Phone(desk, TEXTER), Phone(desk, OTHER), Phone(desk, THIRD)
    await busy.say("hi")
    await busy.say("agent")
    await _accept(desk, dana, (await _offered(desk)).conversation_id)  # type: ignore[attr-defined]
    for phone in (second, third):
        await phone.say("hi")
        assert "Please stand by" in await phone.say("agent")
    assert "Goodbye" in await second.say("bye")

    # Second in line, now first: but the last word on the line was under a minute ago.
    await asyncio.sleep(2.5)  # the assigner passes every second
    assert len(desk.fake.messages_to(THIRD)) == third.seen
    await _backdate(desk, THIRD, position_noticed_at=timedelta(minutes=2))
    notice = (await desk.fake.wait_for_messages(third.seen + 1, to=THIRD))[-1]
    assert notice.body == "You're next in line for an agent."


async def test_an_idle_agent_chat_closes_with_a_text(desk: Desk) -> None:
    """A chat nobody has written in for the idle time ends, and the texter is told."""
    dana = await _agent(desk, "Dana")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("agent")
    await _accept(desk, dana, (await _offered(desk)).conversation_id)  # type: ignore[attr-defined]
    await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER)
    phone.seen += 1

    idle = desk.settings.agent_idle_close_minutes
    quiet = timedelta(minutes=idle + 1)
    await _backdate(desk, TEXTER, accepted_at=quiet, last_texter_at=quiet, last_agent_at=quiet)
    closing = await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER)
    assert "back with the virtual agent" in closing[-1].body
    row = await _handoff(desk)
    assert (row.status, row.ended_by) == ("ended", "timeout")  # type: ignore[union-attr]


async def test_an_engine_error_hands_the_texter_to_a_person(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a topic does not leave the texter unanswered: a person takes over."""
    dana = await _agent(desk, "Dana")
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    engine = desk.container.topics.engine
    working = engine.handle

    def failing(state: Any, text: InboundText, *args: Any) -> Any:
        if text.body == "trigger the bug":
            raise RuntimeError("a topic bug")
        return working(state, text, *args)

    monkeypatch.setattr(engine, "handle", failing)
    assert "passing you to a person" in await phone.say("trigger the bug")
    assert (await _offered(desk)).offered_to == dana  # type: ignore[attr-defined]
