"""Fakes of the ports, for tests and for ``textdesk topics test``; and clocks.

The Twilio stand-in is ``textdesk.adapters.twilio.sandbox`` (it is a real HTTP
server, used by the sandbox mode too), and serving an app on loopback is
``textdesk.adapters.local_server``.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections import deque
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from textdesk.domain.agent.messages import EffectResult, Transfer
from textdesk.domain.delivery import LookupFailed, SendResult
from textdesk.domain.live_agents import OPEN_STATUSES, AgentLoad
from textdesk.domain.records import Record
from textdesk.domain.sender_pauses import Pause
from textdesk.ports import (
    ActiveChat,
    Attachment,
    ConversationRow,
    LapsedOffer,
    NewMessage,
    OpenHandoff,
    OutboxRow,
    QueueRow,
    TranscriptEntry,
    WaitingHandoff,
)

# -------------------------------------------------------------- effect ports
# Fakes of what ``channel.effects.EffectRunner`` reaches through ``ports.EffectScope``.
# The record store's in-memory twin is ``script_world.MemoryRecords``, the one
# ``textdesk topics test`` runs on, so it is not repeated here.


class LinkedViews:
    """A ``RecordViewer``: records as texters see them, linked by their number."""

    def view(self, record: Record) -> dict[str, Any]:
        return record.as_dict(url=f"https://desk.example/r/{record.number}")


@dataclass
class FixedMedia:
    """A ``TurnMedia``: the text's attachments, as fetched before its turn."""

    attachments: Sequence[Attachment] = ()

    async def fetch(self) -> Sequence[Attachment]:
        return self.attachments


@dataclass
class RecordingTransferDesk:
    """A ``TransferDesk`` that answers ``status`` and keeps every transfer asked of it."""

    status: str = "queued"
    asked: list[Transfer] = field(default_factory=list)

    async def request(self, transfer: Transfer) -> EffectResult:
        self.asked.append(transfer)
        return EffectResult(value={"status": self.status})


# --------------------------------------------------------------------- clock


class FixedClock:
    """A ``Clock`` that stands still until told to move; always UTC and tz-aware."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current fake time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards; use set()")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (tz-aware), in either direction."""
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        with self._lock:
            self._now = moment.astimezone(UTC)


# --------------------------------------- repositories: sending and live agents
# In-memory fakes of ``ports.UnitOfWork`` and the repositories of the dispatcher, the
# assigner and the hand-off: use cases unit-tested in milliseconds, without a database.
# They keep the rules the SQL keeps (claim order, one unsent text per recipient at a
# time, rollback on error), not its locking.

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

    def text(self, outbox_id: int) -> StoredText:
        """The outbox row with this id."""
        return next(t for t in self.outbox if t.id == outbox_id)

    def handoff(self, handoff_id: int) -> StoredHandoff:
        """The hand-off with this id."""
        return next(h for h in self.handoffs if h.id == handoff_id)


class FakeUnitOfWork(Generic[_Repositories]):
    """``ports.UnitOfWork`` over ``FakeTables``: a block that raises leaves them as they were."""

    def __init__(self, tables: FakeTables, make: Callable[[FakeTables], _Repositories]) -> None:
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


