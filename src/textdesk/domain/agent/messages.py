"""What crosses the boundary of the virtual agent: events in, replies and effects out.

These are the only types the services layer and the engine share.  They are plain
frozen dataclasses so a step can be logged, compared in tests and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MediaRef:
    """One attachment of an inbound text, as Twilio announced it (not yet fetched)."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Texter:
    """Who is texting: an account holder, a profile in another service, or a guest."""

    phone: str  # E.164
    user_id: int | None = None
    name: str | None = None
    # Their profile in the user source of another service (a ServiceNow sys_id), when
    # that is where people are kept: known without an account of ours.
    account: str | None = None

    @property
    def is_guest(self) -> bool:
        """Neither an account here nor a profile there: topics that need one refuse."""
        return self.user_id is None and self.account is None


@dataclass(frozen=True)
class InboundText:
    """A text (with any media) the texter sent."""

    body: str
    media: tuple[MediaRef, ...] = ()
    received_at: datetime | None = None


@dataclass(frozen=True)
class Reply:
    """One outbound SMS/MMS: the body as it will be sent, and media keys to attach.

    ``media`` holds keys understood by the media store (e.g. ``demo/serial.png`` or
    ``att/42``); the services layer turns them into signed, expiring URLs.
    """

    body: str
    media: tuple[str, ...] = ()


# --- effects: things the engine asks the outside world to do -----------------
# The engine is pure: when it needs I/O it returns an effect and stops; the service
# runs it and calls ``resume`` with an ``EffectResult``.


@dataclass(frozen=True)
class Effect:
    """Base class of engine requests."""


# The queries a Dynamic Choice's ``source`` may name: ``textdesk topics validate``
# refuses any other, since at run time it could only answer "something went wrong".
RECORD_SOURCES = frozenset({"my_open_incidents"})


@dataclass(frozen=True)
class QueryRecords(Effect):
    """Records for a Dynamic Choice, e.g. ``source="my_open_incidents"``."""

    source: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GetRecord(Effect):
    number: str


@dataclass(frozen=True)
class CreateRecord(Effect):
    fields: dict[str, Any]
    attachments: tuple[str, ...] = ()  # media keys from FetchMedia
    table: str = "incident"


@dataclass(frozen=True)
class UpdateRecord(Effect):
    number: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class AddComment(Effect):
    number: str
    text: str


@dataclass(frozen=True)
class FetchMedia(Effect):
    """Download, decode (images only, byte and pixel caps) and store inbound media."""

    media: tuple[MediaRef, ...]


@dataclass(frozen=True)
class Transfer(Effect):
    """Hand the conversation to a live agent (availability decided outside)."""

    queue: str | None = None
    reason: str = "asked"  # asked | topic | failures | error


@dataclass(frozen=True)
class RefusedMedia:
    """An attachment not kept: what the texter's phone called it, and why (see EffectResult)."""

    content_type: str
    error: str
    limit: int | None = None  # the byte or pixel cap an over-large one passed


@dataclass(frozen=True)
class EffectResult:
    """What running an effect produced.

    ``ok`` false with ``error`` a short texter-safe reason (e.g. "not_image",
    "too_large", "fetch_failed", "no_agent").  ``value`` is effect specific:
    QueryRecords -> list of record dicts; GetRecord/CreateRecord/UpdateRecord/
    AddComment -> the record dict; FetchMedia -> list of stored media keys;
    Transfer -> dict with ``status`` ("queued" | "unavailable" | "out_of_hours")
    and optional ``wait_minutes`` ("assigned" when an agent took it at once).
    A failed FetchMedia with ``error="too_large"`` may give ``{"max_bytes": n}`` as
    value so the texter is told the cap (``too_many_pixels``: ``{"max_pixels": n}``).
    A FetchMedia that kept some attachments lists the others in ``refused``, so the
    texter is told what was not kept.  Values must be JSON-compatible: the engine
    keeps them in the conversation state.
    """

    ok: bool = True
    value: Any = None
    error: str | None = None
    refused: tuple[RefusedMedia, ...] = ()
