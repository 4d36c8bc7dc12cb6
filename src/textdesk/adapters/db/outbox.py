"""The outbox: every text we mean to send, written with the change that caused it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from textdesk.adapters.db.dialect import insert_ignoring_conflicts, insert_numbered, lock_keys
from textdesk.adapters.db.tables import carrier_optouts, message_events, outbox
from textdesk.domain.delivery import (
    IN_FLIGHT,
    RECONCILE_HORIZON,
    describe_error,
    is_opt_out,
    moves_forward,
    next_status_check,
)
from textdesk.domain.sms import sms_cost
from textdesk.ports import NewMessage, OutboxRow, StatusUpdate


def _cost(body: str) -> tuple[str, int]:
    cost = sms_cost(body)
    return cost.encoding, cost.segments


async def enqueue(
    conn: AsyncConnection, messages: Sequence[NewMessage], now: datetime
) -> list[int]:
    """Queue messages for the dispatcher; returns their ids in order."""
    if not messages:
        return []
    rows: list[dict[str, Any]] = []
    for message in messages:
        encoding, segments = _cost(message.body)
        rows.append(
            {
                "conversation_id": message.conversation_id,
                "kind": message.kind,
                "to_phone": message.to_phone,
                "from_phone": message.from_phone,
                "body": message.body,
                "media": list(message.media),
                "encoding": encoding,
                "segments": segments,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return await insert_numbered(conn, outbox, rows)


# Not yet in Twilio's hands (as far as we know): later texts to the same person wait.
UNSENT = ("pending", "claimed", "in_doubt")


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    per_sender: int,
    held: Collection[str] = (),
    probes: Collection[str] = (),
) -> list[OutboxRow]:
    """Claim messages that are due, at most one per recipient and ``per_sender`` per number.

    Only the oldest unsent message of a recipient is eligible, so texts to one person
    leave in the order they were written even across retries.  Nothing is claimed
    from the ``held`` (paused) numbers, and one message at most from each of ``probes``.
    """
    earlier = aliased(outbox)
    blocked = exists().where(
        and_(
            earlier.c.to_phone == outbox.c.to_phone,
            earlier.c.id < outbox.c.id,
            earlier.c.status.in_(UNSENT),
        )
    )
    query = (
        select(
            outbox.c.id,
            outbox.c.to_phone,
            outbox.c.from_phone,
            outbox.c.body,
            outbox.c.media,
            outbox.c.attempts,
            outbox.c.kind,
            outbox.c.status,
            outbox.c.claimed_until,
            outbox.c.created_at,
        )
        .where(
            outbox.c.status.in_(("pending", "in_doubt")),
            outbox.c.next_attempt_at <= now,
            ~blocked,
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if held:
        # In SQL, not below: a paused number's backlog must not fill the batch's limit.
        query = query.where(outbox.c.from_phone.not_in(list(held)))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=outbox)
    chosen: list[OutboxRow] = []
    per_number: dict[str, int] = {}
    for r in await conn.execute(query):
        allowed = 1 if r.from_phone in probes else per_sender
        if per_number.get(r.from_phone, 0) >= allowed:
            continue
        per_number[r.from_phone] = per_number.get(r.from_phone, 0) + 1
        chosen.append(
            OutboxRow(
                id=r.id,
                to_phone=r.to_phone,
                from_phone=r.from_phone,
                body=r.body,
                media=list(r.media or []),
                attempts=r.attempts + 1,
                kind=r.kind,
                queued_at=r.created_at,
                in_doubt_since=(
                    r.claimed_until - lease
                    if r.status == "in_doubt" and r.claimed_until is not None
                    else None
                ),
            )
        )
    if chosen:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([c.id for c in chosen]))
            .values(
                status="claimed",
                attempts=outbox.c.attempts + 1,
                claimed_until=now + lease,
                updated_at=now,
            )
        )
    return chosen


async def release_expired_claims(conn: AsyncConnection, now: datetime) -> int:
    """A process died mid-send: put its claimed messages back in line, in doubt.

    Twilio may have taken the text before the process died, so the next attempt
    first asks Twilio (``claimed_until`` is kept: it dates the lost attempt).
    """
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.status == "claimed", outbox.c.claimed_until < now)
        .values(status="in_doubt", updated_at=now)
    )
    return int(result.rowcount or 0)


async def mark_in_doubt(
    conn: AsyncConnection,
    rows: Sequence[tuple[int, datetime, str, datetime]],
    now: datetime,
) -> None:
    """Twilio could not say whether the lost attempt went out: ask again later.

    Rows are (outbox id, next attempt, why, the lost attempt's ``claimed_until``), put
    back so the next question covers the same window.
    """
    if not rows:
        return
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            status="in_doubt",
            next_attempt_at=bindparam("b_when"),
            claimed_until=bindparam("b_lost"),
            error_message=bindparam("b_message"),
            updated_at=now,
        ),
        [
            {"b_id": outbox_id, "b_when": when, "b_lost": lost_until, "b_message": message}
            for outbox_id, when, message, lost_until in rows
        ],
    )


async def mark_accepted(
    conn: AsyncConnection, rows: Sequence[tuple[int, str, str, datetime]], now: datetime
) -> None:
    """Twilio took these: (outbox id, MessageSid, status, when it answered).

    A status callback can overtake this write (Twilio answers, then calls back while
    the rest of the batch is still being sent), and finding no message with its sid
    it only left an event; those events are applied here, so no status is lost.
    """
    if not rows:
        return
    await _lock_sids(conn, [sid for _, sid, _, _ in rows])
    # One executemany for the batch rather than a statement (and a round trip to the
    # driver's thread) per row.
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            twilio_sid=bindparam("b_sid"),
            sent_at=bindparam("b_sent"),
            claimed_until=None,
            error_code=None,
            error_message=None,
            updated_at=now,
        ),
        [
            {
                "b_id": outbox_id,
                "b_sid": sid,
                "b_status": status if status else "queued",
                "b_sent": sent_at,
            }
            for outbox_id, sid, status, sent_at in rows
        ],
    )
    early = [
        StatusUpdate(r.twilio_sid, r.status, r.error_code, r.received_at)
        for r in await conn.execute(
            select(
                message_events.c.twilio_sid,
                message_events.c.status,
                message_events.c.error_code,
                message_events.c.received_at,
            )
            .where(message_events.c.twilio_sid.in_([sid for _, sid, _, _ in rows]))
            .order_by(message_events.c.id)
        )
    ]
    await _advance(conn, early)


async def _lock_sids(conn: AsyncConnection, sids: Sequence[str]) -> None:
    # PostgreSQL: a callback and the dispatcher's write of the same sid take turns,
    # so neither commits unseen by the other.  One statement for the whole batch.
    await lock_keys(conn, [f"sms:{sid}" for sid in sids])


async def mark_retry(
    conn: AsyncConnection,
    rows: Sequence[tuple[int, datetime, int | None, str | None]],
    now: datetime,
) -> None:
    """Back in line at a later time: (outbox id, next attempt, error code, message)."""
    if not rows:
        return
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            status="pending",
            next_attempt_at=bindparam("b_when"),
            claimed_until=None,
            error_code=bindparam("b_code"),
            error_message=bindparam("b_message"),
            updated_at=now,
        ),
        [
            {"b_id": outbox_id, "b_when": when, "b_code": code, "b_message": message}
            for outbox_id, when, code, message in rows
        ],
    )


async def mark_held(
    conn: AsyncConnection, rows: Sequence[tuple[int, datetime]], now: datetime
) -> None:
    """Claimed but not sent, as its number was paused meanwhile: (outbox id, next attempt).

    No attempt was made, so none is counted.
    """
    if not rows:
        return
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            status="pending",
            attempts=outbox.c.attempts - 1,
            next_attempt_at=bindparam("b_when"),
            claimed_until=None,
            updated_at=now,
        ),
        [{"b_id": outbox_id, "b_when": when} for outbox_id, when in rows],
    )


async def fail_expired(
    conn: AsyncConnection, number: str, *, queued_before: datetime, message: str, now: datetime
) -> int:
    """Give up a paused number's waiting texts queued before ``queued_before``.

    Held texts are never attempted, so the give-up window is applied to them here,
    when a probe fails, rather than after an attempt of their own.
    """
    result = await conn.execute(
        update(outbox)
        .where(
            outbox.c.from_phone == number,
            outbox.c.status == "pending",
            outbox.c.created_at < queued_before,
        )
        .values(status="failed", claimed_until=None, error_message=message, updated_at=now)
    )
    return int(result.rowcount or 0)


async def mark_failed(
    conn: AsyncConnection, rows: Sequence[tuple[int, int | None, str | None]], now: datetime
) -> None:
    """Given up: (outbox id, error code, message)."""
    if not rows:
        return
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(
            status="failed",
            claimed_until=None,
            error_code=bindparam("b_code"),
            error_message=bindparam("b_message"),
            updated_at=now,
        ),
        [
            {"b_id": outbox_id, "b_code": code, "b_message": message}
            for outbox_id, code, message in rows
        ],
    )


async def mark_canceled(
    conn: AsyncConnection, rows: Sequence[tuple[int, str]], now: datetime
) -> None:
    """Not sent after all, by our own decision at send time: (outbox id, reason)."""
    by_reason: dict[str, list[int]] = {}
    for outbox_id, reason in rows:
        by_reason.setdefault(reason, []).append(outbox_id)
    for reason, ids in by_reason.items():
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status="canceled", claimed_until=None, error_message=reason, updated_at=now)
        )


async def mark_opted_out(
    conn: AsyncConnection, phones: Sequence[str], now: datetime, source: str
) -> None:
    rows: list[dict[str, Any]] = [
        {"phone": p, "opted_out_at": now, "source": source, "active": True} for p in set(phones)
    ]
    if not rows:
        return
    await insert_ignoring_conflicts(conn, carrier_optouts, rows, ["phone"])
    await conn.execute(
        update(carrier_optouts)
        .where(carrier_optouts.c.phone.in_(list({p for p in phones})))
        .values(active=True, opted_out_at=now, source=source)
    )


async def apply_status_updates(
    conn: AsyncConnection, updates: Sequence[StatusUpdate]
) -> list[int | None]:
    """Record callbacks; move each message's status only forwards.

    For each update: the message's conversation id when its status moved (0 for a
    message outside any conversation), None when the callback changed nothing.
    """
    if not updates:
        return []
    await _lock_sids(conn, [u.sid for u in updates])
    await conn.execute(
        message_events.insert(),
        [
            {
                "twilio_sid": u.sid,
                "status": u.status,
                "error_code": u.error_code,
                "received_at": u.received_at,
            }
            for u in updates
        ],
    )
    return await _advance(conn, updates)


async def _advance(conn: AsyncConnection, updates: Sequence[StatusUpdate]) -> list[int | None]:
    """Move each update's message forward, if it is ours and the update is newer."""
    if not updates:
        return []
    sids = list({u.sid for u in updates})
    current = {
        r.twilio_sid: (r.status, r.to_phone, r.conversation_id or 0)
        for r in await conn.execute(
            select(
                outbox.c.twilio_sid, outbox.c.status, outbox.c.to_phone, outbox.c.conversation_id
            ).where(outbox.c.twilio_sid.in_(sids))
        )
    }
    moved: list[int | None] = []
    opted_out: list[str] = []
    # Per sid, what the updates that moved it forward set, later ones over earlier
    # ones: the same end state as one UPDATE per update, in far fewer statements.
    changes: dict[str, dict[str, Any]] = {}
    for u in updates:
        known = current.get(u.sid)
        if known is None or not moves_forward(known[0], u.status):
            moved.append(None)
            continue
        current[u.sid] = (u.status, known[1], known[2])
        moved.append(known[2])
        values = changes.setdefault(u.sid, {})
        values["status"] = u.status
        values["updated_at"] = u.received_at
        if u.error_code is not None:
            values["error_code"] = u.error_code
            values["error_message"] = describe_error(u.error_code)
            if is_opt_out(u.error_code):
                opted_out.append(known[1])
    await _update_by_sid(conn, changes)
    if opted_out:
        await mark_opted_out(conn, opted_out, updates[0].received_at, "status_callback")
    return moved