class FakeOutbox:
    """``ports.OutboxRepository`` on ``FakeTables.outbox``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    def _rows(self, ids: Iterable[int]) -> Iterator[StoredText]:
        wanted = set(ids)
        return (t for t in self._t.outbox if t.id in wanted)

    async def enqueue(self, messages: Sequence[NewMessage], now: datetime) -> list[int]:
        ids: list[int] = []
        for m in messages:
            outbox_id = max((t.id for t in self._t.outbox), default=0) + 1
            self._t.outbox.append(
                StoredText(
                    id=outbox_id,
                    to_phone=m.to_phone,
                    from_phone=m.from_phone,
                    body=m.body,
                    media=m.media,
                    kind=m.kind,
                    conversation_id=m.conversation_id,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            ids.append(outbox_id)
        return ids

    async def release_expired_claims(self, now: datetime) -> int:
        lapsed = [
            t
            for t in self._t.outbox
            if t.status == "claimed" and t.claimed_until is not None and t.claimed_until < now
        ]
        for t in lapsed:
            t.status = "in_doubt"
        return len(lapsed)

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
        first_unsent: dict[str, int] = {}
        for t in sorted(self._t.outbox, key=lambda t: t.id):
            if t.status in UNSENT:
                first_unsent.setdefault(t.to_phone, t.id)
        due = [
            t
            for t in sorted(self._t.outbox, key=lambda t: t.id)
            if t.status in ("pending", "in_doubt")
            and t.next_attempt_at is not None
            and t.next_attempt_at <= now
            and first_unsent[t.to_phone] == t.id
            and t.from_phone not in held
        ][:limit]
        chosen: list[OutboxRow] = []
        per_number: dict[str, int] = {}
        for t in due:
            allowed = 1 if t.from_phone in probes else per_sender
            if per_number.get(t.from_phone, 0) >= allowed:
                continue
            per_number[t.from_phone] = per_number.get(t.from_phone, 0) + 1
            in_doubt = t.status == "in_doubt" and t.claimed_until is not None
            chosen.append(
                OutboxRow(
                    id=t.id,
                    to_phone=t.to_phone,
                    from_phone=t.from_phone,
                    body=t.body,
                    media=list(t.media),
                    attempts=t.attempts + 1,
                    kind=t.kind,
                    queued_at=t.created_at,
                    in_doubt_since=t.claimed_until - lease
                    if in_doubt and t.claimed_until
                    else None,
                )
            )
            t.status, t.attempts, t.claimed_until = "claimed", t.attempts + 1, now + lease
        return chosen

    async def mark_accepted(
        self, rows: Sequence[tuple[int, str, str, datetime]], now: datetime
    ) -> None:
        for outbox_id, sid, status, sent_at in rows:
            for t in self._rows([outbox_id]):
                t.status, t.twilio_sid, t.sent_at = status or "queued", sid, sent_at
                t.claimed_until, t.error_code, t.error_message = None, None, None

    async def mark_in_doubt(
        self, rows: Sequence[tuple[int, datetime, str, datetime]], now: datetime
    ) -> None:
        for outbox_id, when, message, lost_until in rows:
            for t in self._rows([outbox_id]):
                t.status, t.next_attempt_at = "in_doubt", when
                t.claimed_until, t.error_message = lost_until, message

    async def mark_retry(
        self, rows: Sequence[tuple[int, datetime, int | None, str | None]], now: datetime
    ) -> None:
        for outbox_id, when, code, message in rows:
            for t in self._rows([outbox_id]):
                t.status, t.next_attempt_at, t.claimed_until = "pending", when, None
                t.error_code, t.error_message = code, message

    async def mark_held(self, rows: Sequence[tuple[int, datetime]], now: datetime) -> None:
        for outbox_id, when in rows:
            for t in self._rows([outbox_id]):
                t.status, t.attempts, t.next_attempt_at = "pending", t.attempts - 1, when
                t.claimed_until = None

    async def mark_failed(
        self, rows: Sequence[tuple[int, int | None, str | None]], now: datetime
    ) -> None:
        for outbox_id, code, message in rows:
            for t in self._rows([outbox_id]):
                t.status, t.claimed_until = "failed", None
                t.error_code, t.error_message = code, message

    async def mark_canceled(self, rows: Sequence[tuple[int, str]], now: datetime) -> None:
        for outbox_id, reason in rows:
            for t in self._rows([outbox_id]):
                t.status, t.claimed_until, t.error_message = "canceled", None, reason

    async def fail_expired(
        self, number: str, *, queued_before: datetime, message: str, now: datetime
    ) -> int:
        expired = [
            t
            for t in self._t.outbox
            if t.from_phone == number and t.status == "pending" and t.created_at < queued_before
        ]
        for t in expired:
            t.status, t.claimed_until, t.error_message = "failed", None, message
        return len(expired)


class FakeOptOuts:
    """``ports.OptOutRepository`` on ``FakeTables.optouts``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def mark_opted_out(self, phones: Sequence[str], now: datetime, source: str) -> None:
        for phone in phones:
            self._t.optouts[phone] = source


class FakeSenderPauses:
    """``ports.SenderPauseRepository`` on ``FakeTables.pauses``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def load(self) -> dict[str, Pause]:
        return dict(self._t.pauses)

    async def save(self, pause: Pause, now: datetime) -> None:
        self._t.pauses[pause.number] = pause

    async def take_probe(self, number: str, *, now: datetime, hold_until: datetime) -> bool:
        pause = self._t.pauses.get(number)
        if pause is None or pause.until > now:
            return False
        self._t.pauses[number] = replace(pause, until=hold_until)
        return True

    async def return_probe(self, number: str, now: datetime) -> None:
        if number in self._t.pauses:
            self._t.pauses[number] = replace(self._t.pauses[number], until=now)

    async def resume(self, number: str, now: datetime) -> bool:
        if self._t.pauses.pop(number, None) is None:
            return False
        for t in self._t.outbox:
            if (
                t.from_phone == number
                and t.status in ("pending", "in_doubt")
                and t.next_attempt_at is not None
                and t.next_attempt_at > now
            ):
                t.next_attempt_at = now
        return True


class FakeSendChecks:
    """``ports.SendChecks``: refuses the outbox ids in ``FakeTables.blocked``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def blocked(self, rows: Sequence[OutboxRow]) -> dict[int, str]:
        return {r.id: self._t.blocked[r.id] for r in rows if r.id in self._t.blocked}


