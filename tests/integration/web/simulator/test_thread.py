"""The simulator's thread comes from the database: a restart or a second process sees it all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.integration.conftest import NUMBER, SECRET_KEY, TEXTER, EchoConverser
from tests.integration.phone_helpers import tiny_png
from tests.integration.sandbox_helpers import sandbox_settings, seed_sandbox
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.web.app import create_app


@contextmanager
def _sandbox_desk(database_url: str) -> Iterator[str]:
    """One sandbox-mode server process (its own sandbox memory) on ``database_url``."""
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = sandbox_settings(url, database_url, TEXTDESK_SECRET_KEY=SECRET_KEY)
    with serve_app(create_app(settings, converser=EchoConverser()), sock=sock, lifespan="on"):
        yield url


async def _until(check: object, what: str) -> None:
    deadline = time.monotonic() + 15
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_the_thread_survives_a_restart_and_reads_the_same_everywhere(
    database_url: str,
) -> None:
    """Bot replies and the texter's photo are still there after a restart, and a
    second process on the same database shows the same thread and cursor."""
    db = await seed_sandbox(database_url)
    params = {"phone": TEXTER, "number": NUMBER}
    with _sandbox_desk(database_url) as first:
        async with httpx.AsyncClient(base_url=first, timeout=10) as http:
            sent = await http.post(
                "/simulator/send",
                data={**params, "body": "hello"},
                files={"file": ("p.png", tiny_png(1, 1), "image/png")},
            )
            assert sent.status_code == 200

            async def replied() -> bool:
                listed = await http.get("/simulator/messages.json", params={"phone": TEXTER})
                return any(m["body"] == "echo: hello" for m in listed.json()["messages"])

            await _until(replied, "the echo reply")
    await db.dispose()

    with _sandbox_desk(database_url) as second, _sandbox_desk(database_url) as third:
        for url in (second, third):
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                thread = (await http.get("/simulator/thread", params=params)).text
                assert "echo: hello" in thread
                assert "hello" in thread
                photo = (await http.get(f"/simulator/media/{_sid(thread)}/0")).content
                assert photo == tiny_png(1, 1)
                listed = (
                    await http.get("/simulator/messages.json", params={"phone": TEXTER})
                ).json()
                assert [m["body"] for m in listed["messages"]] == ["echo: hello"]
                later = await http.get(
                    "/simulator/messages.json", params={"phone": TEXTER, "after": listed["next"]}
                )
                assert later.json()["messages"] == []


def _sid(thread: str) -> str:
    marker = 'class="msg msg-texter" data-sid="'
    start = thread.index(marker) + len(marker)
    return thread[start : thread.index('"', start)]
