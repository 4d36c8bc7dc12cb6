"""Paused sender numbers, shared by every dispatcher (the rule is domain/sender_pauses.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.dialect import upsert
from textdesk.adapters.db.tables import outbox, sender_pauses
from textdesk.domain.sender_pauses import Pause


async def load(conn: AsyncConnection) -> dict[str, Pause]:
    """Every paused number (usually none)."""
    return {
        r.number: Pause(r.number, r.failing_since, r.paused_until, r.failures, r.last_error)
        for r in await conn.execute(select(sender_pauses))
    }


async def save(conn: AsyncConnection, pause: Pause, now: datetime) -> None:
    """Pause ``pause.number`` (or extend its pause)."""
    row = {
        "number": pause.number,
        "failing_since": pause.failing_since,
        "paused_until": pause.until,
        "failures": pause.failures,
        "last_error": pause.last_error,
        "updated_at": now,
    }
    columns = ["failing_since", "paused_until", "failures", "last_error", "updated_at"]
    await upsert(conn, sender_pauses, [row], ["number"], columns)


async def take_probe(
    conn: AsyncConnection, number: str, *, now: datetime, hold_until: datetime
) -> bool:
    """Claim the probe of a number whose pause is over; False if another process has it.

    The pause is stretched to ``hold_until`` (the send lease) meanwhile, so only one
    dispatcher probes, and a probe lost in a crash is taken again after the lease.
    """
    result = await conn.execute(
        update(sender_pauses)
        .where(sender_pauses.c.number == number, sender_pauses.c.paused_until <= now)
        .values(paused_until=hold_until, updated_at=now)
    )
    return bool(result.rowcount)


async def return_probe(conn: AsyncConnection, number: str, now: datetime) -> None:
    """A probe taken but not used (no text was due): the next claim may take it."""
    await conn.execute(
        update(sender_pauses)
        .where(sender_pauses.c.number == number)
        .values(paused_until=now, updated_at=now)
    )


async def resume(conn: AsyncConnection, number: str, now: datetime) -> bool:
    """Twilio answers again: lift the pause; the number's backed-off texts are due now.

    Returns whether a pause was lifted.  Texts waiting out their own backoff would
    otherwise sit for up to the backoff cap after Twilio came back.
    """
    result = await conn.execute(delete(sender_pauses).where(sender_pauses.c.number == number))
    if not result.rowcount:
        return False
    await conn.execute(
        update(outbox)
        .where(
            outbox.c.from_phone == number,
            outbox.c.status.in_(("pending", "in_doubt")),
            outbox.c.next_attempt_at > now,
        )
        .values(next_attempt_at=now, updated_at=now)
    )
    return True
