"""The inbox: every inbound webhook, durable before it is acknowledged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.dialect import insert_numbered
from textdesk.adapters.db.tables import inbox
from textdesk.domain.twilio_forms import InboundSms
from textdesk.ports import InboundRow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def store(
    conn: AsyncConnection, messages: Sequence[tuple[InboundSms, datetime]]
) -> list[InboundRow | None]:
    """Insert messages; a MessageSid seen before is skipped.  The new rows, else None."""
    sids = [m.message_sid for m, _ in messages]
    existing = set(
        (await conn.execute(select(inbox.c.message_sid).where(inbox.c.message_sid.in_(sids))))
        .scalars()
        .all()
    )
    fresh: list[dict[str, Any]] = []
    seen: set[str] = set(existing)
    for message, received_at in messages:
        if message.message_sid in seen:
            continue
        seen.add(message.message_sid)
        fresh.append(
            {
                "message_sid": message.message_sid,
                "from_phone": message.from_phone,
                "to_phone": message.to_phone,
                "body": message.body,
                "media": [{"url": m.url, "content_type": m.content_type} for m in message.media],
                "params": message.params,
                "raw_form": message.raw,
                "received_at": received_at,
            }
        )
    ids = await _insert(conn, fresh)
    rows = {
        r["message_sid"]: InboundRow(
            i,
            r["message_sid"],
            r["from_phone"],
            r["to_phone"],
            r["body"],
            r["media"],
            r["received_at"],
        )
        for r, i in zip(fresh, ids, strict=True)
        if i is not None
    }
    # A sid repeated within the batch is new once: the first of them.
    return [rows.pop(m.message_sid, None) for m, _ in messages]


async def _insert(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> list[int | None]:
    """Each row's new id; None where another process stored that sid meanwhile."""
    if conn.dialect.name != "postgresql":
        # SQLite has one writer at a time (BEGIN IMMEDIATE): the read above still holds.
        return list(await insert_numbered(conn, inbox, rows))
    if not rows:
        return []
    statement = (
        postgresql.insert(inbox)
        .on_conflict_do_nothing(index_elements=["message_sid"])
        .returning(inbox.c.id, inbox.c.message_sid)
    )
    ids = {sid: int(i) for i, sid in await conn.execute(statement, list(rows))}
    return [ids.get(r["message_sid"]) for r in rows]


def _row(r: Any) -> InboundRow:
    return InboundRow(
        id=r.id,
        message_sid=r.message_sid,
        from_phone=r.from_phone,
        to_phone=r.to_phone,
        body=r.body,
        media=list(r.media or []),
        received_at=r.received_at,
        awaiting=r.awaiting,
    )


_COLUMNS = (
    inbox.c.id,
    inbox.c.message_sid,
    inbox.c.from_phone,
    inbox.c.to_phone,
    inbox.c.body,
    inbox.c.media,
    inbox.c.received_at,
    inbox.c.awaiting,
)


async def pending(conn: AsyncConnection, *, limit: int) -> list[InboundRow]:
    """Unprocessed messages, oldest first."""
    query = (
        select(*_COLUMNS).where(inbox.c.processed_at.is_(None)).order_by(inbox.c.id).limit(limit)
    )
    return [_row(r) for r in await conn.execute(query)]


async def pending_for(conn: AsyncConnection, ids: Sequence[int]) -> list[InboundRow]:
    """Those of ``ids`` still unprocessed (re-read under lock), oldest first."""
    query = (
        select(*_COLUMNS)
        .where(inbox.c.id.in_(list(ids)), inbox.c.processed_at.is_(None))
        .order_by(inbox.c.id)
    )
    return [_row(r) for r in await conn.execute(query)]


async def set_media(conn: AsyncConnection, inbox_id: int, media: list[dict[str, Any]]) -> None:
    await conn.execute(update(inbox).where(inbox.c.id == inbox_id).values(media=media))


async def set_awaiting(conn: AsyncConnection, waits: dict[int, dict[str, Any] | None]) -> None:
    """Save (or clear, with None) the remote effect each text's turn waits on; unclaimed."""
    for inbox_id, awaiting in waits.items():
        await conn.execute(
            update(inbox)
            .where(inbox.c.id == inbox_id)
            .values(awaiting=awaiting, awaiting_claimed_until=None)
        )


async def claim_awaiting(
    conn: AsyncConnection, inbox_id: int, *, now: datetime, until: datetime
) -> bool:
    """Take the waiting row's remote call until ``until``; False if another process has it."""
    result = await conn.execute(
        update(inbox)
        .where(
            inbox.c.id == inbox_id,
            inbox.c.processed_at.is_(None),
            inbox.c.awaiting.is_not(None),
            or_(
                inbox.c.awaiting_claimed_until.is_(None),
                inbox.c.awaiting_claimed_until <= now,
            ),
        )
        .values(awaiting_claimed_until=until)
    )
    return bool(result.rowcount)


async def release_awaiting(conn: AsyncConnection, ids: Sequence[int]) -> None:
    """Give up the claims on these waiting rows' calls: their results were not used."""
    await conn.execute(
        update(inbox)
        .where(inbox.c.id.in_(ids), inbox.c.processed_at.is_(None))
        .values(awaiting_claimed_until=None)
    )


async def mark_processed(
    conn: AsyncConnection, ids: Sequence[int], when: datetime, errors: dict[int, str] | None = None
) -> None:
    errors = errors or {}
    plain = [i for i in ids if i not in errors]
    if plain:
        await conn.execute(update(inbox).where(inbox.c.id.in_(plain)).values(processed_at=when))
    for inbox_id, error in errors.items():
        await conn.execute(
            update(inbox).where(inbox.c.id == inbox_id).values(processed_at=when, error=error)
        )


async def waiting_from(conn: AsyncConnection, phones: Sequence[str]) -> list[InboundRow]:
    """Every unprocessed text from ``phones``, oldest first: who is waiting for what.

    Only the id, the sid and the two numbers are read (body, media and time are
    left empty): enough to tell whether a text would overtake an older one.
    """
    if not phones:
        return []
    query = (
        select(inbox.c.id, inbox.c.message_sid, inbox.c.from_phone, inbox.c.to_phone)
        .where(inbox.c.processed_at.is_(None), inbox.c.from_phone.in_(list(phones)))
        .order_by(inbox.c.id)
    )
    return [
        InboundRow(r.id, r.message_sid, r.from_phone, r.to_phone, "", [], _EPOCH)
        for r in await conn.execute(query)
    ]
