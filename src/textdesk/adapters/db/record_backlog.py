"""``ports.RecordBacklog`` and its unit of work: reports kept for a remote record store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import conversations
from textdesk.adapters.db.repositories import SqlOutbox, SqlUnitOfWork
from textdesk.adapters.db.tables import record_backlog as backlog
from textdesk.domain.records import NewRecord
from textdesk.ports import PendingRecord, TranscriptEntry


def _record_json(record: NewRecord) -> dict[str, Any]:
    data = asdict(record)
    data["attachments"] = list(record.attachments)
    return data


def _record_of(data: dict[str, Any]) -> NewRecord:
    return NewRecord(**{**data, "attachments": tuple(data.get("attachments") or ())})


class SqlRecordBacklog:
    """The ``record_backlog`` table on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def keep(self, pending: PendingRecord, now: datetime) -> None:
        values = {
            "key": pending.key,
            "record": _record_json(pending.record),
            "phone": pending.phone,
            "number": pending.number,
            "conversation_id": pending.conversation_id,
            "message": pending.message,
            "kept_at": now,
            "attempts": 0,
        }
        # The same turn resumed twice (a crash between the two) keeps one report.
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(
                postgresql.insert(backlog)
                .values(values)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        elif self._conn.dialect.name == "sqlite":
            await self._conn.execute(
                sqlite.insert(backlog).values(values).on_conflict_do_nothing(index_elements=["key"])
            )
        else:  # pragma: no cover - the two dialects textdesk runs on are above
            await self._conn.execute(insert(backlog).values(values))

    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> list[PendingRecord]:
        free = or_(backlog.c.claimed_until.is_(None), backlog.c.claimed_until <= now)
        due = (
            select(backlog.c.id)
            .where(
                backlog.c.made_at.is_(None),
                or_(backlog.c.retry_at.is_(None), backlog.c.retry_at <= now),
                free,
            )
            .order_by(backlog.c.id)
            .limit(limit)
        )
        ids = list((await self._conn.execute(due)).scalars())
        if not ids:
            return []
        # Guarded again: another process that claimed one meanwhile keeps it.
        claimed = await self._conn.execute(
            update(backlog)
            .where(backlog.c.id.in_(ids), backlog.c.made_at.is_(None), free)
            .values(claimed_until=until)
            .returning(
                backlog.c.id,
                backlog.c.key,
                backlog.c.record,
                backlog.c.phone,
                backlog.c.number,
                backlog.c.conversation_id,
                backlog.c.message,
                backlog.c.attempts,
            )
        )
        rows = sorted(claimed.mappings(), key=lambda r: int(r["id"]))
        return [
            PendingRecord(
                id=int(r["id"]),
                key=str(r["key"]),
                record=_record_of(dict(r["record"])),
                phone=str(r["phone"]),
                number=str(r["number"]),
                conversation_id=r["conversation_id"],
                message=str(r["message"]),
                attempts=int(r["attempts"]),
            )
            for r in rows
        ]

    async def made(self, pending_id: int, number: str, now: datetime) -> None:
        await self._conn.execute(
            update(backlog)
            .where(backlog.c.id == pending_id)
            .values(made_at=now, record_number=number, claimed_until=None, last_error=None)
        )

    async def retry_at(self, pending_id: int, when: datetime, error: str) -> None:
        await self._conn.execute(
            update(backlog)
            .where(backlog.c.id == pending_id)
            .values(
                attempts=backlog.c.attempts + 1,
                retry_at=when,
                claimed_until=None,
                last_error=error[:2000],
            )
        )

    async def waiting(self) -> int:
        query = select(func.count()).select_from(backlog).where(backlog.c.made_at.is_(None))
        return int((await self._conn.execute(query)).scalar_one())


class SqlTranscripts:
    """``ports.Transcripts`` (``conversations.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def append(self, entries: Sequence[TranscriptEntry], now: datetime) -> None:
        await conversations.append(self._conn, entries, now)


class SqlRecordBacklogRepositories:
    """``ports.RecordBacklogRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.backlog = SqlRecordBacklog(conn)
        self.outbox = SqlOutbox(conn)
        self.transcripts = SqlTranscripts(conn)


def record_backlog(db: AsyncEngine) -> SqlUnitOfWork[SqlRecordBacklogRepositories]:
    """The unit of work of making kept reports."""
    return SqlUnitOfWork(db, SqlRecordBacklogRepositories)
