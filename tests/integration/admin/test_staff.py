"""Removing agents and queues: refused while a texter waits on them, history kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, at_desk, new_agent
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db.tables import agents
from textdesk.adapters.db.workspace_views import SqlWorkspaceReads
from textdesk.admin import staff
from textdesk.admin.agents import AgentError
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.live_agents import workspace_views
from textdesk.live_agents.desk import Invalid
from textdesk.ports import AgentRow


@pytest.fixture
def converser() -> Converser | None:
    """The real virtual agent: 'agent' hands the texter over."""
    return None


async def _chat(desk: Desk, phone: Phone) -> Any:
    """The texter asks for a person; returns the hand-off once it is offered."""
    await phone.say("hi")
    await phone.say("agent")

    async def offered() -> Any:
        rows = await desk.rows(
            "SELECT h.* FROM handoffs h JOIN conversations c ON c.id = h.conversation_id "
            "WHERE c.phone = :p AND h.status = 'offered' ORDER BY h.id DESC",
            p=phone.number,
        )
        return rows[0] if rows else None

    return await desk.eventually(offered, what="an offer to an agent")


async def _end(desk: Desk, agent_id: int, conversation_id: int) -> None:
    """The agent accepts the chat, answers and ends it."""
    now = SystemClock().now()
    agent = await _agent_row(desk, agent_id)
    async with desk.container.desk.begin() as actions:
        await actions.accept(agent, conversation_id, now)
        await actions.reply_text(agent, conversation_id, "Fixed it.", now)
        await actions.end(agent, conversation_id, now)


async def _agent_row(desk: Desk, agent_id: int) -> AgentRow:
    """The agent as the Workspace's session finds them."""
    async with desk.db.connect() as conn:
        agent = await agent_store.agent_by_id(conn, agent_id)
    assert agent is not None
    return agent


async def test_an_agent_is_removed_only_once_no_texter_waits_on_them(desk: Desk) -> None:
    """Refused while offered a chat, naming it; then signed out, never offered a chat
    again, unable to sign in, and still named on the chat they handled."""
    dana = await new_agent(desk.db, "Dana Agent")
    await new_agent(desk.db, "Lee Colleague", available=False)
    browser = AgentBrowser(desk.url)
    try:
        assert (await browser.sign_in("dana@example.com")).status_code == 303
        offer = await _chat(desk, Phone(desk, TEXTER))
        assert offer.offered_to == dana
        row = await admin_use_cases(desk.db).staff.find_agent(email="Dana@example.com")
        with pytest.raises(staff.StillInUse, match=r"\+15551230001 \(offered\)"):
            await admin_use_cases(desk.db, SystemClock()).staff.remove_agent(agent=row)
        assert [a.name for a in await admin_use_cases(desk.db).staff.list_agents()] == [
            "Dana Agent",
            "Lee Colleague",
        ]
        assert (await browser.http.get("/workspace")).status_code == 200

        await _end(desk, dana, offer.conversation_id)
        held = await admin_use_cases(desk.db).staff.agent_footprint(agent=row)
        assert (held.open_chats, held.queues, held.handoffs, held.lines) == (
            [],
            1,
            1,
            2,
        )  # her greeting and her answer
        await admin_use_cases(desk.db, SystemClock()).staff.remove_agent(agent=row)

        assert [a.name for a in await admin_use_cases(desk.db).staff.list_agents()] == [
            "Lee Colleague"
        ]
        assert (await browser.http.get("/workspace")).status_code != 200
        assert (await browser.sign_in("dana@example.com")).status_code != 303
        with pytest.raises(AgentError, match=r"no agent signs in as dana@example\.com"):
            await admin_use_cases(desk.db).staff.find_agent(email="dana@example.com")
        named = await desk.rows(
            "SELECT a.name FROM handoffs h JOIN agents a ON a.id = h.agent_id "
            "UNION ALL SELECT a.name FROM transcript t JOIN agents a ON a.id = t.agent_id"
        )
        assert [r.name for r in named] == ["Dana Agent"] * 3
    finally:
        await browser.close()

    # Even made available and connected again behind the desk's back (a stale tab's
    # heartbeat), she is offered nothing: with Lee away, nobody is there for the next
    # texter.
    async with desk.db.begin() as conn:
        await conn.execute(update(agents).where(agents.c.id == dana).values(presence="available"))
    await at_desk(desk.db, dana)
    await new_agent(desk.db, "Dana Again", available=False)  # the email is free again
    other = Phone(desk, "+15557654321")
    await other.say("hi")
    assert "No agent is available right now" in await other.say("agent")
    assert await desk.rows("SELECT id FROM handoffs WHERE offered_to = :d", d=dana) == []


