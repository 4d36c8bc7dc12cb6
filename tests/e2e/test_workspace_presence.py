"""Presence in real Chromium: an agent who closes the tab stops being offered chats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.e2e.workspace_world import World, run_async, seed_desk
from tests.integration.conftest import desk_settings
from tests.integration.workspace_helpers import PASSWORD, new_agent
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.web.app import create_app

pytestmark = pytest.mark.browser
GRACE = "2"  # seconds: short, so the test sees it pass; the default is 45


async def _admin(database_url: str) -> None:
    db = create_engine(database_url)
    try:
        await new_agent(db, "Sam Admin", role="admin", available=False)
    finally:
        await db.dispose()


@pytest.fixture
def world(sqlite_url: str, fake_twilio: FakeTwilio) -> Iterator[World]:
    """textdesk with the real virtual agent; Dana (agent) and Sam (admin)."""
    record = run_async(seed_desk(sqlite_url))
    run_async(_admin(sqlite_url))
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = desk_settings(url, sqlite_url, fake_twilio, TEXTDESK_PRESENCE_GRACE_SECONDS=GRACE)
    with serve_app(create_app(settings), sock=sock, lifespan="on"):
        yield World(url, fake_twilio, record)


def _sign_in(tab: Page, world: World, email: str) -> None:
    tab.goto(f"{world.url}/workspace")
    tab.fill("#email", email)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    expect(tab.locator("#live-status")).to_have_text("live")


def test_closing_the_tab_makes_the_agent_unreachable(world: World, page: Page) -> None:  # noqa: F811
    """Dana closes her tab with an offer pending: it goes back in line, Sam sees her gone."""
    assert page.context.browser is not None
    dana = page.context.browser.new_context().new_page()  # her own browser: her own cookies
    _sign_in(dana, world, "dana@example.com")
    _sign_in(page, world, "sam@example.com")

    world.text("hi")
    world.received(1)
    world.text("agent")
    assert "Please stand by" in world.received(2)[-1].body
    expect(dana.locator("#inbox .waiting .item")).to_contain_text("Offered to you")
    page.locator("#inbox .waiting .item a").click()
    head = page.locator("#conv-head .chip")
    expect(head).to_contain_text("offered to a colleague")
    colleague = page.locator("#transfer-target option", has_text="Dana Agent")
    expect(colleague).to_have_text("Dana Agent (available)")

    dana.close()  # no sign-out: she is still "available", but nobody is there
    expect(head).to_contain_text("waiting in")
    expect(colleague).to_have_text("Dana Agent (available, not connected)")
