"""The seams between use cases and the outside world (structural types)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, Protocol, TypeVar

from textdesk.domain.agent.engine import Engine
from textdesk.domain.agent.messages import EffectResult, Texter, Transfer
from textdesk.domain.delivery import SendResult
from textdesk.domain.instance_changes import ChangedIncident, InstanceComment, PollClaim, Snapshot
from textdesk.domain.live_agents import AgentLoad
from textdesk.domain.records import NewRecord, Record
from textdesk.domain.sender_pauses import Pause
from textdesk.domain.servicenow_events import InstanceEvent
from textdesk.domain.subscriptions import Wording
from textdesk.domain.twilio_forms import InboundSms


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


# --- what the virtual agent's effects reach (``channel.effects.EffectRunner``) -------
# One set per turn, bound to it: in production the turn's transaction and the
# attachments fetched before it; under ``textdesk topics test`` the script world.


class RecordStore(Protocol):
    """The records a topic reads and writes: the built-in store (or, later, another)."""

    @property
    def remote(self) -> bool:
        """True when its calls reach another service: they never run while a turn's
        transaction is open (``domain/agent/awaiting.py``); False for the built-in store,
        which works in the turn's transaction."""
        ...

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
        self, number: str, *, author: str, body: str, now: datetime, may_repeat: bool = False
    ) -> Record | None:
        """A public comment; None when there is no such record.

        ``may_repeat``: this very call may have been made before and carried out (the
        inbox loop makes a remote effect's call again after a failure whose answer
        was lost, a crash, or when its result could not be used): a store in another
        service then does not add the same comment a second time.
        """
        ...


class StaffRecordLinks(Protocol):
    """Where staff open a record kept in another service: its form there."""

    def url_of(self, record: Record) -> str | None: ...


class RecordViewer(Protocol):
    """A record as a texter is shown it: its link, its dates in the desk's timezone."""

    def view(self, record: Record) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PendingRecord:
    """A record a texter reported while the remote store did not answer.

    Kept in the turn's transaction, and made by ``records.backlog`` once the store
    is back, with ``key`` (the turn's effect key) so it is made once; the texter
    is then texted ``message``, a template that sees the new record as ``record``.
    """

    key: str
    record: NewRecord
    phone: str  # the texter's
    number: str  # ours, that they texted
    conversation_id: int | None
    message: str
    attempts: int = 0  # failed tries since it was kept
    id: int = 0  # its row, once kept


class RecordBacklog(Protocol):
    """Reports waiting for a remote record store to be back."""

    async def keep(self, pending: PendingRecord, now: datetime) -> None:
        """Keep ``pending``; nothing when one with its key is kept already."""
        ...

    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> list[PendingRecord]:
        """Those due for a try, oldest first, each held for this caller until ``until``."""
        ...

    async def made(self, pending_id: int, number: str, now: datetime) -> None:
        """It exists now, as record ``number``."""
        ...

    async def retry_at(self, pending_id: int, when: datetime, error: str) -> None:
        """A try failed: try again at ``when``."""
        ...

    async def waiting(self) -> int:
        """How many are not made yet."""
        ...


class RecordBacklogRepositories(Protocol):
    """What making a kept report writes: the backlog, the text, its transcript line."""

    @property
    def backlog(self) -> RecordBacklog: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def transcripts(self) -> Transcripts: ...


class Transcripts(Protocol):
    """Lines added to conversations' transcripts."""

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None: ...


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
    # The effect's key when it runs on a remote store (``domain/agent/awaiting.py``):
    # a record it creates carries it, so a retried create finds the first one, and a
    # comment is added with ``may_repeat``.
    key: str | None = None


# ------------------------------------------------ repositories: sending and live agents
# What the dispatcher, the assigner and the hand-off read and write, one Protocol per
# aggregate; each unit of work hands a use case the repositories of one transaction.
# The SQL adapters are in ``adapters/db/``, the in-memory fakes in ``testing/``.


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
    """Paused sender numbers, shared by every dispatcher (rule: ``domain/sender_pauses.py``)."""

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


@dataclass
class ConversationRow:
    """One conversation (a texter and one of our numbers)."""

    id: int
    phone: str
    number: str
    user_id: int | None
    mode: str
    state: dict[str, Any] | None


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of a conversation's transcript."""

    conversation_id: int
    author: str
    body: str
    media: tuple[str, ...] = ()
    inbox_id: int | None = None
    outbox_id: int | None = None
    agent_id: int | None = None


class ConversationRepository(Protocol):
    """Conversations and their transcripts."""

    async def get(self, conversation_id: int) -> ConversationRow | None: ...

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None:
        """Add lines to transcripts."""
        ...

    async def lock(self, which: Collection[tuple[str, str]]) -> None:
        """Wait for the locks of these (phone, number) conversations, all at once.

        Held to the end of the transaction; taken in one fixed order, so it cannot
        deadlock with another transaction locking an overlapping set.
        """
        ...


@dataclass(frozen=True)
class QueueRow:
    """A queue of agents, with its opening hours (None: always open)."""

    id: int
    name: str
    is_default: bool
    timezone: str
    hours: dict[str, list[str]] | None


@dataclass(frozen=True)
class OpenHandoff:
    """A conversation's hand-off while it is waiting, offered or active."""

    id: int
    queue_id: int
    status: str


@dataclass(frozen=True)
class LapsedOffer:
    """A hand-off offered to an agent who did not accept in time, or left."""

    id: int
    conversation_id: int
    offered_to: int
    declined: tuple[int, ...]


@dataclass(frozen=True)
class WaitingHandoff:
    """A texter in line for an agent."""

    id: int
    conversation_id: int
    queue_id: int
    # Agents not to offer it to: their offer lapsed, or they transferred it.
    declined: tuple[int, ...]
    position_noticed: int | None
    position_noticed_at: datetime | None


@dataclass(frozen=True)
class ActiveChat:
    """A hand-off an agent has accepted, with when each side last spoke."""

    id: int
    conversation_id: int
    agent_id: int
    phone: str
    number: str
    accepted_at: datetime | None
    last_texter_at: datetime | None
    last_agent_at: datetime | None
    reminded_at: datetime | None

    def last_activity(self) -> datetime:
        """When either side of the chat last did something."""
        return max(
            t for t in (self.accepted_at, self.last_texter_at, self.last_agent_at) if t is not None
        )


