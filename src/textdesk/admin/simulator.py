"""The demo's phone simulator: who may text which number, and the phone's thread as stored.

It sits with the demo (``admin/demo.py`` seeds the accounts and records it texts about):
it exists only in sandbox mode, reads the inbox and outbox rather than the sandbox's
memory, so it shows the same after a restart and from every process, and never writes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from textdesk.domain.sms import is_e164
from textdesk.ports import (
    MediaLinks,
    ReadingUnitOfWork,
    ReceivedText,
    SentText,
    SimulatorRepositories,
    StoredMedia,
    UserRow,
)

# Texts of each side the thread shows, and the window of ``delivered`` without a cursor.
THREAD_LIMIT = 200
# Formats a browser renders without running anything; everything else is
# served as a download, so an uploaded HTML or SVG file cannot script our origin.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})

# Why textdesk did not keep a file, in words (the inbox keeps the short code).
_PROBLEMS = {
    "not_image": "it is not a photo (only JPEG, PNG, GIF and WebP images are kept)",
    "too_large": "it is larger than textdesk accepts",
    "too_many_pixels": "the picture is too big (too many pixels)",
    "unreadable": "the image is damaged or cut short",
    "fetch_failed": "it could not be downloaded from Twilio",
    "forbidden_origin": "its address is not one of Twilio's, so it was not downloaded",
}


@dataclass(frozen=True)
class Attachment:
    """A file on a text; ``inline`` ones are shown as images, the rest as links."""

    url: str
    content_type: str
    inline: bool
    problem: str | None = None

    @property
    def problem_text(self) -> str | None:
        """Why it was not kept, as a person says it."""
        if self.problem is None:
            return None
        return _PROBLEMS.get(self.problem, "textdesk could not use it")


@dataclass(frozen=True)
class Bubble:
    """One text on the simulated phone's screen."""

    key: str
    side: Literal["texter", "bot"]
    body: str
    at: datetime
    media: tuple[Attachment, ...] = ()
    status: str | None = None
    detail: str = ""
    via: str | None = None


@dataclass(frozen=True)
class Thread:
    """The phone's screen, and a version that changes whenever what it shows does."""

    bubbles: list[Bubble]
    version: str


@dataclass(frozen=True)
class Setup:
    """Who the simulator texts as, and which of our numbers it texts."""

    accounts: list[UserRow]  # the accounts with a phone, as added
    numbers: list[str]  # our conversational numbers
    phone: str
    number: str  # empty when there is no conversational number
    guest: str  # a fresh guest phone, nobody's
    returning_guest: str | None  # ``phone`` when it is a guest's


@dataclass(frozen=True)
class Delivered:
    """Texts Twilio (the sandbox) accepted for a phone, and the cursor to ask after next."""

    sent: list[SentText]
    cursor: int
    numbers: list[str]


@dataclass(frozen=True)
class TexterFile:
    """A file a simulated texter sent: as textdesk stored it, or where the sandbox holds it."""

    stored: StoredMedia | None
    url: str


class NoSuchAttachment(LookupError):
    """The text does not exist or has no file at that index."""


