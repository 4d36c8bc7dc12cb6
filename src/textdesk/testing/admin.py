"""Fakes of the admin repositories: numbers, accounts, agents, queues, API tokens."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from textdesk.domain.live_agents import AgentLoad
from textdesk.ports import (
    AgentFootprint,
    AgentRow,
    ConversationSummary,
    DeliveredLine,
    Duplicate,
    ListedAgent,
    NumberRow,
    OpenChat,
    QueueFootprint,
    QueueRow,
    TokenInfo,
    UserFootprint,
    UserRow,
)
from textdesk.testing.tables import FakeUnitOfWork

_Tables = TypeVar("_Tables")
_Repositories = TypeVar("_Repositories")


class FakeReadingUnitOfWork(FakeUnitOfWork[_Tables, _Repositories]):
    """``ports.ReadingUnitOfWork`` over in-memory tables; ``reads`` counts the reads."""

    def __init__(self, tables: _Tables, make: Callable[[_Tables], _Repositories]) -> None:
        super().__init__(tables, make)
        self._build = make
        self.reads = 0

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[_Repositories]:
        self.reads += 1
        yield self._build(self.tables)


@dataclass
class StoredToken:
    """One API token of ``AdminTables``."""

    id: int
    name: str
    digest: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass
class StoredChat:
    """A hand-off of ``AdminTables``: the texter, where it stands, and with whom."""

    phone: str
    status: str  # waiting | offered | active | ended …
    queue_id: int
    agent_id: int | None = None
    offered_to: int | None = None


OPEN_STATUSES = ("waiting", "offered", "active")


@dataclass
class StoredIncident:
    """A record of ``AdminTables``, as the demo seed writes it."""

    number: str
    short_description: str
    urgency: int
    caller_id: int | None
    caller_phone: str
    state: str = "New"


@dataclass
class AdminTables:
    """What the admin fakes store; a test reads and arranges it directly."""

    tokens: list[StoredToken] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)  # phone -> purpose, as added
    users: dict[int, UserRow] = field(default_factory=dict)
    # What removing an account would delete or unlink, by its id (none when absent).
    footprints: dict[int, UserFootprint] = field(default_factory=dict)
    # Agents and queues not removed; a removed one is moved to ``removed_*``.
    agents: dict[int, AgentRow] = field(default_factory=dict)
    removed_agents: dict[int, AgentRow] = field(default_factory=dict)
    queues: dict[int, QueueRow] = field(default_factory=dict)
    removed_queues: dict[int, QueueRow] = field(default_factory=dict)
    members: set[tuple[int, int]] = field(default_factory=set)  # (queue id, agent id)
    chats: list[StoredChat] = field(default_factory=list)
    records: list[StoredIncident] = field(default_factory=list)
    conversations: list[ConversationSummary] = field(default_factory=list)
    lines: dict[int, list[DeliveredLine]] = field(default_factory=dict)  # by conversation


class FakeApiTokens:
    """``ports.ApiTokenRepository`` on ``AdminTables.tokens``."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    async def add(self, *, name: str, digest: str, now: datetime) -> None:
        next_id = max((t.id for t in self._t.tokens), default=0) + 1
        self._t.tokens.append(StoredToken(next_id, name, digest, now))

    async def name_of(self, digest: str) -> str | None:
        return next((t.name for t in self._t.tokens if t.digest == digest), None)

    async def mark_used(self, digest: str, now: datetime) -> None:
        for t in self._t.tokens:
            if t.digest == digest:
                t.last_used_at = now

    async def all(self) -> list[TokenInfo]:
        return [
            TokenInfo(t.id, t.name, t.created_at, t.last_used_at)
            for t in sorted(self._t.tokens, key=lambda t: t.id)
        ]

    async def remove(self, token_id: int) -> bool:
        kept = [t for t in self._t.tokens if t.id != token_id]
        removed = len(kept) != len(self._t.tokens)
        self._t.tokens[:] = kept
        return removed


class FakeApiTokenRepositories:
    """``ports.ApiTokenRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.tokens = FakeApiTokens(tables)


def fake_api_tokens(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakeApiTokenRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakeApiTokenRepositories)


class FakeNumbers:
    """``ports.NumberRepository`` on ``AdminTables.numbers``."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    async def get(self, phone: str) -> NumberRow | None:
        purpose = self._t.numbers.get(phone)
        return NumberRow(phone, purpose) if purpose is not None else None

    async def add(self, phone: str, purpose: str, now: datetime) -> None:
        if phone in self._t.numbers:
            raise ValueError(f"{phone} is already a number (the table's unique key)")
        self._t.numbers[phone] = purpose

    async def all(self) -> list[NumberRow]:
        return [NumberRow(phone, purpose) for phone, purpose in self._t.numbers.items()]

    async def remove(self, phone: str) -> bool:
        return self._t.numbers.pop(phone, None) is not None