class HandoffRepository(Protocol):
    """Hand-offs from the virtual agent to people: offered, waiting, active."""

    async def current(self, conversation_id: int) -> OpenHandoff | None:
        """The conversation's open hand-off, if any."""
        ...

    async def open(self, conversation_id: int, queue_id: int, reason: str, now: datetime) -> int:
        """Put the texter in the queue's line; returns the hand-off's id."""
        ...

    async def position_in_line(self, queue_id: int, handoff_id: int) -> int:
        """1 for the next texter to be offered to an agent."""
        ...

    async def texter_spoke(self, conversation_id: int, now: datetime) -> None:
        """The waiting clock for the agent's reply starts (any open hand-off)."""
        ...

    async def close(self, handoff_id: int, status: str, now: datetime, *, ended_by: str) -> None:
        """End a hand-off (``ended``, ``abandoned``); any offer is withdrawn."""
        ...

    async def lapsed_offers(
        self, *, offered_before: datetime, seen_since: datetime
    ) -> list[LapsedOffer]:
        """Offers made before ``offered_before``, or to an agent not seen since ``seen_since``."""
        ...

    async def back_in_line(self, handoff_id: int, declined: Sequence[int]) -> None:
        """The offer is withdrawn; the texter waits again, not to be offered to ``declined``."""
        ...

    async def waiting(self) -> list[WaitingHandoff]:
        """Every texter in line, first come first."""
        ...

    async def offer(self, handoff_id: int, agent_id: int, now: datetime) -> None: ...

    async def active_chats(self) -> list[ActiveChat]: ...

    async def note_reminded(self, handoff_id: int, now: datetime) -> None:
        """The agent was reminded that the texter waits for an answer."""
        ...

    async def note_position(self, handoff_id: int, position: int, now: datetime) -> None:
        """The texter was told their place in line."""
        ...


class AgentRepository(Protocol):
    """Agents and their queues, as the assigner and the hand-off see them."""

    async def queue_by_name(self, name: str) -> QueueRow | None: ...

    async def default_queue(self) -> QueueRow | None:
        """Where transfers without a queue go."""
        ...

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        """A queue's members with their chats; not seen since ``seen_since``: unreachable."""
        ...

    async def mark_assigned(self, agent_ids: Sequence[int], now: datetime) -> None: ...


class ChatCloser(Protocol):
    """Ends an agent's chat on the desk's behalf (the texter is told)."""

    async def end_idle(self, conversation_id: int, now: datetime) -> None: ...


class AssignmentRepositories(Protocol):
    """What one pass of the assigner reads and writes."""

    @property
    def handoffs(self) -> HandoffRepository: ...

    @property
    def agents(self) -> AgentRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def chats(self) -> ChatCloser: ...


class HandoffRepositories(Protocol):
    """What the hand-off reads and writes within a texter's turn."""

    @property
    def handoffs(self) -> HandoffRepository: ...

    @property
    def agents(self) -> AgentRepository: ...

    @property
    def conversations(self) -> ConversationRepository: ...


# ------------------------------------------------------------ live agents: the desk
# What the Workspace's use cases read and write (``live_agents/presence``, the desk and
# its read models); the SQL is in ``adapters/db/live_agents.py``, the fakes in
# ``testing/desk.py``.


class PresenceRepository(Protocol):
    """Where a process tells every other which agents have a Workspace open."""

    async def mark_seen(self, agent_ids: Sequence[int], now: datetime) -> None:
        """A live Workspace connection of each of these agents is open at ``now``."""
        ...


@dataclass(frozen=True)
class AgentRow:
    """A staff member of the desk: an agent, or an admin (who may act on any chat)."""

    id: int
    name: str
    email: str
    role: str
    presence: str
    capacity: int
    password_hash: str
    session_epoch: int = 0
    last_seen_at: datetime | None = None  # a live Workspace connection (the heartbeat)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# Where a conversation stands, from its latest hand-off (``live_agents/conversation_list``).
ListedState = Literal["bot", "waiting", "agent", "ended"]


@dataclass(frozen=True)
class ListedRow:
    """A conversation as the Workspace's list finds it (its preview line is read apart)."""

    id: int
    phone: str
    name: str | None
    state: ListedState
    updated_at: datetime


@dataclass(frozen=True)
class InboxRow:
    """An open hand-off (waiting, offered or active) with what the inbox shows of it."""

    conversation_id: int
    queue_id: int
    phone: str
    texter_name: str | None
    queue_name: str
    status: str
    reason: str
    note: str | None
    requested_at: datetime
    offered_to: int | None
    offered_name: str | None
    agent_id: int | None
    agent_name: str | None
    last_texter_at: datetime | None
    last_agent_at: datetime | None
    preview: str | None  # the texter's latest line


@dataclass(frozen=True)
class ConversationHead:
    """A conversation with its texter's account, as its Workspace page starts."""

    id: int
    phone: str
    number: str
    mode: str
    state: dict[str, Any] | None
    user_id: int | None
    user_name: str | None
    email: str | None


@dataclass(frozen=True)
class HandoffView:
    """A conversation's hand-off to a live agent, as the Workspace shows it."""

    status: str
    queue_id: int
    queue: str
    reason: str
    note: str | None
    agent_id: int | None
    agent_name: str | None
    offered_to: int | None
    requested_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True)
class DeliveredLine:
    """A transcript line, with the outbox row of what was sent (all None for other lines)."""

    id: int
    author: str  # texter | bot | agent | system
    body: str
    media: list[Any]  # stored keys
    created_at: datetime
    agent_name: str | None
    outbox_id: int | None
    status: str | None  # outbox status
    error_code: int | None
    error_message: str | None
    segments: int | None
    encoding: str | None


@dataclass(frozen=True)
class RecordLine:
    """One of a texter's records, as listed beside their conversation."""

    number: str
    short_description: str
    state: str
    priority: int
    updated_at: datetime


class WorkspaceReads(Protocol):
    """The Workspace's read model, one method per query, each filtered by what the
    agent may see (an admin sees all); read on one connection per page."""

    async def conversations(
        self,
        agent: AgentRow,
        *,
        state: ListedState | None,
        search: str | None,
        limit: int,
        offset: int,
    ) -> list[ListedRow]:
        """Newest activity first; ``search`` as ``live_agents/conversation_list`` says."""
        ...

    async def last_lines(self, conversation_ids: Sequence[int]) -> dict[int, str]:
        """Each conversation's latest transcript line (one query)."""
        ...

    async def visible_among(self, agent: AgentRow, conversation_ids: Collection[int]) -> set[int]:
        """Which of these (at least one) conversations the agent may see (one query)."""
        ...

    async def queue_ids_of(self, agent_id: int) -> set[int]:
        """The queues the agent is a member of."""
        ...

    async def open_handoffs(self, queue_ids: Collection[int] | None) -> list[InboxRow]:
        """The open hand-offs of these queues (None: of all), oldest request first."""
        ...

    async def queues(self) -> list[QueueRow]:
        """Every queue, by name."""
        ...

    async def agents(self) -> list[AgentRow]:
        """Every agent, by name."""
        ...

    async def conversation(self, conversation_id: int) -> ConversationHead | None: ...

    async def shown_handoff(self, conversation_id: int) -> HandoffView | None:
        """The open hand-off, else the newest ended one."""
        ...

    async def transcript(self, conversation_id: int, *, limit: int) -> list[DeliveredLine]:
        """The newest ``limit`` lines, newest first, each with its delivery (one query)."""
        ...

    async def records_of(self, user_id: int | None, phone: str, *, limit: int) -> list[RecordLine]:
        """The records naming the account or the phone, open ones first, newest first."""
        ...

    async def agent(self, agent_id: int) -> AgentRow | None:
        """The agent, unless removed."""
        ...