@dataclass(frozen=True)
class PhoneSimulator:
    uow: ReadingUnitOfWork[SimulatorRepositories]
    media: MediaLinks
    # Draws the guest numbers: ``secrets.randbelow`` unless a test fixes it.
    randbelow: Callable[[int], int] = field(default=secrets.randbelow)

    async def setup(self, *, phone: str, number: str) -> Setup:
        """The pickers: ``phone`` and ``number`` as asked when they can be, else the
        first account (or a new guest) and our first conversational number."""
        async with self.uow.read() as repos:
            accounts = [u for u in await repos.users.all() if u.phone]
            numbers = [n.phone for n in await repos.numbers.all() if n.purpose == "conversational"]
        known = {u.phone for u in accounts if u.phone}
        guest = self._guest_phone(known)
        if not is_e164(phone):
            phone = (accounts[0].phone or guest) if accounts else guest
        number = number if number in numbers else (numbers[0] if numbers else "")
        returning = phone if phone not in known else None
        return Setup(accounts, numbers, phone, number, guest, returning)

    def _guest_phone(self, taken: set[str]) -> str:
        # +1 555-02xx-xxxx: fictional like the demo accounts (555-0123-...), never theirs.
        while True:
            phone = f"+155502{self.randbelow(100_000):05d}"
            if phone not in taken:
                return phone

    async def thread(self, *, phone: str, number: str) -> Thread:
        """What ``phone`` sent to ``number`` and every text textdesk sent it, as stored."""
        async with self.uow.read() as repos:
            received = await repos.threads.received_from(
                phone=phone, number=number, limit=THREAD_LIMIT
            )
            sent = await repos.threads.sent_to(phone=phone, limit=THREAD_LIMIT)
        bubbles = [_texter_bubble(r) for r in received]
        # Texts from our other numbers (notifications) show too, labelled, as they
        # matter to whoever tries the simulator; a real phone would file them apart.
        bubbles += [self._bot_bubble(m, number) for m in sent]
        bubbles.sort(key=lambda b: (b.at, b.side == "bot"))
        # Media problems are filled in after the text arrives, so they are part of the version.
        fingerprint = "|".join(
            f"{b.key}:{b.status}:" + ",".join(str(a.problem) for a in b.media) for b in bubbles
        )
        return Thread(bubbles, hashlib.sha256(fingerprint.encode()).hexdigest()[:16])

    def _bot_bubble(self, text: SentText, number: str) -> Bubble:
        details = []
        if text.segments > 1:
            details.append(f"{text.segments} segments")
        if text.body and text.encoding == "UCS-2":
            details.append("UCS-2")
        if text.error_code is not None:
            details.append(f"error {text.error_code}")
        images = tuple(
            Attachment(self.media.url_for(key), "image", inline=True) for key in text.media
        )
        return Bubble(
            f"out-{text.id}",
            "bot",
            text.body,
            text.at,
            images,
            status=text.status,
            detail=" · ".join(details),
            via=text.from_phone if text.from_phone != number else None,
        )

    async def delivered(self, *, phone: str, after: int | None) -> Delivered:
        """Texts accepted for ``phone`` after the cursor ``after``.

        Without ``after``: the latest ones, and the cursor is "from now on". The cursor
        is an outbox id, so it means the same in every process and after a restart.
        """
        async with self.uow.read() as repos:
            numbers = [n.phone for n in await repos.numbers.all() if n.purpose == "conversational"]
            if after is None:
                cursor = await repos.threads.last_delivered_id(phone=phone)
                sent = await repos.threads.delivered_to(
                    phone=phone, after=max(0, cursor - THREAD_LIMIT), limit=THREAD_LIMIT
                )
            else:
                sent = await repos.threads.delivered_to(
                    phone=phone, after=after, limit=THREAD_LIMIT
                )
                cursor = sent[-1].id if sent else after
        return Delivered(sent, cursor, numbers)

    async def texter_file(self, message_sid: str, index: int) -> TexterFile:
        """The ``index``-th file of a simulated texter's text.

        Photos textdesk kept are in its database (so they survive a restart); a file it
        refused, such as a PDF, is only where the sandbox holds it while it runs.
        Raises ``NoSuchAttachment``.
        """
        async with self.uow.read() as repos:
            items = await repos.threads.media_of(message_sid)
            if not items or not 0 <= index < len(items):
                raise NoSuchAttachment("no such attachment")
            key = items[index].get("key")
            # Stored once textdesk fetched it: served from the database, like any photo.
            stored = await repos.images.load(str(key)) if key else None
        return TexterFile(stored, str(items[index].get("url", "")))


def _texter_bubble(text: ReceivedText) -> Bubble:
    media = tuple(
        Attachment(
            url=f"/simulator/media/{text.message_sid}/{index}",
            content_type=str(item.get("content_type", "")),
            inline=str(item.get("content_type", "")) in INLINE_TYPES,
            problem=item.get("error"),
        )
        for index, item in enumerate(text.media)
    )
    return Bubble(text.message_sid, "texter", text.body, text.at, media)
