"""Fakes of the admin repositories: numbers, accounts, agents, queues, API tokens."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from textdesk.ports import Duplicate, NumberRow, TokenInfo, UserFootprint, UserRow
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
class AdminTables:
    """What the admin fakes store; a test reads and arranges it directly."""

    tokens: list[StoredToken] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)  # phone -> purpose, as added
    users: dict[int, UserRow] = field(default_factory=dict)
    # What removing an account would delete or unlink, by its id (none when absent).
    footprints: dict[int, UserFootprint] = field(default_factory=dict)


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
