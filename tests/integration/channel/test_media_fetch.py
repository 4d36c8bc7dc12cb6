"""MediaUrls fetched only from allowed origins, with credentials only for Twilio's API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.conftest import NUMBER, TEXTER, Desk, EchoConverser
from tests.integration.media_helpers import Recorder
from tests.integration.phone_helpers import at_the_photo_question, tiny_png
from tests.integration.sandbox_helpers import sandbox_settings, seed_sandbox
from textdesk.adapters.db.tables import inbox
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.channel.answering import Converser
from textdesk.web.app import create_app


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent, whose file picker asks for a photo."""
    return None


@pytest.fixture
def cdn() -> Iterator[Recorder]:
    """Twilio's CDN stand-in: an allowed media origin, serving a photo."""
    with Recorder(tiny_png(), "image/png").serve() as recorder:
        yield recorder


@pytest.fixture
def intruder() -> Iterator[Recorder]:
    """Another port on the API's host (loopback): no request may ever reach it."""
    with Recorder(tiny_png(), "image/png").serve() as recorder:
        yield recorder


@pytest.fixture
def desk_extra_settings(fake_twilio: FakeTwilio, cdn: Recorder) -> dict[str, Any]:
    return {"TEXTDESK_MEDIA_ORIGINS": f"{fake_twilio.base_url},{cdn.url}"}


async def _media(desk: Desk) -> list[dict[str, Any]]:
    async with desk.db.connect() as conn:
        rows = (await conn.execute(select(inbox.c.media).order_by(inbox.c.id))).scalars().all()
    return [m for row in rows for m in row]


async def test_a_media_url_on_another_port_of_the_api_host_is_not_fetched(
    desk: Desk, intruder: Recorder
) -> None:
    """The API's host with another port gets no request and no credentials; the text is answered."""
    phone = await at_the_photo_question(desk)
    extra = {"NumMedia": "1", "MediaUrl0": f"{intruder.url}/x", "MediaContentType0": "image/png"}
    reply = await phone.say(extra=extra)
    assert intruder.seen == []
    assert "couldn't receive that image" in reply
    assert "Please send a photo" in reply
    assert [m.get("error") for m in await _media(desk)] == ["forbidden_origin"]


async def test_a_redirect_to_a_foreign_origin_is_not_followed(
    desk: Desk, intruder: Recorder
) -> None:
    """Twilio's redirect to an origin not allowed is refused: nothing reaches it."""
    desk.fake.media_cdn_url = intruder.url
    phone = await at_the_photo_question(desk)
    reply = await phone.say(media=[(tiny_png(), "image/png")])
    assert intruder.seen == []
    assert "Please send a photo" in reply
    assert [m.get("error") for m in await _media(desk)] == ["forbidden_origin"]


async def test_a_redirect_to_the_cdn_is_followed_without_credentials(
    desk: Desk, cdn: Recorder
) -> None:
    """The CDN (an allowed origin) serves the photo; the account's credentials stay home."""
    desk.fake.media_cdn_url = cdn.url
    phone = await at_the_photo_question(desk)
    assert "YES or NO" in await phone.say(media=[(tiny_png(), "image/png")])
    assert len(cdn.seen) == 1
    assert cdn.seen[0].authorization is None
    assert (await _media(desk))[0]["key"].startswith("att/")


async def test_the_sandbox_does_not_fetch_the_apps_own_pages(sqlite_url: str) -> None:
    """In sandbox mode ``…/sandbox/twilio/../../metrics`` is refused, and the text answered."""
    db = await seed_sandbox(sqlite_url)
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(sandbox_settings(url, sqlite_url), converser=EchoConverser())
    with serve_app(app, sock=sock, lifespan="on"):
        sandbox: FakeTwilio = app.state.sandbox
        sneaky = f"{sandbox.base_url}/../../metrics"
        for media_url in (sneaky, sneaky.replace("..", "%2e%2e"), url.replace("://", "://x@")):
            response = await sandbox.send_inbound(
                webhook_url=f"{url}/twilio/sms",
                from_=TEXTER,
                to=NUMBER,
                body="look",
                extra={"NumMedia": "1", "MediaUrl0": media_url, "MediaContentType0": "image/png"},
            )
            assert response.status_code == 200
        for _ in range(200):
            async with db.connect() as conn:
                rows = (await conn.execute(select(inbox.c.media, inbox.c.processed_at))).all()
            if len(rows) == 3 and all(r.processed_at for r in rows):
                break
            await asyncio.sleep(0.05)
        assert [r.media[0].get("error") for r in rows] == ["forbidden_origin"] * 3
        await sandbox.wait_for_messages(3, to=TEXTER)
    await db.dispose()
