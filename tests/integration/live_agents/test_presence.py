"""Presence follows the browser: only agents with a Workspace connected are offered chats.

The servers run on a ``FixedClock``: the grace period passes when the test moves
the clock, not by waiting.  With a grace of 3 s the heartbeat beats every second
of real time, so an open stream keeps its agent seen at whatever the clock says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any

import pytest

from tests.integration.conftest import NUMBER, TEXTER, Desk, desk_settings
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, new_agent
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.agents import agent_by_id
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import admin_use_cases
from textdesk.testing.clock import FixedClock
from textdesk.web.app import create_app

OTHER = "+15557654321"
GRACE = 3.0
NO_AGENT = "No agent is available right now"


@contextmanager
def _instance(
    database_url: str, fake: FakeTwilio, clock: FixedClock, *, background: bool = True, **extra: Any
) -> Iterator[Desk]:
    """One textdesk process (its own app, engine and heartbeat) on the shared database."""
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = desk_settings(
        url, database_url, fake, TEXTDESK_PRESENCE_GRACE_SECONDS=GRACE, **extra
    )
    app = create_app(settings, background=background, clock=clock)
    with serve_app(app, sock=sock, lifespan="on"):
        yield Desk(url=url, settings=settings, fake=fake, app=app, db=create_engine(database_url))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SystemClock().now())


@pytest.fixture
async def desk(
    database_url: str, fake_twilio: FakeTwilio, clock: FixedClock
) -> AsyncIterator[Desk]:
    """textdesk with its real virtual agent, on a clock that the test moves."""
    db = create_engine(database_url)
    await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
    await db.dispose()
    with _instance(database_url, fake_twilio, clock) as found:
        yield found
        await found.db.dispose()


@asynccontextmanager
async def _signed_in(desk: Desk, email: str) -> AsyncIterator[AgentBrowser]:
    browser = AgentBrowser(desk.url)
    try:
        assert (await browser.sign_in(email)).status_code == 303
        yield browser
    finally:
        await browser.close()


async def _agent(desk: Desk, name: str) -> int:
    """An agent who chose Available in the Workspace (but has no stream open yet)."""
    return await new_agent(desk.db, name, available=False)


async def _available(browser: AgentBrowser) -> None:
    assert (await browser.act("/workspace/presence", {"presence": "available"})).status_code == 200


async def _seen(desk: Desk, agent_id: int) -> datetime | None:
    async with desk.db.connect() as conn:
        agent = await agent_by_id(conn, agent_id)
    assert agent is not None
    return agent.last_seen_at


async def _seen_at(desk: Desk, agent_id: int, moment: datetime) -> None:
    """Wait for the heartbeat to record ``agent_id`` as connected at ``moment``."""

    async def check() -> bool:
        seen = await _seen(desk, agent_id)
        return seen is not None and seen >= moment

    await desk.eventually(check, what=f"agent {agent_id} seen at {moment}")


async def _closed(desk: Desk, agent_id: int) -> None:
    """Wait until the server has noticed the agent's stream closing."""

    async def check() -> bool:
        return agent_id not in desk.container.heartbeat.connected_ids

    await desk.eventually(check, what="the stream closing on the server")


async def _handoff(desk: Desk, phone: str) -> Any:
    rows = await desk.rows(
        "SELECT h.* FROM handoffs h JOIN conversations c ON c.id = h.conversation_id "
        "WHERE c.phone = :p ORDER BY h.id DESC",
        p=phone,
    )
    return rows[0] if rows else None


async def _offered_to(desk: Desk, phone: str, agent_id: int | None) -> None:
    async def check() -> bool:
        row = await _handoff(desk, phone)
        return row is not None and row.offered_to == agent_id

    await desk.eventually(check, what=f"the chat of {phone} offered to {agent_id}")


