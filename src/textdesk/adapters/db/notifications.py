"""Notifications on our database: the record-event feed, the history, send-time checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.subscriptions import SMS, chunks
from textdesk.adapters.db.tables import (
    carrier_optouts,
    conversations,
    notifications,
    numbers,
    outbox,
    record_events,
    records,
    subscriptions,
)
from textdesk.ports import (
    NOTIFICATION_KIND,
    HistoryRow,
    NewNotification,
    OutboxRow,
    RecordEvent,
)

# Why a queued notification was not sent after all (outbox ``error_message``).
CANCELED_OPTED_OUT = "recipient opted out of all texts (STOP) before it was sent"
CANCELED_UNSUBSCRIBED = "recipient turned notifications off before it was sent"


async def pending_events(conn: AsyncConnection, *, limit: int) -> list[RecordEvent]:
    """Record events not yet turned into notifications, oldest first.

    On PostgreSQL the rows stay locked until the caller's transaction ends and other
    workers skip them, so two notifiers never handle one event.
    """
    query = (
        select(
            record_events.c.id,
            record_events.c.record_id,
            record_events.c.kind,
            record_events.c.data,
            record_events.c.created_at,
        )
        .where(record_events.c.handled_at.is_(None))
        .order_by(record_events.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [
        RecordEvent(r.id, r.record_id, r.kind, dict(r.data or {}), r.created_at)
        for r in await conn.execute(query)
    ]


async def mark_events_handled(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> None:
    for part in chunks(list(ids)):
        await conn.execute(
            update(record_events).where(record_events.c.id.in_(list(part))).values(handled_at=now)
        )


async def add(conn: AsyncConnection, items: Sequence[NewNotification], now: datetime) -> None:
    """Write notification decisions to the history."""
    if not items:
        return
    await conn.execute(
        notifications.insert(),
        [
            {
                "user_id": n.user_id,
                "record_id": n.record_id,
                "event_id": n.event_id,
                "source": n.source,
                "template": n.template,
                "body": n.body,
                "status": n.status,
                "reason": n.reason,
                "outbox_id": n.outbox_id,
                "created_at": now,
            }
            for n in items
        ],
    )


async def history(
    conn: AsyncConnection, user_id: int, *, limit: int = 50, offset: int = 0
) -> list[HistoryRow]:
    """One account's notifications, newest first, each with its delivery status."""
    rows = await conn.execute(
        select(
            notifications,
            records.c.number,
            outbox.c.status.label("delivery"),
            outbox.c.error_code,
            outbox.c.error_message,
            outbox.c.sent_at,
        )
        .select_from(
            notifications.outerjoin(outbox, outbox.c.id == notifications.c.outbox_id).outerjoin(
                records, records.c.id == notifications.c.record_id
            )
        )
        .where(notifications.c.user_id == user_id)
        .order_by(notifications.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        HistoryRow(
            id=r.id,
            created_at=r.created_at,
            source=r.source,
            template=r.template,
            record_number=r.number,
            body=r.body,
            status=r.delivery if r.outbox_id is not None and r.delivery else r.status,
            reason=r.reason,
            error_code=r.error_code,
            error_message=r.error_message,
            sent_at=r.sent_at,
        )
        for r in rows
    ]


async def send_blocks(conn: AsyncConnection, outbox_ids: Sequence[int]) -> dict[int, str]:
    """Which of these queued texts may no longer be sent, and why.

    One query for the whole batch: the carrier opt-out of the recipient's phone, and
    for notifications the subscription of the account they were written for.  A
    notification is held whenever the number is opted out; any other text only when
    it was written after the opt-out, so the STOP confirmation itself (written with
    the opt-out) still goes, as carriers expect.
    """
    blocked: dict[int, str] = {}
    for part in chunks(list(outbox_ids)):
        query = (
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.created_at,
                notifications.c.user_id,
                subscriptions.c.enabled,
                carrier_optouts.c.active,
                carrier_optouts.c.opted_out_at,
            )
            .select_from(
                outbox.outerjoin(notifications, notifications.c.outbox_id == outbox.c.id)
                .outerjoin(
                    subscriptions,
                    and_(
                        subscriptions.c.user_id == notifications.c.user_id,
                        subscriptions.c.channel == SMS,
                    ),
                )
                .outerjoin(carrier_optouts, carrier_optouts.c.phone == outbox.c.to_phone)
            )
            .where(outbox.c.id.in_(list(part)))
        )
        for r in await conn.execute(query):
            notification = r.kind == NOTIFICATION_KIND
            if r.active and (notification or r.created_at > r.opted_out_at):
                blocked[r.id] = CANCELED_OPTED_OUT
            elif r.user_id is not None and not r.enabled:
                blocked[r.id] = CANCELED_UNSUBSCRIBED
    return blocked


