"""The inbox: every inbound webhook, durable before it is acknowledged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.dialect import insert_ignoring_conflicts
from textdesk.adapters.db.tables import inbox
from textdesk.domain.inbound import InboundSms


@dataclass(frozen=True)
class InboxRow:
    id: int
    message_sid: str
    from_phone: str
    to_phone: str
    body: str
    media: list[dict[str, Any]]
    received_at: datetime


async def store(
    conn: AsyncConnection, messages: Sequence[tuple[InboundSms, datetime]]
) -> list[bool]:
    """Insert messages; a MessageSid seen before is skipped.  True for each new one."""
    sids = [m.message_sid for m, _ in messages]
    existing = set(
        (await conn.execute(select(inbox.c.message_sid).where(inbox.c.message_sid.in_(sids))))
        .scalars()
        .all()
    )
    fresh: list[dict[str, Any]] = []
    seen: set[str] = set(existing)
    outcome: list[bool] = []
    for message, received_at in messages:
        if message.message_sid in seen:
            outcome.append(False)
            continue
        seen.add(message.message_sid)
        outcome.append(True)
        fresh.append(
            {
                "message_sid": message.message_sid,
                "from_phone": message.from_phone,
                "to_phone": message.to_phone,
                "body": message.body,
                "media": [{"url": m.url, "content_type": m.content_type} for m in message.media],
                "params": message.params,
                "received_at": received_at,
            }
        )
    # ON CONFLICT as well: another process may insert the same sid between our read and write.
    await insert_ignoring_conflicts(conn, inbox, fresh, ["message_sid"])
    return outcome


def _row(r: Any) -> InboxRow:
    return InboxRow(
        id=r.id,
        message_sid=r.message_sid,
        from_phone=r.from_phone,
        to_phone=r.to_phone,
        body=r.body,
        media=list(r.media or []),
        received_at=r.received_at,
    )


_COLUMNS = (
    inbox.c.id,
    inbox.c.message_sid,
    inbox.c.from_phone,
    inbox.c.to_phone,
    inbox.c.body,
    inbox.c.media,
    inbox.c.received_at,
)


async def pending(conn: AsyncConnection, *, limit: int) -> list[InboxRow]:
    """Unprocessed messages, oldest first."""
    query = (
        select(*_COLUMNS).where(inbox.c.processed_at.is_(None)).order_by(inbox.c.id).limit(limit)
    )
    return [_row(r) for r in await conn.execute(query)]


async def pending_for(conn: AsyncConnection, ids: Sequence[int]) -> list[InboxRow]:
    """Those of ``ids`` still unprocessed (re-read under lock), oldest first."""
    query = (
        select(*_COLUMNS)
        .where(inbox.c.id.in_(list(ids)), inbox.c.processed_at.is_(None))
        .order_by(inbox.c.id)
    )
    return [_row(r) for r in await conn.execute(query)]


async def set_media(conn: AsyncConnection, inbox_id: int, media: list[dict[str, Any]]) -> None:
    await conn.execute(update(inbox).where(inbox.c.id == inbox_id).values(media=media))


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


async def pending_from(conn: AsyncConnection, phones: Sequence[str]) -> list[InboxRow]:
    """Every unprocessed text from ``phones``, oldest first."""
    if not phones:
        return []
    query = (
        select(*_COLUMNS)
        .where(inbox.c.processed_at.is_(None), inbox.c.from_phone.in_(list(phones)))
        .order_by(inbox.c.id)
    )
    return [_row(r) for r in await conn.execute(query)]
