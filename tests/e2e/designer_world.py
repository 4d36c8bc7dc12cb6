"""The world of the topic designer's browser tests: `make run`'s demo desk, an admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.e2e.workspace_world import run_async
from tests.integration.sandbox_helpers import sandbox_settings
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.admin.demo import DEMO_PASSWORD
from textdesk.bootstrap import admin_use_cases
from textdesk.web.app import create_app

ADMIN_EMAIL = "sam@example.com"  # Sam Admin, a demo sign-in


async def _seed(database_url: str) -> None:
    db = create_engine(database_url)
    try:
        await admin_use_cases(db, SystemClock()).demo.seed()
    finally:
        await db.dispose()


@pytest.fixture
def demo_url(sqlite_url: str) -> Iterator[str]:
    """`make run`'s desk: the demo seeded (topics published), the real virtual agent,
    the phone simulator in front of the Twilio sandbox."""
    run_async(_seed(sqlite_url))
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with serve_app(create_app(sandbox_settings(url, sqlite_url)), sock=sock, lifespan="on"):
        yield url


def sign_in_as_admin(page: Page, url: str) -> None:
    """Sign in as Sam, a demo admin, and land on the designer's list of topics."""
    page.goto(f"{url}/workspace/login?next=/workspace/topics")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/workspace/topics")
