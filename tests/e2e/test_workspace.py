"""The Agent Workspace in real Chromium: a texter asks for a person and an agent answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, FilePayload, Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.e2e.workspace_world import World, run_async, seed_desk
from tests.integration.conftest import desk_settings
from tests.integration.phone_helpers import tiny_png
from tests.integration.workspace_helpers import PASSWORD, at_desk, new_agent
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import admin_use_cases
from textdesk.web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def world(sqlite_url: str, fake_twilio: FakeTwilio) -> Iterator[World]:
    """textdesk with its real virtual agent, sending through the Twilio stand-in."""
    record = run_async(seed_desk(sqlite_url))
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(desk_settings(url, sqlite_url, fake_twilio))
    with serve_app(app, sock=sock, lifespan="on"):
        yield World(url, fake_twilio, record)


def _not_reloaded(page: Page) -> None:  # noqa: F811
    assert page.evaluate("window.notReloaded") is True


def test_an_agent_takes_a_chat_from_request_to_end(world: World, page: Page) -> None:  # noqa: F811
    """Sign in, see the texter arrive live, accept, reply three ways, see answers, end."""
    page.goto(f"{world.url}/workspace")
    page.fill("#email", "dana@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".ws-top .who")).to_contain_text("Dana Agent")
    expect(page.locator("#live-status")).to_have_text("live")
    page.evaluate("window.notReloaded = true")

    world.text("hi")
    world.received(1)
    world.text("agent")
    assert "Please stand by" in world.received(2)[-1].body
    waiting = page.locator("#inbox .waiting .item", has_text="Alice Example")
    expect(waiting).to_contain_text("Offered to you")
    _not_reloaded(page)

    waiting.locator("a").click()
    expect(page.locator(".line-bot", has_text="Report an issue").first).to_be_visible()
    expect(page.locator("#conv-side")).to_contain_text(world.record)
    page.click("button.accept")
    expect(page.locator("#reply-body")).to_be_visible()
    assert "this is Dana" in world.received(3)[-1].body
    page.evaluate("window.notReloaded = true")
    _reply_three_ways(page, world)

    world.text("Restarted, all good now")
    expect(page.locator(".line-texter", has_text="Restarted, all good now")).to_be_visible()
    _not_reloaded(page)

    page.once("dialog", _accept)
    page.click("button.end")
    assert "Thanks for chatting" in world.received(7)[-1].body
    expect(page.locator("#conv-head .chip")).to_contain_text("back with the virtual agent")
    world.text("menu")
    assert "1. Report an issue" in world.received(8)[-1].body


def _reply_three_ways(page: Page, world: World) -> None:  # noqa: F811
    """Text (with its live cost), a record card, an image: each reaches the phone."""
    page.fill("#reply-body", "Try a restart 🙂")
    expect(page.locator("#cost")).to_contain_text("UCS-2 · 1 segment")
    page.fill("#reply-body", "Try a restart.")
    expect(page.locator("#cost")).to_contain_text("GSM-7 · 1 segment")
    page.click("#compose-text button[type=submit]")
    expect(page.locator(".line-agent", has_text="Try a restart.")).to_be_visible()
    expect(page.locator("#reply-body")).to_have_value("")
    assert world.received(4)[-1].body == "Try a restart."

    page.click(".composer .tab[data-pane=compose-card]")
    page.select_option("#card-number", world.record)
    page.click("#compose-card button[type=submit]")
    assert world.record in world.received(5)[-1].body

    page.click(".composer .tab[data-pane=compose-image]")
    pixel: FilePayload = {"name": "screen.png", "mimeType": "image/png", "buffer": tiny_png()}
    page.set_input_files("#image-file", files=[pixel])
    page.fill("#image-caption", "Like this")
    page.click("#compose-image button[type=submit]")
    mms = world.received(6)[-1]
    assert (mms.body, len(mms.media_urls)) == ("Like this", 1)
    expect(page.locator(".line-agent img")).to_be_visible()
    expect(page.locator(".line-agent .delivery-delivered").first).to_be_visible()


def _accept(dialog: Dialog) -> None:
    dialog.accept()


def test_an_agent_finds_a_bot_only_conversation_and_reads_it(
    world: World,
    page: Page,  # noqa: F811
) -> None:
    """Search the conversation list by a word the texter used; the bot chat opens read-only."""
    world.text("hi")
    world.received(1)
    world.text("my keyboard types backwards")
    world.received(2)
    page.goto(f"{world.url}/workspace")
    page.fill("#email", "dana@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("a.nav-link", timeout=10_000)
    page.fill("#conv-q", "Keyboard")
    page.select_option("#conv-state", "bot")
    page.click(".conv-filter button")
    row = page.locator(".conv-table tbody tr", has_text="Alice Example")
    expect(row).to_contain_text("With the bot")
    row.locator("a").click()
    expect(page.locator(".line-texter", has_text="my keyboard types backwards")).to_be_visible()
    expect(page.locator(".composer-off")).to_contain_text("Read-only")
    expect(page.locator("#reply-body")).to_have_count(0)


def test_an_admin_turns_a_texters_notifications_on_with_a_reason(
    world: World,
    sqlite_url: str,
    page: Page,  # noqa: F811
) -> None:
    """The profile shows notifications off; the admin turns them on, the reason shows."""

    async def admin() -> None:
        db = create_engine(sqlite_url)
        try:
            await new_agent(db, "Sam Admin", role="admin", available=False)
        finally:
            await db.dispose()

    run_async(admin())
    world.text("hi")
    world.received(1)
    page.goto(f"{world.url}/workspace")
    page.fill("#email", "sam@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("a.nav-link")
    page.locator(".conv-table a", has_text="Alice Example").click()
    panel = page.locator(".panel.subscription")
    expect(panel).to_contain_text("Off")
    panel.locator("#sub-reason").fill("asked at the front desk")
    panel.locator("button[type=submit]").click()
    expect(page.locator(".panel.subscription .badge.sub-on")).to_have_text("On")
    expect(page.locator(".panel.subscription")).to_contain_text("by Sam Admin")
    expect(page.locator(".panel.subscription")).to_contain_text("asked at the front desk")


async def _away_colleague(database_url: str, name: str) -> int:
    db = create_engine(database_url)
    try:
        return await new_agent(db, name, available=False)
    finally:
        await db.dispose()


async def _colleague_comes_in(database_url: str, agent_id: int) -> None:
    """Lee sets himself available in his own Workspace (another tab, another process)."""
    db = create_engine(database_url)
    try:
        await admin_use_cases(db).agents.set_presence(agent_id=agent_id, presence="available")
        await at_desk(db, agent_id)
    finally:
        await db.dispose()


def test_the_transfer_list_shows_a_colleague_who_came_in_after_the_page_loaded(
    world: World,
    sqlite_url: str,
    page: Page,  # noqa: F811
) -> None:
    """Lee is offline when Dana opens the chat; once he is available, her list says so."""
    lee = run_async(_away_colleague(sqlite_url, "Lee Colleague"))
    page.goto(f"{world.url}/workspace")
    page.fill("#email", "dana@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#live-status")).to_have_text("live")
    world.text("hi")
    world.text("agent")
    page.locator("#inbox .waiting .item", has_text="Alice Example").locator("a").click()
    page.click("button.accept")
    expect(page.locator("#reply-body")).to_be_visible()

    lee_option = page.locator("#transfer-target option", has_text="Lee Colleague")
    page.click("details.transfer summary")
    expect(lee_option).to_have_text("Lee Colleague (offline)")
    page.click("details.transfer summary")  # closed again while Lee comes in
    run_async(_colleague_comes_in(sqlite_url, lee))
    page.click("details.transfer summary")
    expect(lee_option).to_have_text("Lee Colleague (available)")
    page.select_option("#transfer-target", f"agent:{lee}")
    page.click("details.transfer button[type=submit]")
    assert "passing you to a colleague" in world.received(4)[-1].body
