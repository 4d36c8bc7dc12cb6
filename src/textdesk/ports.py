"""The seams between use cases and the outside world (structural types)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from textdesk.domain.delivery import SendResult
from textdesk.domain.events import EffectResult, Texter, Transfer
from textdesk.domain.records import NewRecord, Record


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


WorkspaceEventType = Literal["conversation", "status", "queue", "offer", "ended", "reminder"]


@dataclass(frozen=True, slots=True)
class WorkspaceEvent:
    """A hint to the open Workspaces: this conversation changed, read it again.

    ``conversation``: a text or reply was added; ``status``: a sent text's status
    moved; ``queue``: who holds or is offered the chat changed; ``offer``,
    ``reminder``: for the agent named; ``ended``: the chat is over.
    """

    type: WorkspaceEventType
    conversation_id: int


@dataclass(frozen=True, slots=True)
class AgentEvent(WorkspaceEvent):
    """An event about one agent: the one who acted, or who is offered or reminded."""

    agent_id: int | None


class EventBus(Protocol):
    """Live updates for the Agent Workspace (new texts, statuses, queue changes)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: WorkspaceEvent) -> None: ...

    def publish_nowait(self, event: WorkspaceEvent) -> None:
        """Publish from synchronous code (a callback after commit)."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[WorkspaceEvent]]: ...


# --- what the virtual agent's effects reach (``services.effects.EffectRunner``) -------
# One set per turn, bound to it: in production the turn's transaction and the
# attachments fetched before it; under ``textdesk topics test`` the script world.


class RecordStore(Protocol):
    """The records a topic reads and writes: the built-in store (or, later, another)."""

    async def get(self, number: str) -> Record | None:
        """The record numbered ``number`` (any case), whoever it belongs to."""
        ...

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        """Open records naming the account or the phone, newest first, at most ``limit``."""
        ...

    async def create(self, record: NewRecord, *, now: datetime) -> Record: ...

    async def update(
        self, number: str, fields: Mapping[str, Any], *, now: datetime
    ) -> Record | None:
        """Apply ``fields`` (``domain.records.changes``, which may raise
        ``InvalidRecord``); None when there is no such record."""
        ...

    async def add_comment(
        self, number: str, *, author: str, body: str, now: datetime
    ) -> Record | None:
        """A public comment; None when there is no such record."""
        ...


class RecordViewer(Protocol):
    """A record as a texter is shown it: its link, its dates in the desk's timezone."""

    def view(self, record: Record) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Attachment:
    """One attachment of the turn's text once fetched: kept under ``key``, or refused."""

    content_type: str  # as the texter's phone labelled it
    key: str | None = None
    error: str | None = None  # not_image | too_large | too_many_pixels | fetch_failed …


class TurnMedia(Protocol):
    """The attachments of the text being answered, fetched and checked."""

    async def fetch(self) -> Sequence[Attachment]: ...


class TransferDesk(Protocol):
    """Decides whether a live agent can take the conversation (queued, or why not)."""

    async def request(self, transfer: Transfer) -> EffectResult: ...


@dataclass(frozen=True)
class EffectScope:
    """Everything one turn's effects may reach, and on whose behalf."""

    texter: Texter
    now: datetime
    records: RecordStore
    media: TurnMedia
    agents: TransferDesk
