"""The admin repositories of ``ports.py`` on SQLAlchemy, and their units of work.

Each repository wraps the SQL of its table's module (``api_tokens.py``, ``directory.py``,
…) on one connection; nothing here adds a statement or a round trip.  Reads go through
``read()``: a plain connection, as before, so that on SQLite they neither take the
write lock nor wait for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import api_tokens, directory, staff_removal
from textdesk.adapters.db.repositories import SqlUnitOfWork
from textdesk.domain.live_agents import AgentLoad
from textdesk.ports import (
    AgentFootprint,
    AgentRow,
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

Repositories = TypeVar("Repositories")


class SqlReadingUnitOfWork(SqlUnitOfWork[Repositories]):
    """``ports.ReadingUnitOfWork`` on an engine; a unique key refused is ``ports.Duplicate``."""

    def __init__(self, db: AsyncEngine, make: Callable[[AsyncConnection], Repositories]) -> None:
        super().__init__(db, make)
        self._engine = db
        self._build = make

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[Repositories]:
        # Whatever statement of the transaction (or its commit) broke the key: the use
        # case says which key its own writes can break.
        try:
            async with self._engine.begin() as conn:
                yield self._build(conn)
        except IntegrityError as exc:
            raise Duplicate(str(exc.orig)) from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        async with self._engine.connect() as conn:
            yield self._build(conn)


# ---------------------------------------------------------------------- API tokens


class SqlApiTokens:
    """``ports.ApiTokenRepository`` (``adapters/db/api_tokens.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, *, name: str, digest: str, now: datetime) -> None:
        await api_tokens.add(self._conn, name=name, digest=digest, now=now)

    async def name_of(self, digest: str) -> str | None:
        return await api_tokens.name_of(self._conn, digest)

    async def mark_used(self, digest: str, now: datetime) -> None:
        await api_tokens.mark_used(self._conn, digest, now)

    async def all(self) -> list[TokenInfo]:
        return await api_tokens.list_tokens(self._conn)

    async def remove(self, token_id: int) -> bool:
        return await api_tokens.remove(self._conn, token_id)


class SqlApiTokenRepositories:
    """``ports.ApiTokenRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.tokens = SqlApiTokens(conn)


def api_tokens_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlApiTokenRepositories]:
    """The API-token use case's unit of work."""
    return SqlReadingUnitOfWork(db, SqlApiTokenRepositories)


# ------------------------------------------------------------------------- numbers


class SqlNumbers:
    """``ports.NumberRepository`` (``adapters/db/directory.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, phone: str) -> NumberRow | None:
        return await directory.get_number(self._conn, phone)

    async def add(self, phone: str, purpose: str, now: datetime) -> None:
        await directory.add_number(self._conn, phone, purpose, now)

    async def all(self) -> list[NumberRow]:
        return await directory.list_numbers(self._conn)

    async def remove(self, phone: str) -> bool:
        return await directory.remove_number(self._conn, phone)


class SqlNumberRepositories:
    """``ports.NumberRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.numbers = SqlNumbers(conn)


def numbers_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlNumberRepositories]:
    """The unit of work of the numbers use case and of the number directory."""
    return SqlReadingUnitOfWork(db, SqlNumberRepositories)


# ------------------------------------------------------------------------ accounts


class SqlUsers:
    """``ports.UserRepository`` (``adapters/db/directory.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, *, name: str, email: str | None, phone: str | None, now: datetime) -> int:
        return await directory.add_user(self._conn, name=name, email=email, phone=phone, now=now)

    async def get(self, user_id: int) -> UserRow | None:
        return await directory.get_user(self._conn, user_id)

    async def by_phones(self, phones: Sequence[str]) -> dict[str, UserRow]:
        return await directory.users_by_phone(self._conn, phones)

    async def all(self, *, limit: int | None = None, offset: int = 0) -> list[UserRow]:
        return await directory.list_users(self._conn, limit=limit, offset=offset)

    async def footprint(self, user_id: int) -> UserFootprint:
        return await directory.user_footprint(self._conn, user_id)

    async def remove(self, user: UserRow) -> None:
        await directory.remove_user(self._conn, user)


class SqlUserRepositories:
    """``ports.UserRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.users = SqlUsers(conn)