class FakeNumberRepositories:
    """``ports.NumberRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.numbers = FakeNumbers(tables)


def fake_numbers(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakeNumberRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakeNumberRepositories)


class FakeUsers:
    """``ports.UserRepository`` on ``AdminTables.users``: one account per phone."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    async def add(self, *, name: str, email: str | None, phone: str | None, now: datetime) -> int:
        if phone is not None and any(u.phone == phone for u in self._t.users.values()):
            raise Duplicate(f"users.phone {phone}")
        user_id = max(self._t.users, default=0) + 1
        self._t.users[user_id] = UserRow(user_id, name, email, phone)
        return user_id

    async def get(self, user_id: int) -> UserRow | None:
        return self._t.users.get(user_id)

    async def by_phones(self, phones: Sequence[str]) -> dict[str, UserRow]:
        return {u.phone: u for u in self._t.users.values() if u.phone in phones and u.phone}

    async def all(self, *, limit: int | None = None, offset: int = 0) -> list[UserRow]:
        ordered = [self._t.users[i] for i in sorted(self._t.users)][offset:]
        return ordered if limit is None else ordered[:limit]

    async def footprint(self, user_id: int) -> UserFootprint:
        return self._t.footprints.get(user_id, UserFootprint(False, 0, 0, 0, 0))

    async def remove(self, user: UserRow) -> None:
        self._t.users.pop(user.id, None)
        self._t.footprints.pop(user.id, None)


class FakeUserRepositories:
    """``ports.UserRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.users = FakeUsers(tables)


def fake_users(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakeUserRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakeUserRepositories)


class FakeStaff:
    """``ports.StaffRepository`` on ``AdminTables``: removals kept as history."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    def _open(self, keep: Callable[[StoredChat], bool]) -> list[OpenChat]:
        return [
            OpenChat(c.phone, c.status)
            for c in self._t.chats
            if c.status in OPEN_STATUSES and keep(c)
        ]

    async def agents_with_queues(self) -> list[ListedAgent]:
        def queues_of(agent_id: int) -> tuple[str, ...]:
            return tuple(
                sorted(
                    q.name for q in self._t.queues.values() if (q.id, agent_id) in self._t.members
                )
            )

        return [
            ListedAgent(a.id, a.name, a.email, a.role, a.capacity, a.presence, queues_of(a.id))
            for a in sorted(self._t.agents.values(), key=lambda a: a.name)
        ]

    async def agent_by_email(self, email: str) -> AgentRow | None:
        return next((a for a in self._t.agents.values() if a.email == email.lower()), None)

    async def agent_footprint(self, agent_id: int) -> AgentFootprint:
        return AgentFootprint(
            open_chats=self._open(lambda c: agent_id in (c.agent_id, c.offered_to)),
            queues=sum(1 for _, a in self._t.members if a == agent_id),
            handoffs=sum(1 for c in self._t.chats if c.agent_id == agent_id),
            lines=0,
        )

    async def remove_agent(self, agent_id: int, now: datetime) -> list[OpenChat]:
        agent = self._t.agents.pop(agent_id)
        self._t.removed_agents[agent_id] = agent
        held = self._open(lambda c: agent_id in (c.agent_id, c.offered_to))
        if not held:
            self._t.members = {(q, a) for q, a in self._t.members if a != agent_id}
        return held

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.name == name), None)

    async def queue_by_id(self, queue_id: int) -> QueueRow | None:
        return self._t.queues.get(queue_id)

    async def queue_footprint(self, queue_id: int) -> QueueFootprint:
        return QueueFootprint(
            open_chats=self._open(lambda c: c.queue_id == queue_id),
            members=sum(1 for q, _ in self._t.members if q == queue_id),
            handoffs=sum(
                1 for c in self._t.chats if c.queue_id == queue_id and c.status not in OPEN_STATUSES
            ),
        )

    async def remove_queue(self, queue_id: int, name: str, now: datetime) -> list[OpenChat]:
        self._t.removed_queues[queue_id] = self._t.queues.pop(queue_id)
        return self._open(lambda c: c.queue_id == queue_id)