class FakeSending:
    """``ports.SendingRepositories`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.outbox = FakeOutbox(tables)
        self.optouts = FakeOptOuts(tables)
        self.pauses = FakeSenderPauses(tables)
        self.checks = FakeSendChecks(tables)


def fake_sending(tables: FakeTables | None = None) -> FakeUnitOfWork[FakeSending]:
    """The dispatcher's unit of work, in memory."""
    return FakeUnitOfWork(tables or FakeTables(), FakeSending)


@dataclass(frozen=True)
class GatewayCall:
    """One send ``FakeGateway`` was asked for."""

    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]


class FakeGateway:
    """``ports.SmsGateway`` in memory: answers sends in the order ``answers`` gives.

    With no answer queued a send is accepted.  ``find_sent`` finds an accepted send
    of the same text, or raises ``lookup_error`` when one is set.
    """

    def __init__(self) -> None:
        self.answers: deque[SendResult] = deque()
        self.calls: list[GatewayCall] = []
        self.lookups: list[tuple[str, str, str]] = []
        self.lookup_error: LookupFailed | None = None
        self._accepted: dict[tuple[str, str, str], SendResult] = {}
        self._statuses: dict[str, tuple[str, int | None]] = {}

    def accept_earlier(self, *, to: str, from_: str, body: str, sid: str) -> None:
        """Twilio took this text already (an attempt whose answer was lost)."""
        result = SendResult(201, sid=sid, status="queued")
        self._accepted[(to, from_, body)] = result
        self._statuses[sid] = ("queued", None)

    async def send(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        media_urls: Sequence[str],
        status_callback: str | None,
    ) -> SendResult:
        self.calls.append(GatewayCall(to, from_, body, tuple(media_urls)))
        if self.answers:
            return self.answers.popleft()
        sid = f"SM{len(self.calls):032x}"
        self.accept_earlier(to=to, from_=from_, body=body, sid=sid)
        return self._accepted[(to, from_, body)]

    async def find_sent(
        self, *, to: str, from_: str, body: str, media_count: int, since: datetime
    ) -> SendResult | None:
        self.lookups.append((to, from_, body))
        if self.lookup_error is not None:
            raise self.lookup_error
        return self._accepted.get((to, from_, body))

    async def status_of(self, sid: str) -> tuple[str, int | None]:
        if sid not in self._statuses:
            raise LookupFailed(f"no message {sid}")
        return self._statuses[sid]


class FakePacer:
    """``ports.Pacer`` that never waits, and notes each slot taken, in order."""

    def __init__(self) -> None:
        self.reserved: list[str] = []

    async def reserve(self, number: str) -> float:
        self.reserved.append(number)
        return 0.0


class FakeMediaLinks:
    """``ports.MediaLinks`` with plain, unsigned URLs."""

    def url_for(self, key: str) -> str:
        return f"https://media.invalid/{key}"