def users_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlUserRepositories]:
    """The accounts use case's unit of work."""
    return SqlReadingUnitOfWork(db, SqlUserRepositories)


# --------------------------------------------------------------------------- staff


class SqlStaff:
    """``ports.StaffRepository`` (``adapters/db/staff_removal.py``, ``agents.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def agents_with_queues(self) -> list[ListedAgent]:
        return await staff_removal.list_agents_with_queues(self._conn)

    async def agent_by_email(self, email: str) -> AgentRow | None:
        return await agent_store.agent_by_email(self._conn, email)

    async def agent_footprint(self, agent_id: int) -> AgentFootprint:
        return await staff_removal.agent_footprint(self._conn, agent_id)

    async def remove_agent(self, agent_id: int, now: datetime) -> list[OpenChat]:
        return await staff_removal.remove_agent(self._conn, agent_id, now)

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return await agent_store.queue_by_name(self._conn, name)

    async def queue_by_id(self, queue_id: int) -> QueueRow | None:
        return await agent_store.queue_by_id(self._conn, queue_id)

    async def queue_footprint(self, queue_id: int) -> QueueFootprint:
        return await staff_removal.queue_footprint(self._conn, queue_id)

    async def remove_queue(self, queue_id: int, name: str, now: datetime) -> list[OpenChat]:
        return await staff_removal.remove_queue(self._conn, queue_id, name, now)


class SqlStaffRepositories:
    """``ports.StaffRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.staff = SqlStaff(conn)


def staff_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlStaffRepositories]:
    """The staff use case's unit of work."""
    return SqlReadingUnitOfWork(db, SqlStaffRepositories)


# ------------------------------------------------------------------ agent accounts


class SqlAgentAccounts:
    """``ports.AgentAccountRepository`` (``adapters/db/agents.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def insert_agent(
        self, *, name: str, email: str, password_hash: str, role: str, capacity: int, now: datetime
    ) -> int:
        return await agent_store.insert_agent(
            self._conn,
            name=name,
            email=email,
            password_hash=password_hash,
            role=role,
            capacity=capacity,
            now=now,
        )

    async def agent_by_id(self, agent_id: int) -> AgentRow | None:
        return await agent_store.agent_by_id(self._conn, agent_id)

    async def agent_by_email(self, email: str) -> AgentRow | None:
        return await agent_store.agent_by_email(self._conn, email)

    async def list_agents(self) -> list[AgentRow]:
        return await agent_store.list_agents(self._conn)

    async def set_presence(self, agent_id: int, presence: str) -> None:
        await agent_store.set_presence(self._conn, agent_id, presence)

    async def sign_out(self, agent_id: int) -> None:
        await agent_store.sign_out(self._conn, agent_id)

    async def default_queue(self) -> QueueRow | None:
        return await agent_store.default_queue(self._conn)

    async def queue_by_name(self, name: str) -> QueueRow | None:
        return await agent_store.queue_by_name(self._conn, name)

    async def list_queues(self) -> list[QueueRow]:
        return await agent_store.list_queues(self._conn)

    async def upsert_queue(
        self,
        *,
        name: str,
        timezone: str,
        hours: dict[str, list[str]] | None,
        is_default: bool,
        now: datetime,
    ) -> int:
        return await agent_store.upsert_queue(
            self._conn, name=name, timezone=timezone, hours=hours, is_default=is_default, now=now
        )

    async def add_member(self, queue_id: int, agent_id: int) -> None:
        await agent_store.add_member(self._conn, queue_id, agent_id)

    async def loads(self, queue_id: int, *, seen_since: datetime) -> list[AgentLoad]:
        return await agent_store.loads(self._conn, queue_id, seen_since=seen_since)


class SqlAgentAccountRepositories:
    """``ports.AgentAccountRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.agents = SqlAgentAccounts(conn)


def agent_accounts_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlAgentAccountRepositories]:
    """The unit of work of the agent-account use cases and of the sign-in."""
    return SqlReadingUnitOfWork(db, SqlAgentAccountRepositories)
