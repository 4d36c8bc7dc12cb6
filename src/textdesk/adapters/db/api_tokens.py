"""API tokens: the ``api_tokens`` table, which holds only each secret's SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import api_tokens
from textdesk.ports import TokenInfo


async def add(conn: AsyncConnection, *, name: str, digest: str, now: datetime) -> None:
    await conn.execute(api_tokens.insert().values(name=name, token_sha256=digest, created_at=now))


async def name_of(conn: AsyncConnection, digest: str) -> str | None:
    name = (
        await conn.execute(select(api_tokens.c.name).where(api_tokens.c.token_sha256 == digest))
    ).scalar()
    return str(name) if name is not None else None


async def mark_used(conn: AsyncConnection, digest: str, now: datetime) -> None:
    await conn.execute(
        update(api_tokens).where(api_tokens.c.token_sha256 == digest).values(last_used_at=now)
    )


async def list_tokens(conn: AsyncConnection) -> list[TokenInfo]:
    rows = await conn.execute(
        select(
            api_tokens.c.id,
            api_tokens.c.name,
            api_tokens.c.created_at,
            api_tokens.c.last_used_at,
        ).order_by(api_tokens.c.id)
    )
    return [TokenInfo(r.id, r.name, r.created_at, r.last_used_at) for r in rows]


async def remove(conn: AsyncConnection, token_id: int) -> bool:
    result = await conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id))
    return bool(result.rowcount)