# --- the agents' actions (``live_agents/desk``) ---------------------------------------


@dataclass(frozen=True)
class ChatRow:
    """A conversation's open hand-off as the desk acts on it."""

    id: int
    queue_id: int
    status: str  # waiting | offered | active
    agent_id: int | None
    offered_to: int | None


class ChatRepository(Protocol):
    """Hand-offs as the desk moves them: accepted, answered, handed on, ended."""

    async def open_chat(self, conversation_id: int) -> ChatRow | None:
        """The conversation's open hand-off (the newest, should there be two)."""
        ...

    async def accept(self, handoff_id: int, agent_id: int, now: datetime) -> None:
        """Active with ``agent_id``, the offer withdrawn; the agent counts as having spoken."""
        ...

    async def agent_spoke(self, handoff_id: int, now: datetime) -> None: ...

    async def end(self, handoff_id: int, now: datetime, *, ended_by: str) -> None: ...

    async def hand_on(
        self,
        handoff_id: int,
        *,
        queue_id: int,
        declined: Sequence[int],
        note: str | None,
        offer_to: int | None,
        now: datetime,
    ) -> None:
        """Back in ``queue_id``'s line, or offered to ``offer_to``; nobody holds it now."""
        ...


class DeskAgents(AgentRepository, Protocol):
    """Agents and queues as the desk looks them up."""

    async def agent_by_id(self, agent_id: int) -> AgentRow | None: ...

    async def queue_by_id(self, queue_id: int) -> QueueRow | None: ...

    async def queue_ids_of(self, agent_id: int) -> set[int]:
        """The queues the agent is a member of."""
        ...


class DeskConversations(ConversationRepository, Protocol):
    """Conversations, whose state and mode the desk changes as agents come and go."""

    async def save(self, rows: Sequence[ConversationRow], now: datetime) -> None: ...


class RecordLookup(Protocol):
    """Finds one record by its number (any case), whoever it belongs to."""

    async def get(self, number: str) -> Record | None: ...


class DeskRecords(RecordLookup, Protocol):
    """The records an agent reads and comments on, from the Workspace."""

    async def add_comment(
        self, number: str, *, author: str, body: str, now: datetime, public: bool = True
    ) -> Record | None:
        """A comment the texter may see (``public``), or a work note for the desk only;
        None when there is no such record."""
        ...


@dataclass(frozen=True)
class CheckedImage:
    """An upload that decoded as an image, with the small preview pages show."""

    content_type: str
    preview: bytes
    preview_type: str


class ImageChecker(Protocol):
    """Decodes an upload in full (CPU work: the desk runs it in a thread)."""

    def check(self, data: bytes, *, max_pixels: int) -> CheckedImage | str:
        """The image, or why it is refused (``too_many_pixels``, ``not_image``, …)."""
        ...


class UploadStore(Protocol):
    """Where an agent's images are kept for Twilio to fetch and pages to show."""

    async def save(self, image: CheckedImage, data: bytes, now: datetime) -> str:
        """Keep ``data`` and its preview; returns the stored key."""
        ...


class DeskRepositories(Protocol):
    """What one of an agent's actions reads and writes, under the conversation's lock."""

    @property
    def conversations(self) -> DeskConversations: ...

    @property
    def chats(self) -> ChatRepository: ...

    @property
    def agents(self) -> DeskAgents: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def records(self) -> DeskRecords: ...

    @property
    def uploads(self) -> UploadStore: ...

    @property
    def views(self) -> WorkspaceReads:
        """Who may see the conversation, asked in the action's own transaction."""
        ...


class WorkspaceReadRepositories(Protocol):
    """What one Workspace page reads, on one connection: the read model, and the
    texter's notifications, their setting and the number's carrier opt-out."""

    @property
    def views(self) -> WorkspaceReads: ...

    @property
    def notifications(self) -> NotificationRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def optouts(self) -> CarrierOptOutRepository: ...


# --------------------------------------------------- repositories: admin (admin/*)
# Numbers, accounts, agents, queues and API tokens, as the operator's commands, the
# REST API and the Workspace's sign-in read and write them.  The SQL adapters are in
# ``adapters/db/admin.py``, the in-memory fakes in ``testing/admin.py``.


class ReadingUnitOfWork(UnitOfWork[Repositories_co], Protocol[Repositories_co]):
    """A unit of work that also lends its repositories for reading only."""

    def read(self) -> AbstractAsyncContextManager[Repositories_co]:
        """A connection for reads: no write lock (SQLite's BEGIN IMMEDIATE) and no commit."""
        ...


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed: never its secret."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class ApiTokenRepository(Protocol):
    """API tokens, each stored only as the SHA-256 of its secret."""

    async def add(self, *, name: str, digest: str, now: datetime) -> None: ...

    async def name_of(self, digest: str) -> str | None:
        """The name of the token with this digest; None when there is none."""
        ...

    async def mark_used(self, digest: str, now: datetime) -> None: ...

    async def all(self) -> list[TokenInfo]:
        """Every token, oldest first."""
        ...

    async def remove(self, token_id: int) -> bool:
        """Delete a token; whether there was one."""
        ...


class ApiTokenRepositories(Protocol):
    """What the API-token use case reads and writes."""

    @property
    def tokens(self) -> ApiTokenRepository: ...


@dataclass(frozen=True)
class NumberRow:
    """One of our Twilio numbers and what it is for."""

    phone: str
    purpose: str


class NumberRepository(Protocol):
    """Our Twilio numbers, each configured for one purpose."""

    async def get(self, phone: str) -> NumberRow | None: ...

    async def add(self, phone: str, purpose: str, now: datetime) -> None: ...

    async def all(self) -> list[NumberRow]:
        """Every number, in the order they were added."""
        ...

    async def remove(self, phone: str) -> bool:
        """Stop using a number; whether it was configured."""
        ...


class NumberRepositories(Protocol):
    """What the numbers use case and the number directory read and write."""

    @property
    def numbers(self) -> NumberRepository: ...


class Duplicate(Exception):
    """A write broke one of the store's unique rules (a phone or email already taken)."""


@dataclass(frozen=True)
class UserRow:
    """An account: a person whose phone number we recognise."""

    id: int
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class UserFootprint:
    """What an account has left in textdesk: what removing it deletes or unlinks."""

    subscribed: bool
    subscription_changes: int
    notifications: int
    conversations: int
    records: int


