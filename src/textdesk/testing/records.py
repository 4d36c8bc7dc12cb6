"""Fakes of the record ports (``ports.RecordRepositories``, ``ports.RecordLinks``).

They keep the built-in store's rules (numbering, newest first, a caller's records by
account or phone, validated changes) on in-memory tables that roll back on error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textdesk.domain.records import (
    OPEN_STATES,
    Comment,
    NewRecord,
    Record,
    belongs_to,
    changes,
    number_for,
)
from textdesk.testing.admin import FakeReadingUnitOfWork


@dataclass
class RecordTables:
    """What the record fakes store; a test reads and arranges it directly."""

    records: list[Record] = field(default_factory=list)
    # Account names by user id: the accounts a record may name as its caller.
    users: dict[int, str] = field(default_factory=dict)

    def record(self, number: str) -> Record:
        """The record numbered ``number``."""
        return next(r for r in self.records if r.number == number)


class FakeRecordStore:
    """``ports.RecordRepository`` on ``RecordTables``."""

    def __init__(self, tables: RecordTables) -> None:
        self._tables = tables

    async def get(self, number: str) -> Record | None:
        wanted = number.upper()
        return next((r for r in self._tables.records if r.number == wanted), None)

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        mine = [
            r
            for r in reversed(self._tables.records)
            if r.is_open and belongs_to(r, user_id=user_id, phone=phone)
        ]
        return mine[:limit]

    async def page(
        self,
        *,
        caller_id: int | None,
        caller_phone: str | None,
        open_only: bool,
        limit: int,
        offset: int,
    ) -> list[Record]:
        found = [
            r
            for r in reversed(self._tables.records)
            if _names_caller(r, caller_id, caller_phone)
            and (not open_only or r.state in OPEN_STATES)
        ]
        return found[offset : offset + limit]

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        record_id = len(self._tables.records) + 1
        stored = Record(
            id=record_id,
            number=number_for(record_id),
            short_description=record.short_description,
            description=record.description,
            category=record.category,
            state=record.state,
            urgency=record.urgency,
            priority=record.priority,
            caller_id=record.caller_id,
            caller_name=self._tables.users.get(record.caller_id) if record.caller_id else None,
            caller_phone=record.caller_phone,
            assigned_to=None,
            opened_at=now,
            updated_at=now,
            attachments=record.attachments,
        )
        self._tables.records.append(stored)
        return stored

    async def update(
        self, number: str, fields: Mapping[str, Any], *, now: datetime
    ) -> Record | None:
        before = await self.get(number)
        if before is None:
            return None
        changed = changes(before, dict(fields))
        if not changed:
            return before
        return self._replace(before, dataclasses.replace(before, **changed, updated_at=now))

    async def add_comment(
        self, number: str, *, author: str, body: str, now: datetime, public: bool = True
    ) -> Record | None:
        before = await self.get(number)
        if before is None:
            return None
        comment = Comment(author, body, now, public)
        after = dataclasses.replace(before, comments=(*before.comments, comment), updated_at=now)
        return self._replace(before, after)

    def _replace(self, before: Record, after: Record) -> Record:
        self._tables.records[self._tables.records.index(before)] = after
        return after


def _names_caller(record: Record, caller_id: int | None, caller_phone: str | None) -> bool:
    """The store's filter: by account, by phone, or (given both) by either."""
    if caller_id is not None and caller_phone is not None:
        return belongs_to(record, user_id=caller_id, phone=caller_phone)
    if caller_id is not None:
        return record.caller_id == caller_id
    if caller_phone is not None:
        return record.caller_phone == caller_phone
    return True


class FakeCallerAccounts:
    """``ports.CallerAccounts`` on ``RecordTables.users``."""

    def __init__(self, tables: RecordTables) -> None:
        self._tables = tables

    async def exists(self, user_id: int) -> bool:
        return user_id in self._tables.users


class FakeRecordRepositories:
    """``ports.RecordRepositories`` on ``RecordTables``."""

    def __init__(self, tables: RecordTables) -> None:
        self.records = FakeRecordStore(tables)
        self.callers = FakeCallerAccounts(tables)


def fake_records(
    tables: RecordTables | None = None,
) -> FakeReadingUnitOfWork[RecordTables, FakeRecordRepositories]:
    """A unit of work over record tables (new, empty ones by default)."""
    return FakeReadingUnitOfWork(tables or RecordTables(), FakeRecordRepositories)


class NumberLinks:
    """``ports.RecordLinks`` tagged with the number reversed, so a test can write a good or a
    forged link by hand."""

    def url_for(self, number: str) -> str:
        return f"https://desk.example/r/{number}.{number[::-1]}"

    def number_for(self, token: str) -> str | None:
        number, _, tag = token.partition(".")
        return number if number and tag == number[::-1] else None
