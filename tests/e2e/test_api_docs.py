"""The REST API's Swagger UI in real Chromium, on a machine without internet."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.browser import page  # noqa: F401 - the fixture, shared by browser tests
from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, desk_settings
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_url(sqlite_url: str, fake_twilio: FakeTwilio) -> Iterator[str]:
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(desk_settings(url, sqlite_url, fake_twilio), background=False)
    with serve_app(app, sock=sock, lifespan="on"):
        yield url


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).serve() as fake:
        yield fake


def test_api_docs_render_with_no_internet(desk_url: str, page: Page) -> None:  # noqa: F811
    """/api/docs shows the API's operations when every off-machine request fails."""
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", offline)
    page.goto(f"{desk_url}/api/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/records").first).to_be_visible()
    assert elsewhere == []
