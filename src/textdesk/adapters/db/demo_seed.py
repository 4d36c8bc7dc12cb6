"""The demo seed's repositories (``ports.DemoRepositories``) on SQLAlchemy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import records as record_store
from textdesk.adapters.db.admin import SqlAgentAccounts, SqlReadingUnitOfWork, SqlUsers


class SqlDemoRecords:
    """``ports.DemoRecordRepository`` (``adapters/db/records.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def any(self) -> bool:
        return bool(await record_store.list_records(self._conn, limit=1))

    async def create(
        self,
        *,
        short_description: str,
        urgency: int,
        caller_id: int | None,
        caller_phone: str,
        now: datetime,
    ) -> str:
        record = await record_store.create(
            self._conn,
            short_description=short_description,
            urgency=urgency,
            caller_id=caller_id,
            caller_phone=caller_phone,
            now=now,
        )
        return record.number

    async def set_state(self, number: str, state: str, now: datetime) -> None:
        await record_store.apply_update(self._conn, number, {"state": state}, now)


class SqlDemoRepositories:
    """``ports.DemoRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.agents = SqlAgentAccounts(conn)
        self.users = SqlUsers(conn)
        self.records = SqlDemoRecords(conn)


def demo_seed_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlDemoRepositories]:
    """The demo seed's unit of work."""
    return SqlReadingUnitOfWork(db, SqlDemoRepositories)
