"""A record store in another service is called with no transaction open.

The store here is in memory but says it is remote, and can be held (a slow
instance) or answer too late (a timeout after it did the work), as a ServiceNow
instance can.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.answering_repositories import SqlAnsweredConversations
from textdesk.adapters.db.tables import inbox
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.domain.records import NewRecord, Record, new_record
from textdesk.topic_tools.script_world import MemoryRecords

GUEST = "+15557654321"


class RemoteRecords(MemoryRecords):
    """Records on "another service": held while ``open`` is clear; remembers create keys."""

    remote = True

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.open.set()
        self.asked = threading.Event()
        self.create_keys: list[str | None] = []
        self.late_answers = 0  # creates that do the work, then fail like a timeout
        self._by_key: dict[str, Record] = {}

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        self.asked.set()
        # The app's server runs in its own thread and loop: wait off that loop.
        await asyncio.to_thread(self.open.wait, 30)
        return await super().open_records_of(user_id=user_id, phone=phone, limit=limit)

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        self.create_keys.append(record.key)
        found = self._by_key.get(record.key) if record.key else None
        if found is None:  # as ServiceNow finds an earlier create by its correlation_id
            found = await super().create(record, now=now)
            if record.key:
                self._by_key[record.key] = found
        if self.late_answers:
            self.late_answers -= 1
            raise TimeoutError("the instance answered after we stopped waiting")
        return found


@pytest.fixture
def converser() -> Converser | None:
    return None  # the real virtual agent on the demo topics


@pytest.fixture
def remote_records() -> RemoteRecords:
    return RemoteRecords()


async def test_a_slow_record_system_holds_neither_the_webhook_nor_other_texters(
    desk: Desk, remote_records: RemoteRecords
) -> None:
    """'My incidents' while the instance is slow: 200 at once, others answered, list later."""
    alice = await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )
    remote_records.add(
        new_record(short_description="VPN drops", caller_id=alice, caller_phone=TEXTER),
        now=datetime.now(UTC),
    )
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    remote_records.open.clear()
    try:
        answered = await desk.text("my incidents")
        assert answered.status_code == 200  # stored; the instance has not answered yet
        await asyncio.to_thread(remote_records.asked.wait, 10)
        # While the look-up waits, the database takes other writes: a guest is greeted.
        assert (await desk.text("hi", from_=GUEST)).status_code == 200
        greeting = await desk.fake.wait_for_messages(1, to=GUEST)
        assert "1. Report an issue" in greeting[0].body
        assert await desk.scalar("SELECT count(*) FROM outbox WHERE to_phone = :p", p=TEXTER) == 1
    finally:
        remote_records.open.set()
    replies = await desk.fake.wait_for_messages(2, to=TEXTER)
    assert "Which incident?" in replies[-1].body
    assert "INC0010001 VPN drops" in replies[-1].body
    assert await desk.scalar("SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0


async def test_a_create_the_instance_answered_too_late_is_not_made_twice(
    desk: Desk, remote_records: RemoteRecords
) -> None:
    """The first create times out after the instance made it: retried with the same key."""
    await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice Example", phone=TEXTER)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("report an issue")
    await phone.say("The printer on floor 2 is jammed")
    await phone.say("printer")
    assert "YES or NO" in await phone.say("skip")
    remote_records.late_answers = 1
    card = await phone.say("yes")
    assert "INC0010001" in card
    assert len(remote_records.records) == 1
    assert len(remote_records.create_keys) == 2
    assert remote_records.create_keys[0] == remote_records.create_keys[1]
    assert remote_records.create_keys[0] is not None
    # The texter heard about it once: no text of the conversation went out twice.
    sent = [m.body for m in desk.fake.messages if m.to == TEXTER]
    assert len(sent) == len(set(sent)), sent


async def test_a_wait_saved_by_another_version_does_not_hold_up_the_loop(
    desk: Desk, remote_records: RemoteRecords
) -> None:
    """An effect this version cannot read: the texter hears the store is down; others go on."""
    await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice Example", phone=TEXTER)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    remote_records.open.clear()  # the look-up is held until the wait is rewritten
    try:
        assert (await desk.text("my incidents")).status_code == 200
        await desk.eventually(
            lambda: desk.scalar("SELECT count(*) FROM inbox WHERE awaiting IS NOT NULL"),
            what="the turn to wait on the look-up",
        )
        async with desk.db.begin() as conn:
            await conn.execute(
                update(inbox)
                .where(inbox.c.awaiting.is_not(None))
                .values(
                    awaiting={"effect": "LookUpTheFuture", "args": {}, "number": 1},
                    awaiting_claimed_until=None,
                )
            )
    finally:
        remote_records.open.set()
    replies = await desk.fake.wait_for_messages(2, to=TEXTER, timeout=30)
    assert "record system isn't answering" in replies[-1].body
    assert await desk.scalar("SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0


async def test_an_answer_that_came_while_the_conversation_was_locked_is_asked_again_soon(
    desk: Desk, remote_records: RemoteRecords
) -> None:
    """The look-up answered, but another transaction held the conversation: its result
    cannot be used, so the call is freed to be made again at once, not a minute later."""
    if desk.db.dialect.name != "postgresql":
        pytest.skip("SQLite's one writer serialises transactions: no lock to find taken")
    alice = await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )
    remote_records.add(
        new_record(short_description="VPN drops", caller_id=alice, caller_phone=TEXTER),
        now=datetime.now(UTC),
    )
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    remote_records.open.clear()
    await desk.text("my incidents")
    await asyncio.to_thread(remote_records.asked.wait, 10)

    async def claim_given_up() -> bool:
        claimed = await desk.scalar(
            "SELECT count(*) FROM inbox WHERE awaiting IS NOT NULL "
            "AND awaiting_claimed_until IS NULL"
        )
        return bool(claimed)

    # Someone else's transaction holds the conversation when the answer comes in.
    async with desk.db.begin() as conn:
        assert await SqlAnsweredConversations(conn).try_lock([(TEXTER, desk.number)])
        remote_records.open.set()
        await desk.eventually(claim_given_up, what="the unused call's claim to be freed")
    replies = await desk.fake.wait_for_messages(2, to=TEXTER)
    assert "INC0010001 VPN drops" in replies[-1].body