class UserRepository(Protocol):
    """Accounts, one per phone number."""

    async def add(self, *, name: str, email: str | None, phone: str | None, now: datetime) -> int:
        """The new account's id; :class:`Duplicate` when its phone has an account."""
        ...

    async def get(self, user_id: int) -> UserRow | None: ...

    async def by_phones(self, phones: Sequence[str]) -> dict[str, UserRow]:
        """The accounts of these numbers (E.164), by number."""
        ...

    async def all(self, *, limit: int | None = None, offset: int = 0) -> list[UserRow]:
        """Accounts in the order they were added (all of them without ``limit``)."""
        ...

    async def footprint(self, user_id: int) -> UserFootprint: ...

    async def remove(self, user: UserRow) -> None:
        """Delete the account and what is about the person; keep the desk's own records
        (the conversations and records stay, no longer linked to an account)."""
        ...


class UserRepositories(Protocol):
    """What the accounts use case reads and writes."""

    @property
    def users(self) -> UserRepository: ...


@dataclass(frozen=True)
class ListedAgent:
    """An agent as listed for the operator, with the names of their open queues."""

    id: int
    name: str
    email: str
    role: str
    capacity: int
    presence: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class OpenChat:
    """A chat that is not over: the texter's number and where it stands."""

    phone: str
    status: str


@dataclass(frozen=True)
class AgentFootprint:
    """What an agent has left in textdesk: what removing them keeps or takes."""

    open_chats: list[OpenChat]
    queues: int
    handoffs: int
    lines: int


@dataclass(frozen=True)
class QueueFootprint:
    """What a queue holds: the chats not over, its members, its ended chats."""

    open_chats: list[OpenChat]
    members: int
    handoffs: int


class StaffRepository(Protocol):
    """Agents and queues as the operator lists and removes them (history kept)."""

    async def agents_with_queues(self) -> list[ListedAgent]:
        """Agents not removed, by name."""
        ...

    async def agent_by_email(self, email: str) -> AgentRow | None: ...

    async def agent_footprint(self, agent_id: int) -> AgentFootprint: ...

    async def remove_agent(self, agent_id: int, now: datetime) -> list[OpenChat]:
        """Mark the agent removed; returns the chats that are theirs or offered to them,
        and when there are any the caller rolls back (nothing is removed)."""
        ...

    async def queue_by_name(self, name: str) -> QueueRow | None: ...

    async def queue_by_id(self, queue_id: int) -> QueueRow | None: ...

    async def queue_footprint(self, queue_id: int) -> QueueFootprint: ...

    async def remove_queue(self, queue_id: int, name: str, now: datetime) -> list[OpenChat]:
        """Mark the queue removed; returns the chats waiting or active in it, and when
        there are any the caller rolls back (nothing is removed)."""
        ...


class StaffRepositories(Protocol):
    """What the staff use case reads and writes."""

    @property
    def staff(self) -> StaffRepository: ...


class AgentAccountRepository(Protocol):
    """Agents' accounts, their queues and memberships, as the operator and sign-in see them."""

    async def insert_agent(
        self, *, name: str, email: str, password_hash: str, role: str, capacity: int, now: datetime
    ) -> int:
        """The new agent's id, signed out; :class:`Duplicate` when the email is taken."""
        ...

    async def agent_by_id(self, agent_id: int) -> AgentRow | None:
        """The agent, unless removed."""
        ...

    async def agent_by_email(self, email: str) -> AgentRow | None:
        """The agent who signs in as ``email``, unless removed."""
        ...

    async def list_agents(self) -> list[AgentRow]:
        """Agents not removed, by name."""
        ...

    async def set_presence(self, agent_id: int, presence: str) -> None: ...

    async def sign_out(self, agent_id: int) -> None:
        """Offline, and every session issued so far is void."""
        ...

    async def default_queue(self) -> QueueRow | None: ...

    async def queue_by_name(self, name: str) -> QueueRow | None: ...

    async def list_queues(self) -> list[QueueRow]:
        """Queues not removed, by name."""
        ...

    async def upsert_queue(
        self,
        *,
        name: str,
        timezone: str,
        hours: dict[str, list[str]] | None,
        is_default: bool,
        now: datetime,
    ) -> int:
        """Create or update the queue named ``name``; the first queue is the default
        until another is named so.  Returns its id."""
        ...

    async def add_member(self, queue_id: int, agent_id: int) -> None:
        """The agent joins the queue (nothing when already a member)."""
        ...

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        """A queue's members with their chats."""
        ...


class AgentAccountRepositories(Protocol):
    """What the agent-account use cases and the sign-in read and write."""

    @property
    def agents(self) -> AgentAccountRepository: ...


class DemoRecordRepository(Protocol):
    """The demo's incidents, written to the built-in record store."""

    async def any(self) -> bool:
        """Whether the store holds a record already."""
        ...

    async def create(
        self,
        *,
        short_description: str,
        urgency: int,
        caller_id: int | None,
        caller_phone: str,
        now: datetime,
    ) -> str:
        """Open an incident (the store's defaults otherwise); returns its number."""
        ...

    async def set_state(self, number: str, state: str, now: datetime) -> None: ...


class DemoRepositories(Protocol):
    """What seeding the demo reads and writes beside the admin use cases."""

    @property
    def agents(self) -> AgentAccountRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def records(self) -> DemoRecordRepository: ...


@dataclass(frozen=True)
class ConversationSummary:
    """A conversation as the REST API lists it."""

    id: int
    phone: str
    number: str
    user_id: int | None
    mode: str
    updated_at: datetime


