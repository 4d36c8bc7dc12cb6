"""The admin repositories of ``ports.py`` on SQLAlchemy, and their units of work.

Each repository wraps the SQL of its table's module (``api_tokens.py``, ``directory.py``,
…) on one connection; nothing here adds a statement or a round trip.  Reads go through
``read()``: a plain connection, as before, so that on SQLite they neither take the
write lock nor wait for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import api_tokens, directory
from textdesk.adapters.db.repositories import SqlUnitOfWork
from textdesk.ports import NumberRow, TokenInfo

Repositories = TypeVar("Repositories")


class SqlReadingUnitOfWork(SqlUnitOfWork[Repositories]):
    """``ports.ReadingUnitOfWork`` on an engine."""

    def __init__(self, db: AsyncEngine, make: Callable[[AsyncConnection], Repositories]) -> None:
        super().__init__(db, make)
        self._engine = db
        self._build = make

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