async def test_a_queue_is_removed_only_once_empty_and_keeps_its_history(desk: Desk) -> None:
    """Refused while a chat is in it and for the default queue; once removed no chat
    enters it, its ended chats stay in it and its team still reads them."""
    clock = SystemClock()
    dana = await new_agent(desk.db, "Dana Agent")
    billing_id = await admin_use_cases(desk.db, clock).agents.add_queue(name="Billing")
    lee = await new_agent(desk.db, "Lee Colleague", queues=["Billing"], available=False)
    offer = await _chat(desk, Phone(desk, TEXTER))
    cid = offer.conversation_id
    agent = await _agent_row(desk, dana)
    async with desk.container.desk.begin() as actions:
        await actions.accept(agent, cid, clock.now())
        await actions.transfer(
            agent, cid, queue_id=billing_id, to_agent_id=None, note="", now=clock.now()
        )

    billing = await admin_use_cases(desk.db).staff.find_queue(name="Billing")
    with pytest.raises(staff.StillInUse, match=r"queue Billing .*\+15551230001 \(waiting\)"):
        await admin_use_cases(desk.db, clock).staff.remove_queue(queue=billing)
    default = await admin_use_cases(desk.db).staff.find_queue(name="Service desk")
    with pytest.raises(AgentError, match="is the default queue"):
        await admin_use_cases(desk.db, clock).staff.remove_queue(queue=default)

    await _end(desk, lee, cid)
    held = await admin_use_cases(desk.db).staff.queue_footprint(queue=billing)
    assert (held.open_chats, held.members, held.handoffs) == ([], 1, 1)
    await admin_use_cases(desk.db, clock).staff.remove_queue(queue=billing)

    async with desk.db.connect() as conn:
        assert [q.name for q in await agent_store.list_queues(conn)] == ["Service desk"]
        assert await agent_store.queue_by_id(conn, billing_id) is None
        lee_row = await agent_store.agent_by_id(conn, lee)
        assert lee_row is not None
        assert await workspace_views.visible_among(SqlWorkspaceReads(conn), lee_row, [cid]) == {cid}
    kept = await desk.rows(
        "SELECT q.name FROM handoffs h JOIN queues q ON q.id = h.queue_id "
        "WHERE h.conversation_id = :c",
        c=cid,
    )
    assert [r.name for r in kept] == [f"Billing (removed #{billing_id})"]
    assert [a.queues for a in await admin_use_cases(desk.db).staff.list_agents()] == [
        ("Service desk",),
        (),
    ]

    # No chat enters it any more; the name is free for a new queue.
    second = await _chat(desk, Phone(desk, "+15557654321"))
    agent = await _agent_row(desk, dana)
    async with desk.container.desk.begin() as actions:
        await actions.accept(agent, second.conversation_id, clock.now())
        with pytest.raises(Invalid, match="no such queue"):
            await actions.transfer(
                agent,
                second.conversation_id,
                queue_id=billing_id,
                to_agent_id=None,
                note="",
                now=clock.now(),
            )
    assert await admin_use_cases(desk.db, clock).agents.add_queue(name="Billing") != billing_id
