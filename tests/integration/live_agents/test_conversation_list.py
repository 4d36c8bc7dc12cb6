"""The Workspace's conversation list: who sees what, states, search, pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.integration.conftest import NUMBER, TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, new_agent, signed_in
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import conversations
from textdesk.adapters.db import records as record_store
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.live_agents.conversation_list import PAGE_SIZE

GUEST = "+15557654321"
LEAVER = "+15559990003"


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent, so 'agent' hands the texter over."""
    return None


@pytest.fixture
async def people(desk: Desk) -> AsyncIterator[dict[str, AgentBrowser]]:
    """Dana (Service desk), Lee (Hardware) and Sam (admin), signed in."""
    clock = SystemClock()
    await admin_use_cases(desk.db, clock).agents.add_queue(name="Service desk", is_default=True)
    await admin_use_cases(desk.db, clock).agents.add_queue(name="Hardware")
    await new_agent(desk.db, "Dana Agent", queues=["Service desk"])
    await new_agent(desk.db, "Lee Outsider", queues=["Hardware"], available=False)
    await new_agent(desk.db, "Sam Admin", role="admin", queues=["Hardware"], available=False)
    async with signed_in(desk.url, "dana", "lee", "sam") as browsers:
        yield browsers


async def _cid(desk: Desk, phone: str) -> int:
    return int(await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=phone))


async def _listed(browser: AgentBrowser, **params: str) -> str:
    """The list itself (the inbox beside it links to open chats too)."""
    page = await browser.http.get("/workspace/conversations", params=params)
    assert page.status_code == 200
    start = page.text.index('<section class="conv-list">')
    return page.text[start : page.text.index("</section>", start)]


async def test_each_agent_lists_what_they_may_see_by_state_and_search(
    desk: Desk, people: dict[str, AgentBrowser]
) -> None:
    """Queue chats for their team, bot-only ones for everyone, all for an admin."""
    await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice Example", phone=TEXTER)
    alice = Phone(desk, TEXTER)
    await alice.say("hi")
    await alice.say("my printer is on fire")
    await alice.say("agent")  # waiting, in Service desk
    await Phone(desk, GUEST).say("hi")  # with the bot, never handed over
    leaver = Phone(desk, LEAVER)
    await leaver.say("hi")
    await leaver.say("agent")
    dana = people["dana"]
    ended = await _cid(desk, LEAVER)
    # Dana is offered one of the two chats; she takes the leaver's and ends it.
    assert (await dana.act(f"/workspace/conversations/{ended}/accept")).status_code == 200
    assert (await dana.act(f"/workspace/conversations/{ended}/end")).status_code == 200
    async with desk.db.begin() as conn:
        record = await record_store.create(
            conn,
            short_description="Monitor",
            caller_id=None,
            caller_phone=LEAVER,
            now=SystemClock().now(),
        )
    waiting, bot_only = await _cid(desk, TEXTER), await _cid(desk, GUEST)

    def ids(html: str) -> set[int]:
        found = {waiting, bot_only, ended}
        return {c for c in found if f'href="/workspace/conversations/{c}"' in html}

    assert ids(await _listed(dana)) == {waiting, bot_only, ended}
    assert ids(await _listed(people["sam"])) == {waiting, bot_only, ended}
    assert ids(await _listed(people["lee"])) == {bot_only}
    assert ids(await _listed(dana, state="bot")) == {bot_only}
    assert ids(await _listed(dana, state="waiting")) == {waiting}
    assert ids(await _listed(dana, state="ended")) == {ended}
    assert ids(await _listed(dana, state="agent")) == set()
    assert ids(await _listed(dana, q="alice")) == {waiting}
    assert ids(await _listed(dana, q="(555) 765-4321")) == {bot_only}
    assert ids(await _listed(dana, q="PRINTER is on")) == {waiting}
    assert ids(await _listed(dana, q=record.number)) == {ended}
    assert ids(await _listed(people["lee"], q="alice")) == set()

    # Lee may read the bot-only conversation, but nothing can be done in it.
    lee = people["lee"]
    page = await lee.http.get(f"/workspace/conversations/{bot_only}")
    assert page.status_code == 200
    assert 'id="compose-text"' not in page.text
    refused = await lee.act(f"/workspace/conversations/{bot_only}/reply", {"body": "hi"})
    assert refused.status_code == 409
    assert (await lee.http.get(f"/workspace/conversations/{waiting}")).status_code == 404


async def test_the_list_is_newest_first_in_pages(
    desk: Desk, people: dict[str, AgentBrowser]
) -> None:
    """More than a page: the newest activity first, the rest behind 'Older'."""
    start = SystemClock().now()
    phones = [f"+1555300{i:04d}" for i in range(PAGE_SIZE + 2)]
    async with desk.db.begin() as conn:
        for i, phone in enumerate(phones):
            await conversations.load_or_create(
                conn, [(phone, NUMBER)], {}, start + timedelta(seconds=i)
            )
    first = await _listed(people["lee"])
    second = await _listed(people["lee"], page="2")
    newest, oldest = phones[-1], phones[0]
    assert first.count('href="/workspace/conversations/') == PAGE_SIZE
    assert first.index(newest) < first.index(phones[-2])
    assert oldest not in first
    assert oldest in second
    assert 'rel="next"' in first
    assert 'rel="next"' not in second
