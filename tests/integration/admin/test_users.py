"""Accounts: listing and removing them, and what removal takes with it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import run
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import conversations, records, subscriptions, tables
from textdesk.adapters.db.database import create_engine
from textdesk.admin import users
from textdesk.bootstrap import admin_use_cases

ALICE = "+15551230001"
NUMBER = "+15550100100"


async def _alice_with_history(database_url: str) -> int:
    db = create_engine(database_url)
    clock = SystemClock()
    try:
        user_id = await admin_use_cases(db, clock).accounts.add(name="Alice", phone=ALICE)
        async with db.begin() as conn:
            now = clock.now()
            await subscriptions.set_enabled(conn, [user_id], True, source="sms", now=now)
            await conversations.load_or_create(conn, [(ALICE, NUMBER)], {ALICE: user_id}, now)
            await records.create(
                conn, short_description="VPN", caller_id=user_id, caller_phone=None, now=now
            )
        return user_id
    finally:
        await db.dispose()


def test_removing_an_account_keeps_the_desks_records_and_forgets_the_person(
    database_url: str,
) -> None:
    """Subscription and its history go; conversations and records stay, by phone."""
    run(_alice_with_history(database_url))

    async def remove_and_look() -> None:
        db = create_engine(database_url)
        try:
            accounts = admin_use_cases(db).accounts
            alice = await accounts.find("(555) 123-0001")
            held = await accounts.footprint(alice)
            assert (held.subscribed, held.subscription_changes) == (True, 1)
            assert (held.conversations, held.records) == (1, 1)
            await accounts.remove(alice)
            assert await accounts.all() == []
            async with db.connect() as conn:
                assert not await subscriptions.is_enabled(conn, alice.id)
                assert await subscriptions.history(conn, alice.id) == []
                [record] = await records.list_records(conn)
                assert (record.caller_id, record.caller_phone) == (None, ALICE)
                kept = await conn.execute(select(tables.conversations.c.user_id))
                assert kept.scalars().all() == [None]
            with pytest.raises(users.NoSuchUser):
                await accounts.find(ALICE)
        finally:
            await db.dispose()

    run(remove_and_look())
