"""Our phone numbers and the people who have accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.dialect import insert_ignoring_conflicts
from textdesk.adapters.db.tables import (
    conversations,
    notifications,
    numbers,
    records,
    subscription_changes,
    subscriptions,
    users,
)
from textdesk.ports import NumberRow, UserFootprint, UserRow


async def list_numbers(conn: AsyncConnection) -> list[NumberRow]:
    rows = await conn.execute(select(numbers.c.phone, numbers.c.purpose).order_by(numbers.c.id))
    return [NumberRow(r.phone, r.purpose) for r in rows]


async def get_number(conn: AsyncConnection, phone: str) -> NumberRow | None:
    r = (
        await conn.execute(
            select(numbers.c.phone, numbers.c.purpose).where(numbers.c.phone == phone)
        )
    ).first()
    return NumberRow(r.phone, r.purpose) if r else None


async def add_number(conn: AsyncConnection, phone: str, purpose: str, now: datetime) -> None:
    await conn.execute(numbers.insert().values(phone=phone, purpose=purpose, created_at=now))


async def remove_number(conn: AsyncConnection, phone: str) -> bool:
    result = await conn.execute(delete(numbers).where(numbers.c.phone == phone))
    return bool(result.rowcount)


async def users_by_phone(conn: AsyncConnection, phones: Sequence[str]) -> dict[str, UserRow]:
    if not phones:
        return {}
    rows = await conn.execute(
        select(users.c.id, users.c.name, users.c.email, users.c.phone).where(
            users.c.phone.in_(list(set(phones)))
        )
    )
    return {r.phone: UserRow(r.id, r.name, r.email, r.phone) for r in rows}


async def add_user(
    conn: AsyncConnection, *, name: str, email: str | None, phone: str | None, now: datetime
) -> int:
    result = await conn.execute(
        users.insert()
        .values(name=name, email=email, phone=phone, created_at=now)
        .returning(users.c.id)
    )
    return int(result.scalar_one())


async def list_users(
    conn: AsyncConnection, *, limit: int | None = None, offset: int = 0
) -> list[UserRow]:
    """Accounts in the order they were added (all of them without ``limit``)."""
    rows = await conn.execute(
        select(users.c.id, users.c.name, users.c.email, users.c.phone)
        .order_by(users.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [UserRow(r.id, r.name, r.email, r.phone) for r in rows]


async def user_footprint(conn: AsyncConnection, user_id: int) -> UserFootprint:
    async def count(table: Any, column: Any) -> int:
        found = await conn.execute(select(func.count()).select_from(table).where(column == user_id))
        return int(found.scalar_one())

    enabled = await conn.execute(
        select(subscriptions.c.enabled).where(subscriptions.c.user_id == user_id)
    )
    return UserFootprint(
        subscribed=bool(enabled.scalar()),
        subscription_changes=await count(subscription_changes, subscription_changes.c.user_id),
        notifications=await count(notifications, notifications.c.user_id),
        conversations=await count(conversations, conversations.c.user_id),
        records=await count(records, records.c.caller_id),
    )


async def remove_user(conn: AsyncConnection, user: UserRow) -> None:
    """Delete the account and what is about the person; keep the desk's own records.

    Explicit statements rather than the foreign keys' ON DELETE rules, so SQLite
    and PostgreSQL do the same whatever their foreign-key settings.
    """
    for table in (notifications, subscription_changes, subscriptions):
        await conn.execute(delete(table).where(table.c.user_id == user.id))
    await conn.execute(
        update(conversations).where(conversations.c.user_id == user.id).values(user_id=None)
    )
    # A record stays its caller's by phone (domain/records.belongs_to).
    await conn.execute(
        update(records)
        .where(records.c.caller_id == user.id)
        .values(caller_id=None, caller_phone=func.coalesce(records.c.caller_phone, user.phone))
    )
    await conn.execute(delete(users).where(users.c.id == user.id))


async def get_user(conn: AsyncConnection, user_id: int) -> UserRow | None:
    """The account with id ``user_id``, if there is one."""
    row = (
        await conn.execute(
            select(users.c.id, users.c.name, users.c.email, users.c.phone).where(
                users.c.id == user_id
            )
        )
    ).first()
    return UserRow(row.id, row.name, row.email, row.phone) if row is not None else None


async def link_user(
    conn: AsyncConnection, *, phone: str, name: str, email: str | None, now: datetime
) -> int:
    """The account of ``phone``, made with ``name`` and ``email`` if it has none; the
    number's conversations that name no account are given it.

    ON CONFLICT DO NOTHING rather than a look-up first: two texts from the number
    answered at once (to two of our numbers) make one account, and the second waits
    for the first's commit instead of failing on the unique phone.
    """
    await insert_ignoring_conflicts(
        conn,
        users,
        [{"name": name, "email": email, "phone": phone, "created_at": now}],
        key=["phone"],
    )
    user_id = int(
        (await conn.execute(select(users.c.id).where(users.c.phone == phone))).scalar_one()
    )
    await conn.execute(
        update(conversations)
        .where(conversations.c.phone == phone, conversations.c.user_id.is_(None))
        .values(user_id=user_id)
    )
    return user_id