class FakeStaffRepositories:
    """``ports.StaffRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.staff = FakeStaff(tables)


def fake_staff(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakeStaffRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakeStaffRepositories)


class FakeAgentAccounts:
    """``ports.AgentAccountRepository`` on ``AdminTables``: emails kept lowercase and unique."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    async def insert_agent(
        self, *, name: str, email: str, password_hash: str, role: str, capacity: int, now: datetime
    ) -> int:
        if any(a.email == email.lower() for a in self._t.agents.values()):
            raise Duplicate(f"agents.email {email}")
        agent_id = max([*self._t.agents, *self._t.removed_agents], default=0) + 1
        self._t.agents[agent_id] = AgentRow(
            agent_id, name, email.lower(), role, "offline", capacity, password_hash
        )
        return agent_id

    async def agent_by_id(self, agent_id: int) -> AgentRow | None:
        return self._t.agents.get(agent_id)

    async def agent_by_email(self, email: str) -> AgentRow | None:
        return next((a for a in self._t.agents.values() if a.email == email.lower()), None)

    async def list_agents(self) -> list[AgentRow]:
        return sorted(self._t.agents.values(), key=lambda a: a.name)

    async def set_presence(self, agent_id: int, presence: str) -> None:
        if agent_id in self._t.agents:
            self._t.agents[agent_id] = dataclasses.replace(
                self._t.agents[agent_id], presence=presence
            )

    async def sign_out(self, agent_id: int) -> None:
        if agent_id in self._t.agents:
            agent = self._t.agents[agent_id]
            self._t.agents[agent_id] = dataclasses.replace(
                agent, presence="offline", session_epoch=agent.session_epoch + 1
            )

    async def default_queue(self) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.is_default), None)

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return next((q for q in self._t.queues.values() if q.name == name), None)

    async def list_queues(self) -> list[QueueRow]:
        return sorted(self._t.queues.values(), key=lambda q: q.name)

    async def upsert_queue(
        self,
        *,
        name: str,
        timezone: str,
        hours: dict[str, list[str]] | None,
        is_default: bool,
        now: datetime,
    ) -> int:
        existing = await self.queue_by_name(name)
        # As the SQL: the first queue is the default until another is named so.
        is_default = is_default or await self.default_queue() is None
        if is_default:
            for q in list(self._t.queues.values()):
                self._t.queues[q.id] = dataclasses.replace(q, is_default=False)
        if existing is not None:
            self._t.queues[existing.id] = QueueRow(
                existing.id, name, is_default or existing.is_default, timezone, hours
            )
            return existing.id
        queue_id = max([*self._t.queues, *self._t.removed_queues], default=0) + 1
        self._t.queues[queue_id] = QueueRow(queue_id, name, is_default, timezone, hours)
        return queue_id

    async def add_member(self, queue_id: int, agent_id: int) -> None:
        self._t.members.add((queue_id, agent_id))

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        return [
            AgentLoad(
                a.id,
                a.presence,
                a.capacity,
                sum(1 for c in self._t.chats if a.id in (c.agent_id, c.offered_to)),
                None,
                reachable=a.last_seen_at is not None and a.last_seen_at >= seen_since,
            )
            for a in self._t.agents.values()
            if (queue_id, a.id) in self._t.members
        ]


class FakeAgentAccountRepositories:
    """``ports.AgentAccountRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.agents = FakeAgentAccounts(tables)


def fake_agent_accounts(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakeAgentAccountRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakeAgentAccountRepositories)


class FakeDemoRecords:
    """``ports.DemoRecordRepository`` on ``AdminTables.records``."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    async def any(self) -> bool:
        return bool(self._t.records)

    async def create(
        self,
        *,
        short_description: str,
        urgency: int,
        caller_id: int | None,
        caller_phone: str,
        now: datetime,
    ) -> str:
        number = f"INC{len(self._t.records) + 1:07d}"
        self._t.records.append(
            StoredIncident(number, short_description, urgency, caller_id, caller_phone)
        )
        return number

    async def set_state(self, number: str, state: str, now: datetime) -> None:
        next(r for r in self._t.records if r.number == number).state = state


class FakeDemoRepositories:
    """``ports.DemoRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.agents = FakeAgentAccounts(tables)
        self.users = FakeUsers(tables)
        self.records = FakeDemoRecords(tables)


def fake_demo_seed(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakeDemoRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakeDemoRepositories)


class FakeConversationPages:
    """``ports.ConversationPages`` on ``AdminTables.conversations`` and ``lines``."""

    def __init__(self, tables: AdminTables) -> None:
        self._t = tables

    async def page(self, *, limit: int, offset: int) -> list[ConversationSummary]:
        newest = sorted(self._t.conversations, key=lambda c: (c.updated_at, c.id), reverse=True)
        return newest[offset : offset + limit]

    async def transcript(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> list[DeliveredLine]:
        return self._t.lines.get(conversation_id, [])[offset : offset + limit]


class FakePeopleRepositories:
    """``ports.PeopleRepositories`` on ``AdminTables``."""

    def __init__(self, tables: AdminTables) -> None:
        self.users = FakeUsers(tables)
        self.conversations = FakeConversationPages(tables)


def fake_people(
    tables: AdminTables | None = None,
) -> FakeReadingUnitOfWork[AdminTables, FakePeopleRepositories]:
    return FakeReadingUnitOfWork(tables or AdminTables(), FakePeopleRepositories)
