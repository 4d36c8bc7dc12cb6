"""Our phone numbers and the people who have accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import numbers, users


@dataclass(frozen=True)
class NumberRow:
    phone: str
    purpose: str


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    email: str | None
    phone: str | None


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


async def list_users(conn: AsyncConnection) -> list[UserRow]:
    rows = await conn.execute(
        select(users.c.id, users.c.name, users.c.email, users.c.phone).order_by(users.c.id)
    )
    return [UserRow(r.id, r.name, r.email, r.phone) for r in rows]
