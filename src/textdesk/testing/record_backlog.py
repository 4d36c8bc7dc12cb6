"""Fakes of the kept-report ports (``ports.RecordBacklogRepositories``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from textdesk.ports import PendingRecord
from textdesk.testing.live_agents import FakeConversations
from textdesk.testing.sending import FakeOutbox
from textdesk.testing.tables import FakeTables, FakeUnitOfWork


@dataclass
class KeptReport:
    """One kept report as the backlog holds it."""

    pending: PendingRecord
    kept_at: datetime
    retry_at: datetime | None = None
    claimed_until: datetime | None = None
    made_at: datetime | None = None
    record_number: str | None = None
    last_error: str | None = None


@dataclass
class BacklogTables(FakeTables):
    """The outbox and transcripts of ``FakeTables``, and the kept reports."""

    kept: list[KeptReport] = field(default_factory=list)


class FakeRecordBacklog:
    """``ports.RecordBacklog`` on ``BacklogTables.kept``."""

    def __init__(self, tables: BacklogTables) -> None:
        self._t = tables

    async def keep(self, pending: PendingRecord, now: datetime) -> None:
        if any(k.pending.key == pending.key for k in self._t.kept):
            return
        row_id = max((k.pending.id for k in self._t.kept), default=0) + 1
        self._t.kept.append(KeptReport(replace(pending, id=row_id, attempts=0), kept_at=now))

    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> list[PendingRecord]:
        due = [
            k
            for k in self._t.kept
            if k.made_at is None
            and (k.retry_at is None or k.retry_at <= now)
            and (k.claimed_until is None or k.claimed_until <= now)
        ][:limit]
        for k in due:
            k.claimed_until = until
        return [k.pending for k in due]

    def _row(self, pending_id: int) -> KeptReport:
        return next(k for k in self._t.kept if k.pending.id == pending_id)

    async def made(self, pending_id: int, number: str, now: datetime) -> None:
        row = self._row(pending_id)
        row.made_at, row.record_number, row.claimed_until = now, number, None

    async def retry_at(self, pending_id: int, when: datetime, error: str) -> None:
        row = self._row(pending_id)
        row.pending = replace(row.pending, attempts=row.pending.attempts + 1)
        row.retry_at, row.claimed_until, row.last_error = when, None, error

    async def waiting(self) -> int:
        return sum(1 for k in self._t.kept if k.made_at is None)


class FakeRecordBacklogRepositories:
    """``ports.RecordBacklogRepositories`` on ``BacklogTables``."""

    def __init__(self, tables: BacklogTables) -> None:
        self.backlog = FakeRecordBacklog(tables)
        self.outbox = FakeOutbox(tables)
        self.transcripts = FakeConversations(tables)


def fake_record_backlog(
    tables: BacklogTables | None = None,
) -> FakeUnitOfWork[BacklogTables, FakeRecordBacklogRepositories]:
    """The kept reports' unit of work, in memory."""
    return FakeUnitOfWork(tables or BacklogTables(), FakeRecordBacklogRepositories)
