"""Reconciliation: statuses whose callbacks were lost are fetched from Twilio."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, NUMBER, TEXTER, Desk
from textdesk.adapters.db import outbox as outbox_store
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.repositories import reconciling
from textdesk.adapters.twilio.rest import TwilioRestGateway
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.channel.reconcile import Reconciler
from textdesk.ports import StatusUpdate
from textdesk.testing.clock import FixedClock

AFTER = timedelta(minutes=10)


@dataclass
class Rig:
    db: AsyncEngine
    fake: FakeTwilio
    clock: FixedClock
    gateway: TwilioRestGateway
    reconciler: Reconciler

    async def sent(self, body: str, *, sid: str | None = None) -> tuple[int, str]:
        """An outbox row Twilio accepted (for real, on the fake, unless ``sid`` is made up)."""
        if sid is None:
            result = await self.gateway.send(
                to=TEXTER, from_=NUMBER, body=body, media_urls=[], status_callback=None
            )
            assert result.sid
            sid = result.sid
        now = self.clock.now()
        async with self.db.begin() as conn:
            [outbox_id] = await outbox_store.enqueue(
                conn, [outbox_store.NewMessage(TEXTER, NUMBER, body)], now
            )
            await outbox_store.mark_accepted(conn, [(outbox_id, sid, "queued", now)], now)
        return outbox_id, sid

    async def status(self, outbox_id: int) -> str:
        async with self.db.connect() as conn:
            found = await conn.execute(
                text("SELECT status FROM outbox WHERE id = :i"), {"i": outbox_id}
            )
            return str(found.scalar_one())

    async def delivered_on_twilio(self, sid: str) -> None:
        deadline = time.monotonic() + 10
        while (message := self.fake.get_message(sid)) is None or message.status != "delivered":
            assert time.monotonic() < deadline, "the stand-in never delivered it"
            await asyncio.sleep(0.01)


@pytest.fixture
async def rig(database_url: str, fake_twilio: FakeTwilio) -> AsyncIterator[Rig]:
    db = create_engine(database_url)
    clock = FixedClock()
    async with httpx.AsyncClient(timeout=5) as client:
        gateway = TwilioRestGateway(
            client, api_url=fake_twilio.base_url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
        )
        reconciler = Reconciler(
            uow=reconciling(db), gateway=gateway, clock=clock, after=AFTER, rate=50.0
        )
        yield Rig(db, fake_twilio, clock, gateway, reconciler)
    await db.dispose()


async def test_a_message_whose_callbacks_were_lost_is_asked_about_and_moves_on(rig: Rig) -> None:
    """Ten minutes without news: Twilio is asked, and the row reaches its final status."""
    outbox_id, sid = await rig.sent("hello")
    await rig.delivered_on_twilio(sid)
    assert await rig.reconciler.run_once() == 0  # not yet: callbacks may still come
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler.run_once() == 1
    assert await rig.status(outbox_id) == "delivered"
    assert rig.fake.fetches == [sid]


async def test_a_message_with_a_final_status_is_not_asked_about(rig: Rig) -> None:
    """Only messages still without a final status cost a lookup."""
    done_id, done_sid = await rig.sent("done")
    _, open_sid = await rig.sent("open")
    async with rig.db.begin() as conn:
        update = StatusUpdate(done_sid, "delivered", None, rig.clock.now())
        await outbox_store.apply_status_updates(conn, [update])
    rig.clock.advance(AFTER.total_seconds() * 10)
    await rig.reconciler.run_once()
    assert rig.fake.fetches == [open_sid]
    assert await rig.status(done_id) == "delivered"


async def test_a_lookup_twilio_cannot_answer_leaves_the_row_and_is_asked_later(rig: Rig) -> None:
    """A 404 or a 5xx changes nothing; the question is asked again later, not at once."""
    unknown_id, unknown_sid = await rig.sent("made up", sid="SM" + "0" * 32)
    outage_id, outage_sid = await rig.sent("during the outage")
    await rig.delivered_on_twilio(outage_sid)
    rig.fake.start_outage(3600)
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler.run_once() == 2
    assert await rig.status(unknown_id) == "queued"
    assert await rig.status(outage_id) == "queued"
    assert await rig.reconciler.run_once() == 0
    rig.fake.end_outage()
    rig.clock.advance(AFTER.total_seconds() * 2)
    assert await rig.reconciler.run_once() == 2
    assert await rig.status(outage_id) == "delivered"
    assert await rig.status(unknown_id) == "queued"
    assert sorted(rig.fake.fetches) == sorted([unknown_sid, outage_sid] * 2)


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    """Reconciliation after half a second, so the test need not wait ten minutes."""
    return {"TEXTDESK_RECONCILE_AFTER": 0.5}


async def test_a_reply_reaches_delivered_when_every_callback_is_lost(desk: Desk) -> None:
    """With Twilio's callbacks lost (a dead process's), the reply still ends delivered."""
    desk.fake.callbacks_lost = True
    await desk.text("hello")
    [sent] = await desk.fake.wait_for_messages(1)

    async def delivered() -> bool:
        status = await desk.scalar("SELECT status FROM outbox WHERE twilio_sid = :s", s=sent.sid)
        return bool(status == "delivered")

    await desk.eventually(delivered, within=15, what="the reply reconciled to delivered")
    assert desk.fake.callbacks == []
    assert sent.sid in desk.fake.fetches
