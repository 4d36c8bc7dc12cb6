"""The phone simulator and the terminal phone, against a real sandbox-mode server."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.conftest import NUMBER, SECRET_KEY, TEXTER, EchoConverser
from tests.integration.phone_helpers import tiny_png
from tests.integration.sandbox_helpers import sandbox_settings, seed_sandbox
from textdesk.adapters.db.tables import inbox
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.cli.chat import ChatError, chat
from textdesk.web.app import create_app


@dataclass
class Sim:
    url: str
    app: FastAPI
    db: AsyncEngine
    http: httpx.AsyncClient

    @property
    def sandbox(self) -> FakeTwilio:
        sandbox: FakeTwilio = self.app.state.sandbox
        return sandbox

    async def send(self, body: str = "", **kwargs: Any) -> httpx.Response:
        data = {"phone": TEXTER, "number": NUMBER, "body": body}
        return await self.http.post("/simulator/send", data=data, **kwargs)

    async def thread(self, phone: str = TEXTER) -> str:
        answer = await self.http.get("/simulator/thread", params={"phone": phone, "number": NUMBER})
        assert answer.status_code == 200
        return answer.text

    async def eventually(self, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        deadline = time.monotonic() + 10
        while not (value := await check()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)
        return value


@pytest.fixture
async def sim(sqlite_url: str) -> AsyncIterator[Sim]:
    db = await seed_sandbox(sqlite_url)
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(sandbox_settings(url, sqlite_url), converser=EchoConverser())
    with serve_app(app, sock=sock, lifespan="on"):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            yield Sim(url, app, db, http)
    await db.dispose()


async def test_page_lists_accounts_and_numbers(sim: Sim) -> None:
    """The page offers each account by name and number, a new guest, and our number."""
    page = await sim.http.get("/simulator")
    assert page.status_code == 200
    assert "Alice Example · +15551230001" in page.text
    assert re.search(r"New guest · \+155502\d{5}", page.text)
    assert f'<option value="{NUMBER}" selected>' in page.text
    assert "/static/vendor/htmx.org/htmx.min.js" in page.text
    assert (await sim.http.get("/static/vendor/htmx.org/htmx.min.js")).status_code == 200


async def test_send_shows_echo_reply_in_thread(sim: Sim) -> None:
    """A text sent from the page reaches the bot, and its reply shows in the thread."""
    sent = await sim.send("hello\nthere")
    assert sent.status_code == 200
    assert "hello\nthere" in sent.text  # the texter's own text, line break kept

    async def replied() -> bool:
        return "echo: hello\nthere" in await sim.thread()

    await sim.eventually(replied, "the echo reply")
    thread = await sim.thread()
    assert thread.index("msg-texter") < thread.index("msg-bot")
    assert re.search(r'class="status status-(queued|sent|delivered)"', thread)


async def test_unchanged_thread_answers_204(sim: Sim) -> None:
    """Polling with the current version gets 204, so the page does not redraw."""
    html = await sim.thread()
    version = re.search(r'name="version" value="([0-9a-f]+)"', html)
    assert version is not None
    again = await sim.http.get(
        "/simulator/thread",
        params={"phone": TEXTER, "number": NUMBER, "version": version.group(1)},
    )
    assert again.status_code == 204


async def test_image_upload_arrives_as_media(sim: Sim) -> None:
    """An attached image reaches textdesk as MMS media and shows inline in the thread."""
    png = tiny_png(1, 1)
    sent = await sim.send(files={"file": ("pixel.png", png, "image/png")})
    assert sent.status_code == 200

    async with sim.db.connect() as conn:
        media = (
            await conn.execute(select(inbox.c.media).where(inbox.c.from_phone == TEXTER))
        ).one()[0]
    assert [m["content_type"] for m in media] == ["image/png"]
    src = re.search(r'<img src="(/simulator/media/MM[0-9a-f]+/0)"', sent.text)
    assert src is not None
    image = await sim.http.get(src.group(1))
    assert image.content == png
    assert image.headers["content-type"] == "image/png"


async def test_non_image_is_served_as_download_and_refused(sim: Sim) -> None:
    """A PDF goes through, textdesk refuses it, and the page never renders it inline."""
    pdf = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF"
    sent = await sim.send("my form", files={"file": ("form.pdf", pdf, "application/pdf")})
    assert sent.status_code == 200

    async def refused() -> bool:
        return "Not kept: it is not a photo (only JPEG" in await sim.thread()

    await sim.eventually(refused, "the refusal note")
    assert "not_image" not in await sim.thread()  # words, not the code
    link = re.search(r'class="file" href="(/simulator/media/MM[0-9a-f]+/0)"', await sim.thread())
    assert link is not None
    download = await sim.http.get(link.group(1))
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment"


async def test_cross_site_post_is_refused(sim: Sim) -> None:
    """A form posted from another site is refused before anything is sent."""
    evil = await sim.send("hi", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    fetched = await sim.send("hi", headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    async with sim.db.connect() as conn:
        assert (await conn.execute(select(inbox.c.id))).first() is None


async def test_same_origin_post_is_accepted(sim: Sim) -> None:
    """The page's own POST (Origin is this server) goes through."""
    sent = await sim.send("hi", headers={"Origin": sim.url, "Sec-Fetch-Site": "same-origin"})
    assert sent.status_code == 200