class ConversationPages(Protocol):
    """Conversations and their transcripts, a page at a time."""

    async def page(self, *, limit: int, offset: int) -> list[ConversationSummary]:
        """The most recently active first."""
        ...

    async def transcript(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> list[DeliveredLine]:
        """A conversation's lines in order, each with the outbox row of what was sent."""
        ...


class PeopleRepositories(Protocol):
    """What the REST API's people and conversations pages read."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def conversations(self) -> ConversationPages: ...


# ------------------------------------------------------------------------------ records
# The records as the REST API and the record page reach them: the built-in store
# (``adapters/db/records.py``) today, ServiceNow next.  ``records.incidents`` is the use
# case; the in-memory fakes are in ``testing/records.py``.


class RecordLinks(Protocol):
    """Short read-only links to a record, texted in its cards; only ours are honoured."""

    def url_for(self, number: str) -> str: ...

    def number_for(self, token: str) -> str | None:
        """The record number a link names; None when the link was not made by us."""
        ...


class RecordRepository(RecordStore, Protocol):
    """The record store with what the REST API needs beyond a topic: pages, internal notes."""

    async def page(
        self,
        *,
        caller_id: int | None,
        caller_phone: str | None,
        open_only: bool,
        limit: int,
        offset: int,
    ) -> list[Record]:
        """Records newest first, ``offset`` of them skipped, at most ``limit``.

        Only the caller's when a caller is given: naming the account or the phone when
        both are (``domain.records.belongs_to``); only open ones with ``open_only``.
        """
        ...

    async def add_comment(
        self,
        number: str,
        *,
        author: str,
        body: str,
        now: datetime,
        public: bool = True,
        may_repeat: bool = False,
    ) -> Record | None:
        """A comment, public or for the desk only; None when there is no such record."""
        ...


class CallerAccounts(Protocol):
    """The accounts a record may name as its caller."""

    async def exists(self, user_id: int) -> bool: ...


class RecordRepositories(Protocol):
    """What one request on records reads and writes."""

    @property
    def records(self) -> RecordRepository: ...

    @property
    def callers(self) -> CallerAccounts: ...


# ----------------------------------------------- repositories: notifications
# What the subscription commands and settings, the notifier and API notifications
# read and write.  SQL in ``adapters/db/{subscriptions,notifications}.py``; the
# templates folder in ``adapters/files/notification_files.py``; fakes in
# ``testing/notifications.py``.


class NotificationTemplates(Protocol):
    """Notification templates and command wording, as operators edited them."""

    def template(self, name: str) -> str | None:
        """The source of template ``name``; None when there is none."""
        ...

    def safe_wording(self) -> Wording:
        """What Notification/START/STOP answer; a file broken while running keeps the
        last good wording."""
        ...


@dataclass(frozen=True)
class Recipient:
    """An account as a notification sees it: where to text, and whether we may."""

    user_id: int
    name: str
    phone: str | None
    subscribed: bool
    carrier_opted_out: bool


@dataclass(frozen=True)
class Change:
    """One entry of a subscription's audit trail."""

    enabled: bool
    source: str
    at: datetime
    reason: str | None = None
    actor: str | None = None  # the staff member, for a change made in the Workspace


@dataclass(frozen=True)
class CarrierOptOut:
    """A number that texted STOP (or was refused with 21610): Twilio blocks it."""

    since: datetime
    source: str


class SubscriptionRepository(Protocol):
    """Accounts' SMS notification settings, with the audit trail of every change."""

    async def recipients(self, user_ids: Sequence[int]) -> dict[int, Recipient]:
        """The accounts among ``user_ids``; unknown ids are left out."""
        ...

    async def is_enabled(self, user_id: int) -> bool:
        """The setting; an account never set is off."""
        ...

    async def set_enabled(
        self,
        user_ids: Sequence[int],
        enabled: bool,
        *,
        source: str,
        now: datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[int]:
        """Turn ``user_ids`` on or off (``source``: sms | api | workspace); returns those
        that changed, and only those join the audit trail."""
        ...

    async def history(self, user_id: int) -> list[Change]:
        """The audit trail of one account, newest first."""
        ...


class CarrierOptOutRepository(OptOutRepository, Protocol):
    """The carrier's block of a number, as the texter's STOP and START move it."""

    async def is_opted_out(self, phone: str) -> bool: ...

    async def current(self, phone: str) -> CarrierOptOut | None:
        """The number's active opt-out, if it has one."""
        ...

    async def opt_in(self, phone: str) -> None:
        """The texter sent START (or UNSTOP, or YES while opted out): the block is lifted."""
        ...


class TexterAccounts(Protocol):
    """Accounts for texters another service knows (a ServiceNow ``sys_user``) and we
    did not: a subscription belongs to an account, so turning notifications on makes one."""

    async def link(self, phone: str, *, name: str, email: str | None, now: datetime) -> int:
        """The account of ``phone`` (E.164): the one it has, else a new one with ``name``
        and ``email``.  The texter's conversations that name no account name it from now on."""
        ...


class SubscriptionRepositories(Protocol):
    """What a subscription command reads and writes, within the texter's turn."""

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def optouts(self) -> CarrierOptOutRepository: ...

    @property
    def directory(self) -> TexterDirectory:
        """Who the texter is now (their profile's email is not on ``Texter``)."""
        ...

    @property
    def accounts(self) -> TexterAccounts: ...


class SubscriptionSettingsRepositories(SubscriptionRepositories, Protocol):
    """What staff and the API read and write when they change a setting."""

    @property
    def conversations(self) -> ConversationRepository: ...


# outbox.kind of a notification (other texts are replies to a conversation).
NOTIFICATION_KIND = "notification"


@dataclass(frozen=True)
class NewNotification:
    """One decision about one account: queued (``outbox_id`` set) or skipped (``reason``)."""

    user_id: int
    source: str  # event | api
    body: str
    status: str  # queued | skipped
    reason: str | None = None
    outbox_id: int | None = None
    record_id: int | None = None
    event_id: int | None = None
    template: str | None = None


@dataclass(frozen=True)
class HistoryRow:
    """A notification as stored, with what became of its text."""

    id: int
    created_at: datetime
    source: str
    template: str | None
    record_number: str | None
    body: str
    status: str  # skipped, or the outbox status (pending ... delivered, failed, canceled)
    reason: str | None
    error_code: int | None
    error_message: str | None
    sent_at: datetime | None


class NotificationRepository(Protocol):
    """Every notification decision (queued or skipped), for the account's history."""

    async def add(self, items: Sequence[NewNotification], now: datetime) -> None: ...

    async def history(self, user_id: int, *, limit: int, offset: int) -> list[HistoryRow]:
        """One account's notifications, newest first, each with its delivery status."""
        ...


class SenderNumbers(Protocol):
    """Which of our conversational numbers a notification is sent from."""

    async def latest(self, phones: Sequence[str]) -> dict[str, str]:
        """For each phone, the number of its latest conversation (if any)."""
        ...

    async def default(self) -> str | None:
        """The first conversational number configured: for someone we never talked to."""
        ...


class DeliveryRepositories(Protocol):
    """What queueing notifications (and reading their history) reads and writes."""

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def senders(self) -> SenderNumbers: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def notifications(self) -> NotificationRepository: ...


@dataclass(frozen=True)
class RecordEvent:
    """A change to a record (state changed, commented, assigned…) to notify its caller of."""

    id: int
    record_id: int
    kind: str
    data: dict[str, Any]
    created_at: datetime


class RecordEventRepository(Protocol):
    """The feed of record changes the notifier turns into notifications."""

    async def pending(self, *, limit: int) -> list[RecordEvent]:
        """Events not yet notified, oldest first; no other transaction takes them
        while this one holds them."""
        ...

    async def mark_handled(self, ids: Sequence[int], now: datetime) -> None: ...

    async def record_numbers(self, record_ids: Sequence[int]) -> dict[int, str]:
        """Record id to number (events name records by id)."""
        ...


class RecordReader(Protocol):
    """Reads a record by its number (``RecordStore.get``)."""

    async def get(self, number: str) -> Record | None: ...


class PhoneAccounts(Protocol):
    """Who holds a phone number: the account a record's caller phone belongs to."""

    async def by_phone(self, phone: str) -> int | None: ...


class NotifyingRepositories(DeliveryRepositories, Protocol):
    """What turning record events and API requests into notifications reads and writes."""

    @property
    def events(self) -> RecordEventRepository: ...

    @property
    def records(self) -> RecordReader: ...

    @property
    def accounts(self) -> PhoneAccounts: ...


EventKey = tuple[str, str, str, str]  # (sys_id, event, sys_updated_on, digest)


class InstanceEventLog(Protocol):
    """Record events a ServiceNow instance posted, each noted once by (sys_id, event,
    sys_updated_on, digest of what it says): a rule that fires twice, or a retried
    post, notifies once; two changes in the same second notify twice."""

    async def first_time(
        self, *, sys_id: str, event: str, updated_on: str, digest: str, now: datetime
    ) -> bool:
        """Note the event; False when it was noted before (its texts are already queued)."""
        ...

    async def noted(self, keys: Collection[EventKey]) -> set[EventKey]:
        """Which of these (sys_id, event, sys_updated_on, digest) keys were noted before."""
        ...


class InstanceEventRepositories(DeliveryRepositories, Protocol):
    """What turning an instance's record event into a notification reads and writes."""

    @property
    def seen(self) -> InstanceEventLog: ...

    @property
    def accounts(self) -> PhoneAccounts: ...

    @property
    def snapshots(self) -> IncidentSnapshots: ...


class CallerPhones(Protocol):
    """The mobile number of an instance's user (``sys_user`` sys_id), in E.164."""

    async def phone_for(self, sys_id: str) -> str | None:
        """None for a user without one, an inactive user, or no such user."""
        ...


# Polling an instance that may not call out (``notifications/instance_polling.py``):
# what it asks the instance, and what it keeps of each incident and of its rounds
# (``adapters/servicenow/changes.py``, ``adapters/db/instance_polling.py``).


class IncidentChanges(Protocol):
    """The instance's incidents and public comments, read with no transaction open."""

    async def newest(self) -> str | None:
        """The latest ``sys_updated_on`` of any incident; None when there is none."""
        ...

    async def current(self, *, updated_since: str) -> list[ChangedIncident]:
        """The open incidents and those updated since then: what may still change."""
        ...

    async def changed_since(self, cursor: str) -> list[ChangedIncident]:
        """Every incident with ``sys_updated_on`` at or after ``cursor``, once each."""
        ...

    async def comments(self, after: Mapping[str, str]) -> list[InstanceComment]:
        """The public comments of these incidents (sys_id -> time) created after their
        time, oldest first."""
        ...


class IncidentSnapshots(Protocol):
    """What textdesk last knew of each incident (state, assignee) and since when.

    Each part only moves forward: a part older than the one kept is ignored, so an
    event posted late, or a round that read an incident before an event about it
    arrived, never takes it back.
    """

    async def of(self, sys_ids: Sequence[str]) -> dict[str, Snapshot]: ...

    async def keep(self, snapshots: Sequence[Snapshot], now: datetime) -> None:
        """Add the incidents not kept yet; move the others' parts forward."""
        ...

    async def advance(self, event: InstanceEvent) -> None:
        """What a state change or (re)assignment says, on an incident already kept
        (none is added: an instance that is not polled keeps none)."""
        ...


class PollRounds(Protocol):
    """The rounds' cursor and schedule, shared by every process: one polls at a time."""

    async def claim(self, *, now: datetime, lease: timedelta) -> PollClaim | None:
        """The round, when one is due, held for ``lease``; None when none is due or
        another process holds it."""
        ...

    async def finish(self, *, cursor: str, due_at: datetime) -> None:
        """Move the cursor (never back) and book the next round."""
        ...

    async def release(self, *, due_at: datetime) -> None:
        """Book the next round, the cursor unchanged (a round that failed)."""
        ...


class InstancePollingRepositories(Protocol):
    """What one polling round reads and writes here."""

    @property
    def rounds(self) -> PollRounds: ...

    @property
    def snapshots(self) -> IncidentSnapshots: ...

    @property
    def seen(self) -> InstanceEventLog: ...


# --------------------------------------------------------------------------- operations
# What /readyz, /metrics and /media read (``ops/``): the database's answer, the outbox's
# backlog and stored images.  The SQL is in ``adapters/db/``, the fakes in
# ``testing/ops.py``.


class StoreUnavailable(Exception):
    """The database did not answer (what it said is the message)."""


class DatabaseProbe(Protocol):
    async def ping(self) -> None:
        """Ask the database a trivial question; raises whatever stopped the answer."""
        ...


@dataclass(frozen=True)
class Backlog:
    """Texts not yet in Twilio's hands, and the numbers paused meanwhile."""

    waiting: dict[str, int]  # by state: pending, claimed, in_doubt
    oldest_queued_at: datetime | None
    # Waiting texts with a failed attempt behind them.
    retrying: int
    paused: list[Pause]

    @property
    def total(self) -> int:
        return sum(self.waiting.values())

    @property
    def troubled(self) -> bool:
        """Worth telling staff: Twilio refuses sends, not merely a busy minute."""
        return bool(self.paused) or self.retrying > 0

    @property
    def failing_since(self) -> datetime | None:
        return min((p.failing_since for p in self.paused), default=None)

    def give_up_at(self, window: timedelta) -> datetime | None:
        """When the oldest waiting text stops being retried."""
        return None if self.oldest_queued_at is None else self.oldest_queued_at + window


class OutboxBacklog(Protocol):
    async def read(self) -> Backlog:
        """The backlog as the database has it (the same from every process).

        Raises ``StoreUnavailable`` when the database does not answer.
        """
        ...


@dataclass(frozen=True)
class StoredMedia:
    """An image we keep: a texter's verified attachment, an agent's upload or a preview."""

    key: str
    content_type: str
    data: bytes


class MediaStore(Protocol):
    """Stored images and their downscaled previews."""

    async def load(self, key: str) -> StoredMedia | None: ...

    def original_of(self, key: str) -> str | None:
        """The image whose preview ``key`` names; None when ``key`` names no preview."""
        ...

    async def save_preview(
        self, original: str, *, data: bytes, content_type: str, now: datetime
    ) -> StoredMedia:
        """Keep the preview of ``original`` made after the fact (a concurrent maker's
        copy wins); the preview as made here."""
        ...


class PreviewMaker(Protocol):
    async def preview(self, data: bytes) -> tuple[bytes, str] | None:
        """The downscaled copy of an image and its type; None when ``data`` does not
        decode as an image within the pixel cap."""
        ...


class MediaTokens(Protocol):
    """Reads back the signed, expiring media URLs of ``MediaLinks``."""

    def key_for(self, token: str) -> str | None:
        """The media key a token names; None when forged or expired."""
        ...


# ---------------------------------------------------------------------------- simulator
# What the demo's phone simulator reads (``admin/simulator.py``): one phone's texts with
# the desk, as stored.  The SQL is in ``adapters/db/sandbox_threads.py``, the fakes in
# ``testing/simulator.py``.


@dataclass(frozen=True)
class ReceivedText:
    """A text the phone sent us; ``media`` items carry ``key`` once stored."""

    message_sid: str
    body: str
    media: list[dict[str, Any]]
    at: datetime


@dataclass(frozen=True)
class SentText:
    """A text we sent the phone (or tried to: ``twilio_sid`` is None until accepted)."""

    id: int
    twilio_sid: str | None
    from_phone: str
    body: str
    media: list[str]
    status: str
    encoding: str
    segments: int
    error_code: int | None
    at: datetime


class PhoneThreads(Protocol):
    """One phone's texts with the desk: the inbox's and the outbox's rows for it."""

    async def received_from(self, *, phone: str, number: str, limit: int) -> list[ReceivedText]:
        """The newest ``limit`` texts ``phone`` sent to ``number``, oldest first."""
        ...

    async def sent_to(self, *, phone: str, limit: int) -> list[SentText]:
        """The newest ``limit`` texts to ``phone`` from any of our numbers, oldest first."""
        ...

    async def delivered_to(self, *, phone: str, after: int, limit: int) -> list[SentText]:
        """Texts to ``phone`` that Twilio accepted, with ids above ``after``, oldest first."""
        ...

    async def last_delivered_id(self, *, phone: str) -> int:
        """The highest id Twilio accepted for ``phone`` (0 for none)."""
        ...

    async def media_of(self, message_sid: str) -> list[dict[str, Any]] | None:
        """The media items of one inbound text, or None when there is no such text."""
        ...


class ImageRepository(Protocol):
    """Stored images, read on the connection of the repositories they come with."""

    async def load(self, key: str) -> StoredMedia | None: ...


class SimulatorRepositories(Protocol):
    """What the phone simulator reads."""

    @property
    def threads(self) -> PhoneThreads: ...

    @property
    def numbers(self) -> NumberRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def images(self) -> ImageRepository: ...


# ------------------------------------------------------- repositories: reconciliation
# What ``channel/reconcile.py`` reads and writes: sent texts whose final status never
# came, and the statuses learned by asking Twilio.


@dataclass(frozen=True)
class StatusUpdate:
    """A sent text's status as Twilio reports it (a callback, or an answer when asked)."""

    sid: str
    status: str
    error_code: int | None
    received_at: datetime


class StatusRepository(Protocol):
    """Sent texts' statuses: each only ever moves forward (``domain/delivery.py``)."""

    async def claim_checks(self, *, now: datetime, after: timedelta, limit: int) -> list[str]:
        """Sids of texts with no news for ``after``, each booked for its next question,
        so no two processes ask about one text."""
        ...

    async def apply_reconciled(self, updates: Sequence[StatusUpdate]) -> list[int | None]:
        """Move each text forward; per update its conversation id (0: none) when it
        moved, None when it changed nothing."""
        ...

    async def apply_callbacks(self, updates: Sequence[StatusUpdate]) -> list[int | None]:
        """As :meth:`apply_reconciled`, each callback also kept as Twilio posted it."""
        ...


class ReconcileRepositories(Protocol):
    """What one reconciliation transaction reads and writes."""

    @property
    def statuses(self) -> StatusRepository: ...


# ------------------------------------------------- repositories: the inbox and answering
# What ``channel/inbound.py`` and ``channel/answering.py`` read and write: the inbox,
# conversations and their transcripts, the replies queued, the statuses reported.  One
# bundle per transaction (the group commit's, or the inbox loop's); it also hands the
# virtual agent's effects the ports of that same transaction.

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
_Note = TypeVar("_Note")
_Repos_co = TypeVar("_Repos_co", covariant=True)


@dataclass(frozen=True, eq=False)
class WriteKind(Generic[_Item, _Result]):
    """A kind of write, named once: submit items of it, get one result each back.

    Its writer is registered against this object (:meth:`GroupCommit.register`), so a
    caller holds what it submits to, typed, rather than a name to look up.
    """

    name: str


@dataclass(frozen=True, slots=True)
class Written(Generic[_Result, _Note]):
    """What a writer did with one batch: a result per item, and a note for after commit.

    The note is handed to the writer's ``committed`` callback once the batch's
    transaction has committed, and dropped if it rolls back, so nothing the batch
    did needs to be remembered anywhere in between.
    """

    results: Sequence[_Result]
    note: _Note


class GroupCommit(Protocol[_Repos_co]):
    """Many small writes from concurrent requests, written in one shared transaction."""

    def register(
        self,
        kind: WriteKind[_Item, _Result],
        write: Callable[[_Repos_co, Sequence[_Item]], Awaitable[Written[_Result, _Note]]],
        *,
        committed: Callable[[_Note], None] = ...,
    ) -> None:
        """Write items of ``kind`` with ``write``; hand each batch's note to ``committed``."""
        ...

    async def submit(self, kind: WriteKind[_Item, _Result], item: _Item) -> _Result:
        """Write ``item`` durably; its writer's result once the batch has committed."""
        ...


@dataclass(frozen=True)
class InboundRow:
    """An inbound text as stored: durable before its webhook was answered."""

    id: int
    message_sid: str
    from_phone: str
    to_phone: str
    body: str
    media: list[dict[str, Any]]
    received_at: datetime
    # The remote effect its turn waits on (``domain/agent/awaiting.py``), as saved.
    awaiting: dict[str, Any] | None = None


class InboxRepository(Protocol):
    """Every inbound text, and where answering it stands."""

    async def store(
        self, messages: Sequence[tuple[InboundSms, datetime]]
    ) -> list[InboundRow | None]:
        """Insert texts; one whose MessageSid was seen before is skipped (None)."""
        ...

    async def pending(self, *, limit: int) -> list[InboundRow]:
        """Unprocessed texts, oldest first."""
        ...

    async def pending_for(self, ids: Sequence[int]) -> list[InboundRow]:
        """Those of ``ids`` still unprocessed (re-read under lock), oldest first."""
        ...

    async def waiting_from(self, phones: Sequence[str]) -> list[InboundRow]:
        """Every unprocessed text from ``phones`` (id, sid and numbers only), oldest first."""
        ...

    async def set_media(self, inbox_id: int, media: list[dict[str, Any]]) -> None: ...

    async def set_awaiting(self, waits: dict[int, dict[str, Any] | None]) -> None:
        """Save (or clear, with None) the remote effect each text's turn waits on."""
        ...

    async def claim_awaiting(self, inbox_id: int, *, now: datetime, until: datetime) -> bool:
        """Take a waiting row's remote call until ``until``; False if another process has it
        (or it is no longer waiting)."""
        ...

    async def release_awaiting(self, ids: Sequence[int]) -> None:
        """Free the claims of these waiting rows, so their calls are made again at once."""
        ...

    async def mark_processed(
        self, ids: Sequence[int], when: datetime, errors: dict[int, str] | None = None
    ) -> None: ...


class AnsweredConversations(Protocol):
    """Conversations as the answering reads and writes them, and their locks."""

    async def load_or_create(
        self, keys: Sequence[tuple[str, str]], users_by_phone: dict[str, int], now: datetime
    ) -> dict[tuple[str, str], ConversationRow]:
        """The conversations of (texter phone, our number) pairs, creating missing ones."""
        ...

    async def save(self, rows: Sequence[ConversationRow], now: datetime) -> None:
        """Write their mode, state and account; an account the row does not name is
        kept, not cleared (``TexterAccounts.link`` may have made it during the turn)."""
        ...

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None: ...

    async def try_lock(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Lock these (phone, number) conversations to the transaction's end; those got."""
        ...

    async def lock_waiting_at_most(self, keys: Sequence[tuple[str, str]], ms: int) -> bool:
        """Wait up to ``ms`` for all their locks; whether they were all taken."""
        ...


@dataclass(frozen=True)
class TexterProfile:
    """Who a texter is: an account here, a profile in another service's users, or both."""

    phone: str  # E.164
    name: str
    email: str | None
    user_id: int | None = None  # the account here
    account: str | None = None  # the profile there (a ServiceNow sys_id)
    link: str | None = None  # where staff open that profile


class TexterDirectory(Protocol):
    """Who a texter is: the account (or profile) their phone number belongs to."""

    async def profiles_by_phone(self, phones: Sequence[str]) -> dict[str, TexterProfile]: ...


class TexterProfiles(Protocol):
    """The profiles of another service's users, kept in memory by phone number.

    ``profile`` never leaves the process, so it may be asked inside a transaction;
    ``look_up`` may call the service and is called with no transaction open.
    """

    def profile(self, phone: str) -> TexterProfile | None:
        """The profile of the active user with this number (E.164), as last read."""
        ...

    def settled(self, phone: str) -> bool:
        """Whether :meth:`profile` answers for this number without a look-up: the users
        were read and it is one of theirs, or it was looked for a moment ago."""
        ...

    async def look_up(self, phones: Sequence[str]) -> None:
        """Ask the service about those of ``phones`` that are not settled (throttled)."""
        ...


class InboundMedia(Protocol):
    """Where a texter's attachments are kept once fetched and checked."""

    async def save(
        self,
        *,
        data: bytes,
        content_type: str,
        now: datetime,
        source_url: str | None,
        preview: tuple[bytes, str] | None,
    ) -> str:
        """Keep ``data`` and its preview; returns the stored key."""
        ...


class AnsweringRepositories(Protocol):
    """What one answering (or inbound) transaction reads and writes."""

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def conversations(self) -> AnsweredConversations: ...

    @property
    def directory(self) -> TexterDirectory: ...

    @property
    def media(self) -> InboundMedia: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def statuses(self) -> StatusRepository: ...

    # The ports the virtual agent's effects reach in this same transaction.
    @property
    def records(self) -> RecordStore: ...

    @property
    def handoffs(self) -> HandoffRepositories: ...

    @property
    def subscriptions(self) -> SubscriptionRepositories: ...

    @property
    def backlog(self) -> RecordBacklog:
        """Reports kept for a remote record store that did not answer."""
        ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A block rolled back alone if it raises; the transaction goes on."""
        ...


# ------------------------------------------------------------------- topics and versions
# Topics live in the database (``topics/library.py``): each has a draft and published
# versions; every process serves the published set (``topics/live.py``).


@dataclass(frozen=True)
class TopicRow:
    """One topic (or ``_settings``) as stored: its draft, and which version is live.

    ``revision`` counts every change to it (a save, a publish, a rollback): the
    designer sends the one it started from, so a save over someone else's is refused.
    """

    id: str
    origin: str  # file | designer | api
    created_at: datetime
    file_name: str | None = None  # the file it was imported from
    file_hash: str | None = None  # sha-256 of that file's text when last imported
    draft: str | None = None  # its source when it differs from the published one
    draft_valid: bool | None = None
    draft_base: int | None = None  # the version the draft started from
    draft_by: str | None = None
    draft_at: datetime | None = None
    published: int | None = None  # the live version; None when not published
    revision: int = 1


@dataclass(frozen=True)
class TopicVersion:
    """A published version of a topic: its source exactly as it was published."""

    topic_id: str
    version: int
    source: str
    note: str
    published_by: str
    published_at: datetime


class TopicRepository(Protocol):
    """The topics, their versions, and the generation every process watches."""

    async def all(self) -> list[TopicRow]: ...

    async def get(self, topic_id: str) -> TopicRow | None: ...

    async def add(self, row: TopicRow) -> None: ...

    async def save(self, row: TopicRow) -> None:
        """Store every field of ``row`` (the topic exists)."""
        ...

    async def versions(self, topic_id: str) -> list[TopicVersion]:
        """Its versions, newest first."""
        ...

    async def version(self, topic_id: str, version: int) -> TopicVersion | None: ...

    async def add_version(self, version: TopicVersion) -> None: ...

    async def published(self) -> list[tuple[TopicRow, TopicVersion]]:
        """Every published topic with its live version: the set texters are served."""
        ...

    async def generation(self) -> int:
        """Bumped by every change to the published set; processes reload when it moves."""
        ...

    async def bump_generation(self, now: datetime) -> int: ...

    async def lock(self) -> None:
        """Hold the topics' lock to the end of the transaction (one change or import
        at a time, across processes)."""
        ...


@dataclass(frozen=True)
class TopicAsset:
    """An image or a conversation script that belongs to a topic (``topics/assets.py``).

    Images are served at ``topics/<topic_id>/<name>`` (their media key); scripts are
    YAML text kept as written.  ``data`` is None where only the list was asked for.
    """

    topic_id: str
    kind: Literal["image", "script"]
    name: str
    content_type: str
    size: int
    sha256: str
    updated_by: str
    updated_at: datetime
    data: bytes | None = None


class TopicAssetRepository(Protocol):
    """The topics' images and scripts, shared by a topic's draft and published version."""

    async def find(
        self, topic_id: str | None = None, *, with_data: bool = False
    ) -> list[TopicAsset]:
        """One topic's assets (every topic's with None), by kind then name."""
        ...

    async def get(self, topic_id: str, kind: str, name: str) -> TopicAsset | None:
        """The asset with its data."""
        ...

    async def put(self, asset: TopicAsset) -> None:
        """Store ``asset`` (with data), replacing one of the same topic, kind and name."""
        ...

    async def delete(self, topic_id: str, kind: str, name: str) -> bool:
        """Remove it; False when there was none."""
        ...


class TopicRepositories(Protocol):
    """What one change to the topics reads and writes."""

    @property
    def topics(self) -> TopicRepository: ...

    @property
    def assets(self) -> TopicAssetRepository: ...


class Engines(Protocol):
    """The virtual agent on the published topics (``topics/live.py``)."""

    @property
    def engine(self) -> Engine:
        """The engine of the topics published now."""
        ...

    async def engine_for(self, state: Mapping[str, Any] | None) -> Engine:
        """The engine for a conversation in ``state``: on the versions of the topics
        it is in the middle of, when those are no longer the published ones."""
        ...
