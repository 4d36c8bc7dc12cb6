"""An agent's browser, as the Workspace tests see it: cookies, CSRF token, live events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import agents as agent_store
from textdesk.bootstrap import admin_use_cases

PASSWORD = "a-long-password"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    """The CSRF token a page carries in its forms."""
    found = _TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def new_agent(
    db: AsyncEngine,
    name: str,
    *,
    role: str = "agent",
    queues: Sequence[str] = (),
    available: bool = True,
) -> int:
    agent_id = await admin_use_cases(db, SystemClock()).agents.add_agent(
        name=name,
        email=f"{name.split(maxsplit=1)[0].lower()}@example.com",
        password=PASSWORD,
        role=role,
        queues=list(queues),
    )
    if available:
        await admin_use_cases(db).agents.set_presence(agent_id=agent_id, presence="available")
        await at_desk(db, agent_id)
    return agent_id


async def at_desk(db: AsyncEngine, agent_id: int) -> None:
    """Record the agent as connected now, as an open Workspace tab's heartbeat does.

    For tests about something else: an available agent is offered chats only while
    connected (tests/integration/live_agents/test_presence.py opens real streams instead).
    """
    async with db.begin() as conn:
        await agent_store.mark_seen(conn, [agent_id], SystemClock().now())


class Events:
    """An open ``/workspace/events`` stream, read in the background."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.received: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        lines = self.response.aiter_lines()
        # The first comment arrives once the server has subscribed: nothing after it is missed.
        async for line in lines:
            if line.startswith(": connected"):
                break
        self._task = asyncio.create_task(self._read(lines))

    async def _read(self, lines: AsyncIterator[str]) -> None:
        async for line in lines:
            if line.startswith("data: "):
                self.received.append(json.loads(line[6:]))

    def about(self, conversation_id: int) -> list[dict[str, Any]]:
        return [e for e in self.received if e.get("conversation_id") == conversation_id]

    async def wait_for(
        self, check: Callable[[dict[str, Any]], bool], *, within: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            for event in self.received:
                if check(event):
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching event; received {self.received}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class AgentBrowser:
    """One agent's browser: a cookie jar, the page's CSRF token, htmx-style requests."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=10)
        self.csrf = ""

    async def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        form = await self.http.get("/workspace/login")
        answer = await self.http.post(
            "/workspace/login",
            data={"email": email, "password": password, "csrf_token": csrf_in(form.text)},
        )
        if answer.status_code == 303:
            # The token changes at sign-in; the page after it carries the new one.
            self.csrf = csrf_in((await self.http.get("/workspace")).text)
        return answer

    async def act(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        """A POST as htmx sends it: the token in the ``X-CSRF-Token`` header."""
        headers = {"HX-Request": "true"}
        sent = self.csrf if token is None else token
        if sent:
            headers["X-CSRF-Token"] = sent
        return await self.http.post(path, data=data or {}, files=files, headers=headers)

    @contextlib.asynccontextmanager
    async def events(self) -> AsyncIterator[Events]:
        async with self.http.stream("GET", "/workspace/events", timeout=None) as response:
            assert response.status_code == 200, response.status_code
            stream = Events(response)
            await stream.start()
            try:
                yield stream
            finally:
                await stream.stop()

    async def close(self) -> None:
        await self.http.aclose()


@contextlib.asynccontextmanager
async def signed_in(base_url: str, *names: str) -> AsyncIterator[dict[str, AgentBrowser]]:
    """A browser for each of ``names`` (``name@example.com``), signed in; closed after."""
    browsers: dict[str, AgentBrowser] = {}
    try:
        for name in names:
            browsers[name] = AgentBrowser(base_url)
            assert (await browsers[name].sign_in(f"{name}@example.com")).status_code == 303
        yield browsers
    finally:
        for browser in browsers.values():
            await browser.close()