async def test_empty_text_is_rejected(sim: Sim) -> None:
    """Nothing to send (no text, no file) is a 400, not an empty SMS."""
    assert (await sim.send("   ")).status_code == 400


async def test_messages_json_pages_with_a_cursor(sim: Sim) -> None:
    """messages.json lists outbound texts after a cursor and says where to resume."""
    await sim.send("ping", headers={"Accept": "application/json"})

    async def first_page() -> dict[str, Any] | None:
        answer = await sim.http.get("/simulator/messages.json", params={"phone": TEXTER})
        payload: dict[str, Any] = answer.json()
        return payload if payload["messages"] else None

    payload = await sim.eventually(first_page, "the reply in messages.json")
    assert payload["messages"][0]["body"] == "echo: ping"
    assert payload["numbers"] == [NUMBER]
    later = await sim.http.get(
        "/simulator/messages.json", params={"phone": TEXTER, "after": payload["next"]}
    )
    assert later.json()["messages"] == []


async def test_terminal_phone_prints_replies(sim: Sim) -> None:
    """`textdesk chat` sends each piped line and prints the bot's replies."""
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    lines = io.StringIO("hello\nagain x3\n/quit\nnot sent\n")
    await chat(
        url=sim.url, phone=TEXTER, number=None, lines=lines, console=console, wait=True, quiet=1.0
    )
    text = out.getvalue()
    assert "you › hello" in text
    assert "bot › echo: hello" in text
    assert "bot › echo 3: again x3" in text
    assert text.index("bot › echo: hello") < text.index("you › again x3")
    assert "not sent" not in text


async def test_terminal_phone_explains_a_missing_simulator() -> None:
    """Pointed at a server that is not a sandbox textdesk, chat says so."""
    app = FastAPI()
    with serve_app(app) as url, pytest.raises(ChatError, match="no phone simulator"):
        await chat(
            url=url,
            phone=TEXTER,
            number=None,
            lines=io.StringIO(""),
            console=Console(file=io.StringIO()),
            wait=True,
        )


async def test_simulator_is_404_with_real_twilio(sqlite_url: str) -> None:
    """With Twilio credentials set there is no simulator at all."""
    db = await seed_sandbox(sqlite_url)
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = sandbox_settings(
        url,
        sqlite_url,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="real-looking-token",
        TEXTDESK_SECRET_KEY=SECRET_KEY,
    )
    app = create_app(settings, converser=EchoConverser())
    with serve_app(app, sock=sock, lifespan="on"):
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/simulator")).status_code == 404
            assert (
                await http.get("/simulator/messages.json", params={"phone": TEXTER})
            ).status_code == 404
            posted = await http.post(
                "/simulator/send", data={"phone": TEXTER, "number": NUMBER, "body": "hi"}
            )
            assert posted.status_code == 404
    await db.dispose()


async def test_no_sandbox_or_simulator_outside_demo_mode(sqlite_url: str) -> None:
    """No Twilio and TEXTDESK_DEMO=0: nobody can text as any phone or read the replies."""
    db = await seed_sandbox(sqlite_url)
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = sandbox_settings(url, sqlite_url, TEXTDESK_DEMO=False)
    app = create_app(settings, converser=EchoConverser())
    messages = f"/sandbox/twilio/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
    with serve_app(app, sock=sock, lifespan="on"):
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/simulator")).status_code == 404
            posted = await http.post(
                "/simulator/send",
                data={"phone": TEXTER, "number": NUMBER, "body": "hi"},
                headers={"Origin": url},
            )
            assert posted.status_code == 404
            read = await http.get("/simulator/messages.json", params={"phone": TEXTER})
            assert read.status_code == 404
            sent = await http.post(
                messages,
                data={"To": TEXTER, "From": NUMBER, "Body": "x"},
                auth=(settings.account_sid, settings.auth_token),
            )
            assert sent.status_code == 404
            assert (await http.get("/healthz")).status_code == 200
    async with db.connect() as conn:
        assert (await conn.execute(select(inbox))).all() == []
    await db.dispose()
