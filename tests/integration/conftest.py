"""A running textdesk (real uvicorn on loopback) wired to the Twilio stand-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import Container, admin_use_cases
from textdesk.channel.answering import ConverseOutcome, Converser, TextInContext
from textdesk.config import DEMO_TOPICS_DIR, Settings
from textdesk.domain.agent.messages import Reply
from textdesk.ports import Clock, RecordStore
from textdesk.web.app import create_app

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
# Strong enough to be accepted: 32+ characters, 16+ different ones.
SECRET_KEY = "test-secret-Kq7vN2xLmP9wR4tY8bZ3cF6hJ1dG5sA0"
METRICS_TOKEN = "test-metrics-token-Qw3rTy7uIoP9aSdF"
NUMBER = "+15550100100"
TEXTER = "+15551230001"


class EchoConverser:
    """A stand-in for the virtual agent: replies ``echo: <body>`` (``x3`` → three replies)."""

    async def converse(
        self, turn: TextInContext, state: dict[str, Any] | None, mode: str
    ) -> ConverseOutcome:
        body = turn.text.body
        count = 3 if body.endswith("x3") else 1
        replies = [
            Reply(f"echo {i + 1}: {body}" if count > 1 else f"echo: {body}") for i in range(count)
        ]
        return ConverseOutcome(
            state={"seen": (state or {}).get("seen", 0) + 1}, mode=mode, replies=replies
        )


@dataclass
class Desk:
    """A running textdesk and the phone network around it."""

    url: str
    settings: Settings
    fake: FakeTwilio
    app: FastAPI
    db: AsyncEngine
    number: str = NUMBER
    responses: list[httpx.Response] = field(default_factory=list)

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    async def text(
        self,
        body: str = "",
        *,
        from_: str = TEXTER,
        to: str | None = None,
        media: Sequence[tuple[bytes, str]] = (),
        sid: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A texter's phone sends a text to our number (signed, like Twilio; ``extra`` fields)."""
        return await self.fake.send_inbound(
            webhook_url=f"{self.url}/twilio/sms",
            from_=from_,
            to=to or self.number,
            body=body,
            media=media,
            message_sid=sid,
            extra=extra,
        )

    async def metrics(self) -> str:
        """Scrape /metrics as Prometheus does, with the bearer token."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            answer = await client.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
        assert answer.status_code == 200, answer.text
        return answer.text

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.db.connect() as conn:
            return list(await conn.execute(text(sql), params))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.db.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def eventually(
        self, check: Callable[[], Awaitable[Any]], *, within: float = 10.0, what: str = ""
    ) -> Any:
        """Poll ``check`` until it returns something truthy."""
        deadline = time.monotonic() + within
        while True:
            value = await check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or check}")
            await asyncio.sleep(0.02)


def desk_settings(url: str, database_url: str, fake: FakeTwilio, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "TEXTDESK_DATABASE_URL": database_url,
        "TEXTDESK_PUBLIC_URL": url,
        "TEXTDESK_SECRET_KEY": SECRET_KEY,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_URL": fake.base_url,
        "TEXTDESK_MEDIA_ORIGINS": fake.base_url,
        "TEXTDESK_METRICS_TOKEN": METRICS_TOKEN,
        "TEXTDESK_SEND_RATE": 100,
        "TEXTDESK_RETRY_BASE_SECONDS": 0.05,
        "TEXTDESK_SEND_TIMEOUT": 1.0,
        # The packaged demo topics, imported into the test's database at start.
        "TEXTDESK_TOPICS_DIR": DEMO_TOPICS_DIR,
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).serve() as fake:
        yield fake


@pytest.fixture
def converser() -> Converser | None:
    return EchoConverser()


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    """Settings a test module wants on top of the defaults (override the fixture)."""
    return {}


@pytest.fixture
def remote_records() -> RecordStore | None:
    """A record store in another service for the virtual agent; None: the built-in one."""
    return None


@pytest.fixture
def desk_clock() -> Clock | None:
    """The desk's clock when a test moves time on (``AheadClock``); None: the system's."""
    return None


@pytest.fixture
async def desk(
    database_url: str,
    fake_twilio: FakeTwilio,
    converser: Converser | None,
    desk_extra_settings: dict[str, Any],
    remote_records: RecordStore | None,
    desk_clock: Clock | None,
) -> AsyncIterator[Desk]:
    db = create_engine(database_url)
    await admin_use_cases(db, SystemClock()).numbers.add(phone=NUMBER, purpose="conversational")
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = desk_settings(url, database_url, fake_twilio, **desk_extra_settings)
    app = create_app(settings, converser=converser, remote_records=remote_records, clock=desk_clock)
    # The server runs in its own thread and event loop; the test talks to it over HTTP.
    with serve_app(app, sock=sock, lifespan="on"):
        yield Desk(url=url, settings=settings, fake=fake_twilio, app=app, db=db)
    await db.dispose()


@asynccontextmanager
async def second_process(desk: Desk) -> AsyncIterator[Desk]:
    """Another textdesk process on the desk's database (and Redis, if it has one), at its
    own address, with the real virtual agent and its own background loops."""
    sock = bind_free_port()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    extra = {"TEXTDESK_REDIS_URL": desk.settings.redis_url} if desk.settings.redis_url else {}
    settings = desk_settings(url, desk.settings.database_url, desk.fake, **extra)
    app = create_app(settings, converser=None)
    with serve_app(app, sock=sock, lifespan="on"):
        yield Desk(url=url, settings=settings, fake=desk.fake, app=app, db=desk.db)
