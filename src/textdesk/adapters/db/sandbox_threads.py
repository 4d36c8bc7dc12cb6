"""One phone's texts with the desk, as stored: what it sent and what it was sent.

The phone simulator draws its thread from here, so it shows the same thing after a
restart and from any of several processes: the inbox holds every text the phone
sent (with its photos' media keys once fetched), the outbox every text sent to it
(with status, segments and errors as callbacks moved them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import inbox, outbox


@dataclass(frozen=True)
class Received:
    """A text the phone sent us; ``media`` items carry ``key`` once stored."""

    message_sid: str
    body: str
    media: list[dict[str, Any]]
    at: datetime


@dataclass(frozen=True)
class Sent:
    """A text we sent the phone (or tried to: ``twilio_sid`` is None until accepted)."""

    id: int
    twilio_sid: str | None
    from_phone: str
    body: str
    media: list[str]
    status: str
    encoding: str
    segments: int
    error_code: int | None
    at: datetime


async def received_from(
    conn: AsyncConnection, *, phone: str, number: str, limit: int
) -> list[Received]:
    """The newest ``limit`` texts ``phone`` sent to ``number``, oldest first."""
    rows = await conn.execute(
        select(inbox.c.message_sid, inbox.c.body, inbox.c.media, inbox.c.received_at)
        .where(inbox.c.from_phone == phone, inbox.c.to_phone == number)
        .order_by(inbox.c.id.desc())
        .limit(limit)
    )
    found = [Received(r.message_sid, r.body, list(r.media or []), r.received_at) for r in rows]
    return found[::-1]


def _sent_query() -> Any:
    return select(
        outbox.c.id,
        outbox.c.twilio_sid,
        outbox.c.from_phone,
        outbox.c.body,
        outbox.c.media,
        outbox.c.status,
        outbox.c.encoding,
        outbox.c.segments,
        outbox.c.error_code,
        outbox.c.created_at,
    )


def _sent(r: Any) -> Sent:
    return Sent(
        r.id,
        r.twilio_sid,
        r.from_phone,
        r.body,
        list(r.media or []),
        r.status,
        r.encoding,
        r.segments,
        r.error_code,
        r.created_at,
    )


async def sent_to(conn: AsyncConnection, *, phone: str, limit: int) -> list[Sent]:
    """The newest ``limit`` texts to ``phone`` from any of our numbers, oldest first."""
    rows = await conn.execute(
        _sent_query().where(outbox.c.to_phone == phone).order_by(outbox.c.id.desc()).limit(limit)
    )
    return [_sent(r) for r in rows][::-1]


async def delivered_to(conn: AsyncConnection, *, phone: str, after: int, limit: int) -> list[Sent]:
    """Texts to ``phone`` that Twilio accepted, with ids above ``after``, oldest first.

    A usable cursor: texts to one phone are sent in id order (the dispatcher sends
    only a recipient's oldest unsent text), so nothing accepted later has a lower id.
    """
    rows = await conn.execute(
        _sent_query()
        .where(outbox.c.to_phone == phone, outbox.c.id > after, outbox.c.twilio_sid.is_not(None))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [_sent(r) for r in rows]


async def last_delivered_id(conn: AsyncConnection, *, phone: str) -> int:
    """The cursor for "from now on": the highest id Twilio accepted for ``phone``.

    Not the highest id of all: a text still waiting to be sent has a higher id and
    must be seen once it goes.
    """
    found = await conn.execute(
        select(func.max(outbox.c.id)).where(
            outbox.c.to_phone == phone, outbox.c.twilio_sid.is_not(None)
        )
    )
    return int(found.scalar() or 0)


async def media_of(conn: AsyncConnection, message_sid: str) -> list[dict[str, Any]] | None:
    """The media items of one inbound text, or None when there is no such text."""
    found = await conn.execute(select(inbox.c.media).where(inbox.c.message_sid == message_sid))
    row = found.first()
    return None if row is None else list(row.media or [])
