"""Stored images: texters' verified attachments and agents' uploads."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import media


@dataclass(frozen=True)
class StoredMedia:
    key: str
    content_type: str
    data: bytes


async def save(
    conn: AsyncConnection,
    *,
    data: bytes,
    content_type: str,
    now: datetime,
    source_url: str | None = None,
) -> str:
    """Store ``data``; return its key (``att/…``, unguessable)."""
    key = "att/" + secrets.token_urlsafe(12)
    await conn.execute(
        media.insert().values(
            key=key,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            source_url=source_url,
            created_at=now,
        )
    )
    return key


async def load(conn: AsyncConnection, key: str) -> StoredMedia | None:
    row = (
        await conn.execute(select(media.c.content_type, media.c.data).where(media.c.key == key))
    ).first()
    return StoredMedia(key, row.content_type, bytes(row.data)) if row else None
