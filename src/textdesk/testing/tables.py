"""In-memory tables and the unit of work over them.

The fakes of the repositories keep the rules the SQL keeps (claim order, one unsent
text per recipient at a time, rollback on error), not its locking.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import (
    AsyncIterator,
    Callable,
)
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from textdesk.domain.sender_pauses import Pause
from textdesk.ports import (
    ConversationRow,
    QueueRow,
    StatusUpdate,
    TranscriptEntry,
)

_Tables = TypeVar("_Tables")
_Repositories = TypeVar("_Repositories")
UNSENT = ("pending", "claimed", "in_doubt")


@dataclass
class StoredText:
    """One outbox row of ``FakeTables``."""

    id: int
    to_phone: str
    from_phone: str
    body: str
    media: tuple[str, ...]
    kind: str
    conversation_id: int | None
    created_at: datetime
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None
    twilio_sid: str | None = None
    sent_at: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    updated_at: datetime | None = None  # the last news of it (defaults to created_at)


@dataclass
class StoredHandoff:
    """One hand-off of ``FakeTables``."""

    id: int
    conversation_id: int
    queue_id: int
    status: str = "waiting"
    reason: str = "asked"
    requested_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    offered_to: int | None = None
    offered_at: datetime | None = None
    declined: list[int] = field(default_factory=list)
    agent_id: int | None = None
    accepted_at: datetime | None = None
    last_texter_at: datetime | None = None
    last_agent_at: datetime | None = None
    reminded_at: datetime | None = None
    position_noticed: int | None = None
    position_noticed_at: datetime | None = None


@dataclass
class StoredAgent:
    """One agent of ``FakeTables``: presence, room, queues and Workspace connection."""

    id: int
    queues: set[int]
    presence: str = "available"
    capacity: int = 3
    last_assigned_at: datetime | None = None
    last_seen_at: datetime | None = None


@dataclass
class FakeTables:
    """What the fakes store; a test reads and arranges it directly."""

    outbox: list[StoredText] = field(default_factory=list)
    pauses: dict[str, Pause] = field(default_factory=dict)
    optouts: dict[str, str] = field(default_factory=dict)  # phone -> source
    # Outbox ids the send-time check refuses, with the reason.
    blocked: dict[int, str] = field(default_factory=dict)
    conversations: dict[int, ConversationRow] = field(default_factory=dict)
    transcript: list[TranscriptEntry] = field(default_factory=list)
    handoffs: list[StoredHandoff] = field(default_factory=list)
    agents: dict[int, StoredAgent] = field(default_factory=dict)
    queues: dict[int, QueueRow] = field(default_factory=dict)
    # Each set of (phone, number) conversations locked, and the chats ended as idle.
    locked: list[set[tuple[str, str]]] = field(default_factory=list)
    ended_idle: list[int] = field(default_factory=list)
    callbacks: list[StatusUpdate] = field(default_factory=list)  # as Twilio posted them

    def text(self, outbox_id: int) -> StoredText:
        """The outbox row with this id."""
        return next(t for t in self.outbox if t.id == outbox_id)

    def handoff(self, handoff_id: int) -> StoredHandoff:
        """The hand-off with this id."""
        return next(h for h in self.handoffs if h.id == handoff_id)


class FakeUnitOfWork(Generic[_Tables, _Repositories]):
    """``ports.UnitOfWork`` over in-memory tables (``FakeTables``, or a feature's own
    dataclass of lists): a block that raises leaves them as they were."""

    def __init__(self, tables: _Tables, make: Callable[[_Tables], _Repositories]) -> None:
        self.tables = tables
        self._make = make
        self.commits = 0
        self.rollbacks = 0

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[_Repositories]:
        saved = copy.deepcopy(vars(self.tables))
        try:
            yield self._make(self.tables)
        except BaseException:
            vars(self.tables).update(saved)
            self.rollbacks += 1
            raise
        self.commits += 1
