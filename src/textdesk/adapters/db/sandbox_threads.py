"""One phone's texts with the desk, as stored: what it sent and what it was sent.

The phone simulator draws its thread from here, so it shows the same thing after a
restart and from any of several processes: the inbox holds every text the phone
sent (with its photos' media keys once fetched), the outbox every text sent to it
(with status, segments and errors as callbacks moved them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db.admin import SqlNumbers, SqlReadingUnitOfWork, SqlUsers
from textdesk.adapters.db.media import SqlImages
from textdesk.adapters.db.tables import inbox, outbox
from textdesk.ports import ReceivedText, SentText


async def received_from(
    conn: AsyncConnection, *, phone: str, number: str, limit: int
) -> list[ReceivedText]:
    """The newest ``limit`` texts ``phone`` sent to ``number``, oldest first."""
    rows = await conn.execute(
        select(inbox.c.message_sid, inbox.c.body, inbox.c.media, inbox.c.received_at)
        .where(inbox.c.from_phone == phone, inbox.c.to_phone == number)
        .order_by(inbox.c.id.desc())
        .limit(limit)
    )
    found = [ReceivedText(r.message_sid, r.body, list(r.media or []), r.received_at) for r in rows]
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


def _sent(r: Any) -> SentText:
    return SentText(
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


async def sent_to(conn: AsyncConnection, *, phone: str, limit: int) -> list[SentText]:
    """The newest ``limit`` texts to ``phone`` from any of our numbers, oldest first."""
    rows = await conn.execute(
        _sent_query().where(outbox.c.to_phone == phone).order_by(outbox.c.id.desc()).limit(limit)
    )
    return [_sent(r) for r in rows][::-1]


async def delivered_to(
    conn: AsyncConnection, *, phone: str, after: int, limit: int
) -> list[SentText]:
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


class SqlPhoneThreads:
    """``ports.PhoneThreads`` (the functions above) on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def received_from(self, *, phone: str, number: str, limit: int) -> list[ReceivedText]:
        return await received_from(self._conn, phone=phone, number=number, limit=limit)

    async def sent_to(self, *, phone: str, limit: int) -> list[SentText]:
        return await sent_to(self._conn, phone=phone, limit=limit)

    async def delivered_to(self, *, phone: str, after: int, limit: int) -> list[SentText]:
        return await delivered_to(self._conn, phone=phone, after=after, limit=limit)

    async def last_delivered_id(self, *, phone: str) -> int:
        return await last_delivered_id(self._conn, phone=phone)

    async def media_of(self, message_sid: str) -> list[dict[str, Any]] | None:
        return await media_of(self._conn, message_sid)


class SqlSimulatorRepositories:
    """``ports.SimulatorRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.threads = SqlPhoneThreads(conn)
        self.numbers = SqlNumbers(conn)
        self.users = SqlUsers(conn)
        self.images = SqlImages(conn)


def simulator_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlSimulatorRepositories]:
    """The phone simulator's unit of work (it only reads)."""
    return SqlReadingUnitOfWork(db, SqlSimulatorRepositories)
