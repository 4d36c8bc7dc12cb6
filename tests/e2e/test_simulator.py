"""The phone simulator in real Chromium: type, send, see replies arrive live."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.integration.conftest import NUMBER, SECRET_KEY, TEXTER, EchoConverser
from tests.integration.phone_helpers import tiny_png
from tests.integration.sandbox_helpers import sandbox_settings
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.bootstrap import admin_use_cases
from textdesk.web.app import create_app

pytestmark = pytest.mark.browser


async def _seed(database_url: str) -> None:
    db = create_engine(database_url)
    try:
        clock = SystemClock()
        await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
        await admin_use_cases(db, clock).accounts.add(name="Bob Example", phone="+15551230002")
        await admin_use_cases(db, clock).accounts.add(name="Alice Example", phone=TEXTER)
    finally:
        await db.dispose()


@pytest.fixture
def sandbox_url(sqlite_url: str) -> Iterator[str]:
    """A sandbox-mode textdesk with the echo bot, served on loopback."""
    # In a thread of its own: Playwright's sync API keeps an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _seed(sqlite_url)).result()
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(sandbox_settings(url, sqlite_url), converser=EchoConverser())
    with serve_app(app, sock=sock, lifespan="on"):
        yield url


def test_texts_and_images_show_up_live(sandbox_url: str, page: Page) -> None:  # noqa: F811
    """Enter sends a text, the reply appears without a reload, and an image shows inline."""
    page.goto(f"{sandbox_url}/simulator")
    page.select_option("#phone", label=f"Alice Example · {TEXTER}")
    page.wait_for_url(f"**phone=%2B{TEXTER[1:]}**")
    page.evaluate("window.notReloaded = true")

    page.fill("#body", "hello")
    page.press("#body", "Enter")
    expect(page.locator(".msg-texter .bubble", has_text="hello")).to_be_visible()
    expect(page.locator(".msg-bot .bubble", has_text="echo: hello")).to_be_visible()
    expect(page.locator("#body")).to_have_value("")

    pixel: FilePayload = {"name": "pixel.png", "mimeType": "image/png", "buffer": tiny_png(1, 1)}
    page.set_input_files("#file", files=[pixel])
    expect(page.locator("#attachment")).to_contain_text("pixel.png")
    page.click("button.send")
    image = page.locator(".msg-texter img")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('.msg-texter img').naturalWidth === 1")
    assert page.evaluate("window.notReloaded") is True


def test_after_a_restart_the_thread_still_shows_replies_and_photos(
    sqlite_url: str,
    page: Page,  # noqa: F811
) -> None:
    """Restart the server: the page reloads with the bot's replies and the photo intact."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _seed(sqlite_url)).result()
    sock = bind_free_port()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = sandbox_settings(url, sqlite_url, TEXTDESK_SECRET_KEY=SECRET_KEY)
    with serve_app(create_app(settings, converser=EchoConverser()), sock=sock, lifespan="on"):
        page.goto(f"{url}/simulator?phone=%2B{TEXTER[1:]}&number=%2B{NUMBER[1:]}")
        pixel: FilePayload = {
            "name": "pixel.png",
            "mimeType": "image/png",
            "buffer": tiny_png(1, 1),
        }
        page.set_input_files("#file", files=[pixel])
        page.fill("#body", "before the restart")
        page.click("button.send")
        expect(
            page.locator(".msg-bot .bubble", has_text="echo: before the restart")
        ).to_be_visible()
    again = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.bind(("127.0.0.1", port))  # the same address: the page and its links stay valid
    with serve_app(create_app(settings, converser=EchoConverser()), sock=again, lifespan="on"):
        page.reload()
        expect(
            page.locator(".msg-bot .bubble", has_text="echo: before the restart")
        ).to_be_visible()
        page.wait_for_function("document.querySelector('.msg-texter img').naturalWidth === 1")
