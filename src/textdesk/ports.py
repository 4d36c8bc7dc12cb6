"""The seams between use cases and the outside world (structural types)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from textdesk.domain.delivery import SendResult


class Clock(Protocol):
    def now(self) -> datetime: ...


class SmsGateway(Protocol):
    """Sends one text through Twilio's Messages API (or the stand-in)."""

    async def send(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        media_urls: Sequence[str],
        status_callback: str | None,
    ) -> SendResult: ...

    async def find_sent(
        self, *, to: str, from_: str, body: str, media_count: int, since: datetime
    ) -> SendResult | None:
        """An earlier send of this text accepted since ``since``; None when there is none.

        Asked before retrying a send whose outcome we never recorded (the process
        died mid-call), so the texter does not get it twice.  Raises
        ``domain.delivery.LookupFailed`` when the answer is unknown.
        """
        ...

    async def status_of(self, sid: str) -> tuple[str, int | None]:
        """A sent message's current status and error code, as Twilio has it now.

        Raises ``domain.delivery.LookupFailed`` when Twilio cannot say (404, 5xx, no answer).
        """
        ...


@dataclass(frozen=True)
class FetchedMedia:
    """An inbound attachment after download and verification."""

    key: str | None  # stored media key when accepted
    content_type: str | None  # as decoded from the bytes
    size: int
    error: str | None  # not_image | too_large | fetch_failed | forbidden_origin


class MediaFetcher(Protocol):
    async def fetch(self, url: str) -> tuple[bytes | None, str | None]:
        """Download ``url``; return (bytes, None) or (None, error)."""
        ...


class Pacer(Protocol):
    """Spaces sends from one number (Twilio queues, then fails, what comes too fast)."""

    async def reserve(self, number: str) -> float:
        """Take the next send slot of ``number``; return the seconds to wait for it."""
        ...


class EventBus(Protocol):
    """Live updates for the Agent Workspace (new texts, statuses, queue changes)."""

    async def publish(self, event: dict[str, Any]) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]: ...