async def _update_by_sid(conn: AsyncConnection, changes: dict[str, dict[str, Any]]) -> None:
    """Apply ``{sid: {column: value}}``: one executemany per set of columns."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for sid, values in changes.items():
        columns = tuple(sorted(values))
        params = {f"b_{c}": v for c, v in values.items()}
        params["b_sid"] = sid
        by_columns.setdefault(columns, []).append(params)
    for columns, params_list in by_columns.items():
        statement = (
            update(outbox)
            .where(outbox.c.twilio_sid == bindparam("b_sid"))
            .values({c: bindparam(f"b_{c}", type_=outbox.c[c].type) for c in columns})
        )
        await conn.execute(statement, params_list)


async def claim_status_checks(
    conn: AsyncConnection, *, now: datetime, after: timedelta, limit: int
) -> list[str]:
    """Sids of sent messages with no news for ``after``, each booked for its next check.

    ``next_attempt_at`` (unused once a message is accepted) holds when to ask next;
    booking it here, in the claiming transaction, means no two processes ask about
    one message, and a lookup that fails is simply asked again at that time.
    """
    query = (
        select(outbox.c.id, outbox.c.twilio_sid, outbox.c.sent_at)
        .where(
            outbox.c.status.in_(IN_FLIGHT),
            outbox.c.next_attempt_at <= now,
            outbox.c.updated_at <= now - after,
            outbox.c.twilio_sid.is_not(None),
            outbox.c.sent_at >= now - RECONCILE_HORIZON,
        )
        .order_by(outbox.c.next_attempt_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=outbox)
    rows = list(await conn.execute(query))
    if rows:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("b_id"))
            .values(next_attempt_at=bindparam("b_next")),
            [{"b_id": r.id, "b_next": next_status_check(r.sent_at, now, after)} for r in rows],
        )
    return [r.twilio_sid for r in rows]


async def apply_reconciled(
    conn: AsyncConnection, updates: Sequence[StatusUpdate]
) -> list[int | None]:
    """Statuses learned by asking Twilio: moved only forward, like callbacks.

    Not written to ``message_events``, which keeps what Twilio posted to us.
    """
    if not updates:
        return []
    await _lock_sids(conn, [u.sid for u in updates])
    return await _advance(conn, updates)