async def sender_numbers(conn: AsyncConnection, phones: Sequence[str]) -> dict[str, str]:
    """For each phone, the conversational number of its latest conversation (if any)."""
    found: dict[str, tuple[datetime, str]] = {}
    for part in chunks(sorted(set(phones))):
        rows = await conn.execute(
            select(conversations.c.phone, conversations.c.number, conversations.c.updated_at)
            .select_from(
                conversations.join(
                    numbers,
                    and_(
                        numbers.c.phone == conversations.c.number,
                        numbers.c.purpose == "conversational",
                    ),
                )
            )
            .where(conversations.c.phone.in_(list(part)))
        )
        for r in rows:
            best = found.get(r.phone)
            if best is None or r.updated_at > best[0]:
                found[r.phone] = (r.updated_at, r.number)
    return {phone: number for phone, (_, number) in found.items()}


async def default_sender(conn: AsyncConnection) -> str | None:
    """The first conversational number configured: the sender for someone we never talked to."""
    return (
        await conn.execute(
            select(numbers.c.phone)
            .where(numbers.c.purpose == "conversational")
            .order_by(numbers.c.id)
            .limit(1)
        )
    ).scalar()


async def record_numbers(conn: AsyncConnection, record_ids: Sequence[int]) -> dict[int, str]:
    """Record id to number, for events (which name records by id)."""
    found: dict[int, str] = {}
    for part in chunks(sorted(set(record_ids))):
        rows = await conn.execute(
            select(records.c.id, records.c.number).where(records.c.id.in_(list(part)))
        )
        found.update({r.id: r.number for r in rows if r.number})
    return found


async def send_gate(conn: AsyncConnection, rows: Sequence[OutboxRow]) -> dict[int, str]:
    """The dispatcher's last check: queued texts that must not go out now.

    Returns ``{outbox id: reason}``: notifications whose recipient opted out or
    unsubscribed since they were queued, and any text written after its recipient
    opted out (Twilio would refuse it with 21610: better canceled with the reason).
    """
    return await send_blocks(conn, [r.id for r in rows]) if rows else {}


class SqlNotifications:
    """``ports.NotificationRepository`` (``notifications``, joined to the outbox)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, items: Sequence[NewNotification], now: datetime) -> None:
        await add(self._conn, items, now)

    async def history(self, user_id: int, *, limit: int, offset: int) -> list[HistoryRow]:
        return await history(self._conn, user_id, limit=limit, offset=offset)


class SqlSenderNumbers:
    """``ports.SenderNumbers`` (``numbers`` and ``conversations``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def latest(self, phones: Sequence[str]) -> dict[str, str]:
        return await sender_numbers(self._conn, phones)

    async def default(self) -> str | None:
        return await default_sender(self._conn)


class SqlRecordEvents:
    """``ports.RecordEventRepository`` (``record_events``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def pending(self, *, limit: int) -> list[RecordEvent]:
        return await pending_events(self._conn, limit=limit)

    async def mark_handled(self, ids: Sequence[int], now: datetime) -> None:
        await mark_events_handled(self._conn, ids, now)

    async def record_numbers(self, record_ids: Sequence[int]) -> dict[int, str]:
        return await record_numbers(self._conn, record_ids)
