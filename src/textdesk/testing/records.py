"""Fakes of the record ports (``ports.RecordRepositories``, ``ports.RecordLinks``).

They keep the built-in store's rules (numbering, newest first, a caller's records by
account or phone, validated changes) on in-memory tables that roll back on error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from textdesk.domain.records import (
    OPEN_STATES,
    NewRecord,
    Record,
    belongs_to,
)
from textdesk.testing.admin import FakeReadingUnitOfWork
from textdesk.topic_tools.script_world import MemoryRecords


@dataclass
class RecordTables:
    """What the record fakes store; a test reads and arranges it directly."""

    records: list[Record] = field(default_factory=list)
    # Account names by user id: the accounts a record may name as its caller.
    users: dict[int, str] = field(default_factory=dict)

    def record(self, number: str) -> Record:
        """The record numbered ``number``."""
        return next(r for r in self.records if r.number == number)


class FakeRecordStore(MemoryRecords):
    """``ports.RecordRepository`` on ``RecordTables``: the script world's store, plus paging."""

    def __init__(self, tables: RecordTables) -> None:
        super().__init__()
        # The tables' own list and names, so a test sees and arranges what the store holds.
        self.records = tables.records
        self._names = tables.users

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
            for r in reversed(self.records)
            if _names_caller(r, caller_id, caller_phone)
            and (not open_only or r.state in OPEN_STATES)
        ]
        return found[offset : offset + limit]


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


class StoreDown(ConnectionError):
    """What ``FakeRemoteRecords`` raises while it is down."""


class FakeRemoteRecords(MemoryRecords):
    """A remote ``ports.RecordStore`` (ServiceNow's part): down while ``down`` is set,
    and a create with a key it has seen answers the record that key made."""

    remote = True

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0
        self._by_key: dict[str, Record] = {}

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        self.calls += 1
        if self.down:
            raise StoreDown("the instance does not answer")
        if record.key is not None and record.key in self._by_key:
            return self._by_key[record.key]
        made = self.add(record, now=now)
        if record.key is not None:
            self._by_key[record.key] = made
        return made
