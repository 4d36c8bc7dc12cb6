"""Subscriptions (with their audit trail) and the carrier opt-out state, on our database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.dialect import upsert
from textdesk.adapters.db.outbox import mark_opted_out
from textdesk.adapters.db.tables import (
    carrier_optouts,
    subscription_changes,
    subscriptions,
    users,
)
from textdesk.ports import CarrierOptOut, Change, Recipient

SMS = "sms"
SOURCES = ("sms", "api", "workspace")
# Ids per IN (...) list: well under every driver's parameter limit.
_CHUNK = 1000
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def recipients(conn: AsyncConnection, user_ids: Sequence[int]) -> dict[int, Recipient]:
    """The accounts among ``user_ids`` (unknown ids are left out), in one query per chunk."""
    found: dict[int, Recipient] = {}
    for part in chunks(sorted(set(user_ids))):
        query = (
            select(
                users.c.id,
                users.c.name,
                users.c.phone,
                subscriptions.c.enabled,
                carrier_optouts.c.active,
            )
            .select_from(
                users.outerjoin(
                    subscriptions,
                    and_(subscriptions.c.user_id == users.c.id, subscriptions.c.channel == SMS),
                ).outerjoin(carrier_optouts, carrier_optouts.c.phone == users.c.phone)
            )
            .where(users.c.id.in_(list(part)))
        )
        for r in await conn.execute(query):
            found[r.id] = Recipient(
                user_id=r.id,
                name=r.name,
                phone=r.phone,
                subscribed=bool(r.enabled),
                carrier_opted_out=bool(r.active),
            )
    return found


async def is_enabled(conn: AsyncConnection, user_id: int, channel: str = SMS) -> bool:
    """The setting; no row means off."""
    enabled = (
        await conn.execute(
            select(subscriptions.c.enabled).where(
                subscriptions.c.user_id == user_id, subscriptions.c.channel == channel
            )
        )
    ).scalar()
    return bool(enabled)


async def set_enabled(
    conn: AsyncConnection,
    user_ids: Sequence[int],
    enabled: bool,
    *,
    source: str,
    now: datetime,
    channel: str = SMS,
    reason: str | None = None,
    actor: str | None = None,
) -> list[int]:
    """Turn the subscription of ``user_ids`` on or off; returns those that changed.

    Only real changes are written to the audit trail.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    changed: list[int] = []
    for part in chunks(sorted(set(user_ids))):
        current = {
            r.user_id: bool(r.enabled)
            for r in await conn.execute(
                select(subscriptions.c.user_id, subscriptions.c.enabled).where(
                    subscriptions.c.user_id.in_(list(part)), subscriptions.c.channel == channel
                )
            )
        }
        changed.extend(u for u in part if current.get(u, False) != enabled)
    if not changed:
        return []
    await upsert(
        conn,
        subscriptions,
        [
            {"user_id": u, "channel": channel, "enabled": enabled, "updated_at": now}
            for u in changed
        ],
        key=["user_id", "channel"],
        update=["enabled", "updated_at"],
    )
    await conn.execute(
        subscription_changes.insert(),
        [
            {
                "user_id": u,
                "channel": channel,
                "enabled": enabled,
                "source": source,
                "at": now,
                "reason": reason,
                "actor": actor,
            }
            for u in changed
        ],
    )
    return changed


async def history(
    conn: AsyncConnection, user_id: int, *, channel: str = SMS, limit: int = 50
) -> list[Change]:
    """The audit trail of one account, newest first."""
    rows = await conn.execute(
        select(
            subscription_changes.c.enabled,
            subscription_changes.c.source,
            subscription_changes.c.at,
            subscription_changes.c.reason,
            subscription_changes.c.actor,
        )
        .where(subscription_changes.c.user_id == user_id, subscription_changes.c.channel == channel)
        .order_by(subscription_changes.c.id.desc())
        .limit(limit)
    )
    return [Change(bool(r.enabled), r.source, r.at, r.reason, r.actor) for r in rows]


async def carrier_opt_out(conn: AsyncConnection, phone: str) -> CarrierOptOut | None:
    """The number's active carrier opt-out, if it has one."""
    row = (
        await conn.execute(
            select(carrier_optouts.c.opted_out_at, carrier_optouts.c.source).where(
                carrier_optouts.c.phone == phone, carrier_optouts.c.active.is_(True)
            )
        )
    ).first()
    return None if row is None else CarrierOptOut(row.opted_out_at, row.source)


async def carrier_opted_out(conn: AsyncConnection, phone: str) -> bool:
    """Whether the carrier (Twilio) blocks our texts to ``phone``, as far as we know."""
    active = (
        await conn.execute(select(carrier_optouts.c.active).where(carrier_optouts.c.phone == phone))
    ).scalar()
    return bool(active)


async def record_carrier_opt_out(
    conn: AsyncConnection, phone: str, now: datetime, source: str
) -> None:
    """The texter sent STOP (or another opt-out word): Twilio blocks them from now on."""
    await mark_opted_out(conn, [phone], now, source)


async def record_carrier_opt_in(conn: AsyncConnection, phone: str) -> None:
    """The texter sent START (or UNSTOP, or YES while opted out): Twilio lifts the block.

    The row stays (inactive) as a record that the number once opted out.
    """
    await conn.execute(
        update(carrier_optouts)
        .where(carrier_optouts.c.phone == phone, carrier_optouts.c.active.is_(True))
        .values(active=False)
    )


class SqlSubscriptions:
    """``ports.SubscriptionRepository`` (the SMS channel's rows)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def recipients(self, user_ids: Sequence[int]) -> dict[int, Recipient]:
        return await recipients(self._conn, user_ids)

    async def is_enabled(self, user_id: int) -> bool:
        return await is_enabled(self._conn, user_id)

    async def set_enabled(
        self,
        user_ids: Sequence[int],
        enabled: bool,
        *,
        source: str,
        now: datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[int]:
        return await set_enabled(
            self._conn, user_ids, enabled, source=source, now=now, reason=reason, actor=actor
        )

    async def history(self, user_id: int) -> list[Change]:
        return await history(self._conn, user_id)


class SqlCarrierOptOuts:
    """``ports.CarrierOptOutRepository`` (``carrier_optouts``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark_opted_out(self, phones: Sequence[str], now: datetime, source: str) -> None:
        await mark_opted_out(self._conn, phones, now, source)

    async def is_opted_out(self, phone: str) -> bool:
        return await carrier_opted_out(self._conn, phone)

    async def current(self, phone: str) -> CarrierOptOut | None:
        return await carrier_opt_out(self._conn, phone)

    async def opt_in(self, phone: str) -> None:
        await record_carrier_opt_in(self._conn, phone)
