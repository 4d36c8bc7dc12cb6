"""What the outbox is still waiting to send, for /metrics and the Workspace banner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import sender_pauses
from textdesk.adapters.db.outbox import UNSENT
from textdesk.adapters.db.tables import outbox
from textdesk.ports import Backlog, StoreUnavailable


async def backlog(conn: AsyncConnection) -> Backlog:
    """Read the backlog: two indexed queries on the outbox, one on a near-empty table."""
    waiting = {state: 0 for state in UNSENT}
    oldest: datetime | None = None
    for state, count, first in await conn.execute(
        select(outbox.c.status, func.count(), func.min(outbox.c.created_at))
        .where(outbox.c.status.in_(UNSENT))
        .group_by(outbox.c.status)
    ):
        waiting[state] = int(count)
        oldest = first if oldest is None or first < oldest else oldest
    retrying = await conn.scalar(
        select(func.count())
        .select_from(outbox)
        # Not "claimed": a text in flight has an attempt behind it without any failure.
        .where(outbox.c.status.in_(("pending", "in_doubt")), outbox.c.attempts > 0)
    )
    paused = sorted((await sender_pauses.load(conn)).values(), key=lambda p: p.failing_since)
    return Backlog(waiting, oldest, int(retrying or 0), paused)


class SqlOutboxBacklog:
    """``ports.OutboxBacklog``: :func:`backlog` on a connection of its own."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def read(self) -> Backlog:
        try:
            async with self._db.connect() as conn:
                return await backlog(conn)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(str(exc)) from exc