async def test_an_agent_whose_tab_closed_is_not_offered_chats(
    desk: Desk, clock: FixedClock
) -> None:
    """Available but gone past the grace: her offer goes back in line; the next texter: no agent."""
    dana = await _agent(desk, "Dana Agent")
    async with _signed_in(desk, "dana@example.com") as browser:
        await _available(browser)
        async with browser.events():
            pass  # a tab opened, then closed without signing out
    await _closed(desk, dana)

    # Within the grace (a reload, a reconnect) she still counts.
    clock.advance(GRACE - 1)
    first = Phone(desk, TEXTER)
    await first.say("hi")
    assert "Estimated wait: about 1 min" in await first.say("agent")
    await _offered_to(desk, TEXTER, dana)

    # Past it, her pending offer is taken back and nobody is promised a wait.
    clock.advance(2)
    await _offered_to(desk, TEXTER, None)
    assert (await _handoff(desk, TEXTER)).status == "waiting"
    second = Phone(desk, OTHER)
    await second.say("hi")
    answer = await second.say("agent")
    assert NO_AGENT in answer
    assert "Estimated wait" not in answer
    assert await _handoff(desk, OTHER) is None
    # What she chose is still what she chose.
    assert await desk.scalar("SELECT presence FROM agents WHERE id = :a", a=dana) == "available"


async def test_a_pending_offer_goes_to_another_agent_when_its_agent_leaves(
    desk: Desk, clock: FixedClock
) -> None:
    """Dana's tab closes with an offer pending: it goes to Lee, who sees her 'not connected'."""
    dana = await _agent(desk, "Dana Agent")
    lee = await _agent(desk, "Lee Agent")
    async with (
        _signed_in(desk, "dana@example.com") as dana_browser,
        _signed_in(desk, "lee@example.com") as lee_browser,
    ):
        await _available(dana_browser)
        await _available(lee_browser)
        async with lee_browser.events():
            async with dana_browser.events():
                phone = Phone(desk, TEXTER)
                await phone.say("hi")
                assert "Please stand by" in await phone.say("agent")
                await _offered_to(desk, TEXTER, dana)  # the first of two idle agents
            await _closed(desk, dana)
            moved = clock.advance(GRACE + 1)
            await _seen_at(desk, lee, moved)  # Lee's open stream keeps him seen
            await _offered_to(desk, TEXTER, lee)
            cid = (await _handoff(desk, TEXTER)).conversation_id
            assert (
                await lee_browser.act(f"/workspace/conversations/{cid}/accept")
            ).status_code == 200
            page = (await lee_browser.http.get(f"/workspace/conversations/{cid}")).text
    assert "Dana Agent (available, not connected)" in page


async def _two_processes(
    database_url: str, fake: FakeTwilio, clock: FixedClock, **extra: Any
) -> None:
    """Lee is Available with no Workspace open; Dana's is open on the second process."""
    db = create_engine(database_url)
    try:
        await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
        lee = await new_agent(db, "Lee Agent", available=False)  # first: ties go to him
        dana = await new_agent(db, "Dana Agent", available=False)
    finally:
        await db.dispose()
    # A takes Twilio's webhooks and runs the timers; B only serves the Workspace.
    with (
        _instance(database_url, fake, clock, **extra) as a,
        _instance(database_url, fake, clock, background=False, **extra) as b,
    ):
        async with _signed_in(b, "lee@example.com") as lee_browser:
            await _available(lee_browser)
        async with _signed_in(b, "dana@example.com") as dana_browser, dana_browser.events():
            await _available(dana_browser)
            moved = clock.advance(GRACE + 1)  # long after Lee's last sight (none)
            await _seen_at(a, dana, moved)  # B's heartbeat, through the database
            phone = Phone(a, TEXTER)
            await phone.say("hi")
            assert "Estimated wait: about 1 min" in await phone.say("agent")
            await _offered_to(a, TEXTER, dana)
        assert (await _handoff(a, TEXTER)).offered_to != lee
        await a.db.dispose()
        await b.db.dispose()


async def test_an_agent_connected_to_another_process_is_offered_the_chat(
    database_url: str, fake_twilio: FakeTwilio, clock: FixedClock
) -> None:
    """The heartbeat of a stream on process B reaches the assigner of process A."""
    await _two_processes(database_url, fake_twilio, clock)


@pytest.mark.redis
async def test_an_agent_connected_to_another_process_is_offered_the_chat_with_redis(
    database_url: str, redis_url: str, fake_twilio: FakeTwilio, clock: FixedClock
) -> None:
    """The same with events through Redis, as several processes on PostgreSQL run."""
    await _two_processes(database_url, fake_twilio, clock, TEXTDESK_REDIS_URL=redis_url)
