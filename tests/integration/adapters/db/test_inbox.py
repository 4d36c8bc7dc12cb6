"""The inbox's waiting rows: one process at a time calls a waiting turn's remote store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.adapters.db import inbox
from textdesk.adapters.db.database import create_engine
from textdesk.domain.twilio_forms import InboundSms

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
WAIT = {"effect": "GetRecord", "args": {"number": "INC0010001"}, "number": 1}


async def test_a_waiting_row_is_claimed_by_one_process_until_its_claim_runs_out(
    database_url: str,
) -> None:
    db = create_engine(database_url)
    try:
        async with db.begin() as conn:
            sms = InboundSms("SM" + "c" * 32, "+15551230001", "+15550100100", "x", (), {})
            [row] = await inbox.store(conn, [(sms, NOW)])
            assert row is not None
            await inbox.set_awaiting(conn, {row.id: WAIT})
        until = NOW + timedelta(seconds=60)
        async with db.begin() as conn:
            assert await inbox.claim_awaiting(conn, row.id, now=NOW, until=until)
        async with db.begin() as conn:  # another process, a second later
            later = NOW + timedelta(seconds=1)
            assert not await inbox.claim_awaiting(conn, row.id, now=later, until=until)
        async with db.begin() as conn:  # the first died: its claim runs out
            again = until + timedelta(seconds=60)
            assert await inbox.claim_awaiting(conn, row.id, now=until, until=again)
        async with db.begin() as conn:
            await inbox.set_awaiting(conn, {row.id: WAIT})  # tried again later: unclaimed
            assert await inbox.claim_awaiting(conn, row.id, now=NOW, until=until)
            await inbox.mark_processed(conn, [row.id], NOW)
        async with db.begin() as conn:  # done: nothing left to call
            assert not await inbox.claim_awaiting(conn, row.id, now=NOW, until=until)
    finally:
        await db.dispose()
