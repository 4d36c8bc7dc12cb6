"""Fakes of what ``ops/`` reads: the database's answer, the outbox backlog, stored images."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from textdesk.ports import Backlog, StoredMedia, StoreUnavailable

PREVIEW_SUFFIX = "/preview"


@dataclass
class FailingProbe:
    """A ``DatabaseProbe`` that answers, or raises ``error`` when one is set."""

    error: Exception | None = None

    async def ping(self) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class FixedBacklog:
    """An ``OutboxBacklog`` that reads ``backlog``, or is unavailable when it is None."""

    backlog: Backlog | None = None

    async def read(self) -> Backlog:
        if self.backlog is None:
            raise StoreUnavailable("database is locked")
        return self.backlog


@dataclass
class MemoryMedia:
    """A ``MediaStore`` in a dict, previews under the built-in store's ``…/preview`` keys."""

    stored: dict[str, StoredMedia] = field(default_factory=dict)
    previews_saved: list[str] = field(default_factory=list)

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        self.stored[key] = StoredMedia(key, content_type, data)

    async def load(self, key: str) -> StoredMedia | None:
        return self.stored.get(key)

    def original_of(self, key: str) -> str | None:
        return key.removesuffix(PREVIEW_SUFFIX) if key.endswith(PREVIEW_SUFFIX) else None

    async def save_preview(
        self, original: str, *, data: bytes, content_type: str, now: datetime
    ) -> StoredMedia:
        preview = StoredMedia(original + PREVIEW_SUFFIX, content_type, data)
        self.stored.setdefault(preview.key, preview)  # a concurrent maker's copy wins
        self.previews_saved.append(original)
        return preview


@dataclass
class ShrinkingPreviews:
    """A ``PreviewMaker`` whose preview of an image is its first bytes; ``refused`` do not
    decode (too many pixels, not an image)."""

    refused: set[bytes] = field(default_factory=set)
    made: int = 0

    async def preview(self, data: bytes) -> tuple[bytes, str] | None:
        if data in self.refused:
            return None
        self.made += 1
        return data[:4], "image/jpeg"


class PlainTokens:
    """``MediaTokens`` whose token is ``ok:<key>``; anything else is forged or expired."""

    def key_for(self, token: str) -> str | None:
        return token.removeprefix("ok:") if token.startswith("ok:") else None
