"""A texter's phone for end-to-end conversations, and small valid PNGs."""

from __future__ import annotations

import struct
import zlib

from tests.integration.conftest import TEXTER, Desk
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG of red pixels, 2×2 unless told otherwise."""
    raw = (b"\x00" + b"\xff\x00\x00" * width) * height  # each row: filter byte, RGB pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Phone:
    """A texter's phone: sends a text, waits for the replies it causes."""

    def __init__(self, desk: Desk, number: str) -> None:
        self.desk = desk
        self.number = number
        self.seen = 0

    async def say(
        self,
        body: str = "",
        *,
        media: list[tuple[bytes, str]] | None = None,
        extra: dict[str, str] | None = None,
    ) -> str:
        """Text ``body`` (``extra`` form fields added); return every reply it causes, joined."""
        before = await self.desk.scalar(
            "SELECT count(*) FROM outbox WHERE to_phone = :p", p=self.number
        )
        await self.desk.text(body, from_=self.number, media=media or [], extra=extra)

        async def processed() -> bool:
            pending = await self.desk.scalar(
                "SELECT count(*) FROM inbox WHERE processed_at IS NULL"
            )
            return bool(pending == 0)

        await self.desk.eventually(processed, what=f"processing of {body!r}")
        after = await self.desk.scalar(
            "SELECT count(*) FROM outbox WHERE to_phone = :p", p=self.number
        )
        new = await self.desk.fake.wait_for_messages(self.seen + after - before, to=self.number)
        replies = new[self.seen :]
        self.seen = len(new)
        return "\n---\n".join(m.body for m in replies)

    def last_media(self) -> tuple[str, ...]:
        return self.desk.fake.messages_to(self.number)[-1].media_urls


async def at_the_photo_question(desk: Desk) -> Phone:
    """Alice, an account, in the demo's "report an issue" topic, asked for a photo."""
    await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice Example", phone=TEXTER)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("report an issue")
    await phone.say("Laptop will not boot")
    assert "photo" in (await phone.say("4")).lower()
    return phone