class FakeConversations:
    """``ports.ConversationRepository`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def get(self, conversation_id: int) -> ConversationRow | None:
        return self._t.conversations.get(conversation_id)

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None:
        self._t.transcript.extend(entries)

    async def lock(self, which: Collection[tuple[str, str]]) -> None:
        self._t.locked.append(set(which))


class FakeHandoffs:
    """``ports.HandoffRepository`` on ``FakeTables.handoffs``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        open_ = [
            h
            for h in self._t.handoffs
            if h.conversation_id == conversation_id and h.status in OPEN_STATUSES
        ]
        if not open_:
            return None
        latest = max(open_, key=lambda h: h.id)
        return OpenHandoff(latest.id, latest.queue_id, latest.status)

    async def open(self, conversation_id: int, queue_id: int, reason: str, now: datetime) -> int:
        handoff_id = max((h.id for h in self._t.handoffs), default=0) + 1
        self._t.handoffs.append(
            StoredHandoff(
                handoff_id,
                conversation_id,
                queue_id,
                reason=reason,
                requested_at=now,
                last_texter_at=now,
            )
        )
        return handoff_id

    async def position_in_line(self, queue_id: int, handoff_id: int) -> int:
        return sum(
            1
            for h in self._t.handoffs
            if h.queue_id == queue_id and h.status == "waiting" and h.id <= handoff_id
        )

    async def texter_spoke(self, conversation_id: int, now: datetime) -> None:
        for h in self._t.handoffs:
            if h.conversation_id == conversation_id and h.status in OPEN_STATUSES:
                h.last_texter_at = now

    async def close(self, handoff_id: int, status: str, now: datetime, *, ended_by: str) -> None:
        h = self._t.handoff(handoff_id)
        h.status, h.ended_at, h.ended_by, h.offered_to = status, now, ended_by, None

    def _unreachable(self, agent_id: int | None, seen_since: datetime) -> bool:
        agent = self._t.agents.get(agent_id) if agent_id is not None else None
        return agent is None or agent.last_seen_at is None or agent.last_seen_at < seen_since

    async def lapsed_offers(
        self, *, offered_before: datetime, seen_since: datetime
    ) -> list[LapsedOffer]:
        return [
            LapsedOffer(h.id, h.conversation_id, h.offered_to, tuple(h.declined))
            for h in self._t.handoffs
            if h.status == "offered"
            and h.offered_to is not None
            and (
                (h.offered_at is not None and h.offered_at < offered_before)
                or self._unreachable(h.offered_to, seen_since)
            )
        ]

    async def back_in_line(self, handoff_id: int, declined: Sequence[int]) -> None:
        h = self._t.handoff(handoff_id)
        h.status, h.offered_to, h.offered_at, h.declined = "waiting", None, None, list(declined)

    async def waiting(self) -> list[WaitingHandoff]:
        return [
            WaitingHandoff(
                h.id,
                h.conversation_id,
                h.queue_id,
                tuple(h.declined),
                h.position_noticed,
                h.position_noticed_at,
            )
            for h in sorted(self._t.handoffs, key=lambda h: h.id)
            if h.status == "waiting"
        ]

    async def offer(self, handoff_id: int, agent_id: int, now: datetime) -> None:
        h = self._t.handoff(handoff_id)
        h.status, h.offered_to, h.offered_at = "offered", agent_id, now

    async def active_chats(self) -> list[ActiveChat]:
        chats: list[ActiveChat] = []
        for h in self._t.handoffs:
            if h.status != "active":
                continue
            conv = self._t.conversations[h.conversation_id]
            assert h.agent_id is not None
            chats.append(
                ActiveChat(
                    h.id,
                    h.conversation_id,
                    h.agent_id,
                    conv.phone,
                    conv.number,
                    h.accepted_at,
                    h.last_texter_at,
                    h.last_agent_at,
                    h.reminded_at,
                )
            )
        return chats

    async def note_reminded(self, handoff_id: int, now: datetime) -> None:
        self._t.handoff(handoff_id).reminded_at = now

    async def note_position(self, handoff_id: int, position: int, now: datetime) -> None:
        h = self._t.handoff(handoff_id)
        h.position_noticed, h.position_noticed_at = position, now


class FakeAgents:
    """``ports.AgentRepository`` on ``FakeTables.agents``: busy = active chats + offers."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.name == name), None)

    async def default_queue(self) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.is_default), None)

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        def busy(agent_id: int) -> int:
            return sum(
                1
                for h in self._t.handoffs
                if (h.status == "active" and h.agent_id == agent_id)
                or (h.status == "offered" and h.offered_to == agent_id)
            )

        return [
            AgentLoad(
                a.id,
                a.presence,
                a.capacity,
                busy(a.id),
                a.last_assigned_at,
                reachable=a.last_seen_at is not None and a.last_seen_at >= seen_since,
            )
            for a in self._t.agents.values()
            if queue_id in a.queues
        ]

    async def mark_assigned(self, agent_ids: Sequence[int], now: datetime) -> None:
        for agent_id in agent_ids:
            self._t.agents[agent_id].last_assigned_at = now


class FakeChatCloser:
    """``ports.ChatCloser``: ends the hand-off and notes the conversation in ``ended_idle``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def end_idle(self, conversation_id: int, now: datetime) -> None:
        for h in self._t.handoffs:
            if h.conversation_id == conversation_id and h.status == "active":
                h.status = "ended"
        self._t.ended_idle.append(conversation_id)


class FakeAssignment:
    """``ports.AssignmentRepositories`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.handoffs = FakeHandoffs(tables)
        self.agents = FakeAgents(tables)
        self.conversations = FakeConversations(tables)
        self.outbox = FakeOutbox(tables)
        self.chats = FakeChatCloser(tables)


def fake_assignment(tables: FakeTables | None = None) -> FakeUnitOfWork[FakeAssignment]:
    """The assigner's unit of work, in memory."""
    return FakeUnitOfWork(tables or FakeTables(), FakeAssignment)


class FakeHandoffRepositories:
    """``ports.HandoffRepositories`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.handoffs = FakeHandoffs(tables)
        self.agents = FakeAgents(tables)
        self.conversations = FakeConversations(tables)
