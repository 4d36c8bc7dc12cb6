"""API tokens: long random secrets, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db.tables import api_tokens
from textdesk.ports import Clock

PREFIX = "tdk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(*, db: AsyncEngine, clock: Clock, name: str) -> str:
    """Create a token named ``name``; the secret is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    async with db.begin() as conn:
        await conn.execute(
            api_tokens.insert().values(
                name=name, token_sha256=_digest(token), created_at=clock.now()
            )
        )
    return token


async def check_token(*, db: AsyncEngine, clock: Clock, token: str) -> str | None:
    """The token's name when it is valid, else None."""
    if not token.startswith(PREFIX):
        return None
    digest = _digest(token)
    async with db.begin() as conn:
        name = (
            await conn.execute(select(api_tokens.c.name).where(api_tokens.c.token_sha256 == digest))
        ).scalar()
        if name is not None:
            await conn.execute(
                update(api_tokens)
                .where(api_tokens.c.token_sha256 == digest)
                .values(last_used_at=clock.now())
            )
    return str(name) if name is not None else None


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


async def list_tokens(*, db: AsyncEngine) -> list[TokenInfo]:
    """Every token (never its secret), oldest first."""
    async with db.connect() as conn:
        rows = await conn.execute(
            select(
                api_tokens.c.id,
                api_tokens.c.name,
                api_tokens.c.created_at,
                api_tokens.c.last_used_at,
            ).order_by(api_tokens.c.id)
        )
        return [TokenInfo(r.id, r.name, r.created_at, r.last_used_at) for r in rows]


async def revoke_token(*, db: AsyncEngine, token_id: int) -> bool:
    """Delete a token: requests bearing it are refused from now on."""
    async with db.begin() as conn:
        result = await conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id))
    return bool(result.rowcount)
