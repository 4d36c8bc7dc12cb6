"""The world of the Workspace's browser tests: a seeded desk and the texter's phone."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tests.integration.conftest import NUMBER, TEXTER
from tests.integration.workspace_helpers import new_agent
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import records as record_store
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.twilio.sandbox import FakeTwilio, SentMessage
from textdesk.bootstrap import admin_use_cases


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to its end from a browser test."""
    # In a thread of its own: Playwright's sync API keeps an event loop running here.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def seed_desk(database_url: str) -> str:
    """The desk's number, Alice's account, Dana (an agent) and one incident; its number."""
    db = create_engine(database_url)
    try:
        clock = SystemClock()
        await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
        await admin_use_cases(db, clock).accounts.add(name="Alice Example", phone=TEXTER)
        await new_agent(db, "Dana Agent")
        async with db.begin() as conn:
            record = await record_store.create(
                conn,
                short_description="VPN drops hourly",
                caller_id=None,
                caller_phone=TEXTER,
                now=clock.now(),
            )
        return str(record.number)
    finally:
        await db.dispose()


@dataclass
class World:
    """A running textdesk, the Twilio stand-in it sends through, and the seeded incident."""

    url: str
    fake: FakeTwilio
    record: str

    def text(self, body: str) -> None:
        """The texter's phone sends a text (a signed webhook, as Twilio posts it)."""
        answer = run_async(
            self.fake.send_inbound(
                webhook_url=f"{self.url}/twilio/sms", from_=TEXTER, to=NUMBER, body=body
            )
        )
        assert answer.status_code == 200

    def received(self, count: int) -> list[SentMessage]:
        return self.fake.wait_for_messages_sync(count, to=TEXTER)
