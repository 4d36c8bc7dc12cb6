"""Stored images: texters' verified attachments and agents' uploads."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db.tables import media
from textdesk.domain.media_keys import PREVIEW_SUFFIX, preview_key
from textdesk.ports import StoredMedia

# The key of an image's preview is a rule of its own (pages read it too); still
# imported from here.
__all__ = [
    "PREVIEW_SUFFIX",
    "SqlImages",
    "SqlMediaStore",
    "load",
    "preview_key",
    "save",
    "save_preview",
]


def _row(
    key: str, data: bytes, content_type: str, now: datetime, source_url: str | None
) -> dict[str, object]:
    return {
        "key": key,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": data,
        "source_url": source_url,
        "created_at": now,
    }


async def save(
    conn: AsyncConnection,
    *,
    data: bytes,
    content_type: str,
    now: datetime,
    source_url: str | None = None,
    preview: tuple[bytes, str] | None = None,
) -> str:
    """Store ``data`` (and its ``(bytes, type)`` preview); return its key (``att/…``)."""
    key = "att/" + secrets.token_urlsafe(12)
    rows = [_row(key, data, content_type, now, source_url)]
    if preview is not None:
        rows.append(_row(preview_key(key), preview[0], preview[1], now, None))
    await conn.execute(media.insert(), rows)
    return key


async def save_preview(
    conn: AsyncConnection, *, key: str, data: bytes, content_type: str, now: datetime
) -> None:
    """Store the preview of ``key`` made after the fact; a concurrent maker's copy wins."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                media.insert().values(**_row(preview_key(key), data, content_type, now, None))
            )
    except IntegrityError:
        pass  # another request stored the same preview first


async def load(conn: AsyncConnection, key: str) -> StoredMedia | None:
    row = (
        await conn.execute(select(media.c.content_type, media.c.data).where(media.c.key == key))
    ).first()
    return StoredMedia(key, row.content_type, bytes(row.data)) if row else None


class SqlImages:
    """``ports.ImageRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def load(self, key: str) -> StoredMedia | None:
        return await load(self._conn, key)


class SqlMediaStore:
    """``ports.MediaStore``: each call on a connection of its own."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def load(self, key: str) -> StoredMedia | None:
        async with self._db.connect() as conn:
            return await load(conn, key)

    def original_of(self, key: str) -> str | None:
        return key.removesuffix(PREVIEW_SUFFIX) if key.endswith(PREVIEW_SUFFIX) else None

    async def save_preview(
        self, original: str, *, data: bytes, content_type: str, now: datetime
    ) -> StoredMedia:
        async with self._db.begin() as conn:
            await save_preview(conn, key=original, data=data, content_type=content_type, now=now)
        return StoredMedia(preview_key(original), content_type, data)
