"""The live-agent desk's repositories of ``ports.py`` on SQLAlchemy.

Each wraps the SQL of its table's module (``agents.py``, …) on one connection, as
``repositories.py`` does for the dispatcher and the assigner; nothing here adds a
statement or a round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db.repositories import SqlUnitOfWork


class SqlPresence:
    """``ports.PresenceRepository`` (``agents.last_seen_at``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def mark_seen(self, agent_ids: Sequence[int], now: datetime) -> None:
        await agent_store.mark_seen(self._conn, agent_ids, now)


def presence(db: AsyncEngine) -> SqlUnitOfWork[SqlPresence]:
    """The heartbeat's unit of work: one transaction per beat."""
    return SqlUnitOfWork(db, SqlPresence)
