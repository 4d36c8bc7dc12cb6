"""The seams between use cases and the outside world (structural types)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

from textdesk.domain.delivery import SendResult
from textdesk.domain.events import EffectResult, Texter, Transfer
from textdesk.domain.pausing import Pause
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


# ------------------------------------------------ repositories: sending and live agents
# What the dispatcher, the assigner and the hand-off read and write, one Protocol per
# aggregate; each unit of work hands a use case the repositories of one transaction.
# The SQL adapters are in ``adapters/db/``, the in-memory fakes in ``testing.py``.


class MediaLinks(Protocol):
    """Signed, expiring URLs Twilio fetches a text's attachments from."""

    def url_for(self, key: str) -> str: ...


Repositories_co = TypeVar("Repositories_co", covariant=True)


class UnitOfWork(Protocol[Repositories_co]):
    """Begins transactions, each exposing its repositories."""

    def begin(self) -> AbstractAsyncContextManager[Repositories_co]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        ...


@dataclass(frozen=True)
class NewMessage:
    """A text to queue for the dispatcher."""

    to_phone: str
    from_phone: str
    body: str
    media: tuple[str, ...] = ()
    kind: str = "reply"
    conversation_id: int | None = None


@dataclass(frozen=True)
class OutboxRow:
    """A queued text, as claimed for sending (``attempts`` counts this attempt)."""

    id: int
    to_phone: str
    from_phone: str
    body: str
    media: list[str]
    attempts: int
    kind: str
    queued_at: datetime
    # Set when an earlier attempt's outcome was never recorded: when that attempt began.
    in_doubt_since: datetime | None = None


class OutboxRepository(Protocol):
    """Every text we mean to send, and what became of each attempt."""

    async def enqueue(self, messages: Sequence[NewMessage], now: datetime) -> list[int]:
        """Queue messages for the dispatcher; returns their ids in order."""
        ...

    async def release_expired_claims(self, now: datetime) -> int:
        """Claims whose process died mid-send go back in line, in doubt."""
        ...

    async def claim_due(
        self,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        per_sender: int,
        held: Collection[str] = (),
        probes: Collection[str] = (),
    ) -> list[OutboxRow]:
        """Due texts, the oldest unsent one per recipient, at most ``per_sender`` per number.

        None from the ``held`` numbers, one at most from each of ``probes``.
        """
        ...

    async def mark_accepted(
        self, rows: Sequence[tuple[int, str, str, datetime]], now: datetime
    ) -> None:
        """Twilio took these: (outbox id, MessageSid, status, when it answered)."""
        ...

    async def mark_in_doubt(
        self, rows: Sequence[tuple[int, datetime, str, datetime]], now: datetime
    ) -> None:
        """Ask Twilio again later: (outbox id, next attempt, why, lost attempt's lease end)."""
        ...

    async def mark_retry(
        self, rows: Sequence[tuple[int, datetime, int | None, str | None]], now: datetime
    ) -> None:
        """Back in line at a later time: (outbox id, next attempt, error code, message)."""
        ...

    async def mark_held(self, rows: Sequence[tuple[int, datetime]], now: datetime) -> None:
        """Claimed but not attempted (its number was paused): (outbox id, next attempt)."""
        ...

    async def mark_failed(
        self, rows: Sequence[tuple[int, int | None, str | None]], now: datetime
    ) -> None:
        """Given up: (outbox id, error code, message)."""
        ...

    async def mark_canceled(self, rows: Sequence[tuple[int, str]], now: datetime) -> None:
        """Not sent after all, by our own decision at send time: (outbox id, reason)."""
        ...

    async def fail_expired(
        self, number: str, *, queued_before: datetime, message: str, now: datetime
    ) -> int:
        """Give up a number's waiting texts queued before ``queued_before``; how many."""
        ...


class OptOutRepository(Protocol):
    """Numbers the carrier reports as opted out (21610)."""

    async def mark_opted_out(self, phones: Sequence[str], now: datetime, source: str) -> None: ...


class SenderPauseRepository(Protocol):
    """Paused sender numbers, shared by every dispatcher (rule: ``domain/pausing.py``)."""

    async def load(self) -> dict[str, Pause]:
        """Every paused number (usually none)."""
        ...

    async def save(self, pause: Pause, now: datetime) -> None:
        """Pause ``pause.number`` (or extend its pause)."""
        ...

    async def take_probe(self, number: str, *, now: datetime, hold_until: datetime) -> bool:
        """Claim the probe of a number whose pause is over; False if another process has it."""
        ...

    async def return_probe(self, number: str, now: datetime) -> None:
        """A probe taken but not used: the next claim may take it."""
        ...

    async def resume(self, number: str, now: datetime) -> bool:
        """Lift a pause and make the number's backed-off texts due now; whether one was lifted."""
        ...


class SendChecks(Protocol):
    """The last check before a claimed text goes out."""

    async def blocked(self, rows: Sequence[OutboxRow]) -> dict[int, str]:
        """``{outbox id: reason}`` for the texts that must not be sent after all."""
        ...


class SendingRepositories(Protocol):
    """What one dispatcher transaction reads and writes."""

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def optouts(self) -> OptOutRepository: ...

    @property
    def pauses(self) -> SenderPauseRepository: ...

    @property
    def checks(self) -> SendChecks: ...
