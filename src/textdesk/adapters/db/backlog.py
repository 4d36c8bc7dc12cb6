"""What the outbox is still waiting to send, for /metrics and the Workspace banner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import sender_pauses
from textdesk.adapters.db.outbox import UNSENT
from textdesk.adapters.db.tables import outbox
from textdesk.domain.sender_pauses import Pause


@dataclass(frozen=True)
class Backlog:
    """Texts not yet in Twilio's hands, and the numbers paused meanwhile."""

    waiting: dict[str, int]  # by state: pending, claimed, in_doubt
    oldest_queued_at: datetime | None
    # Waiting texts with a failed attempt behind them.
    retrying: int
    paused: list[Pause]

    @property
    def total(self) -> int:
        return sum(self.waiting.values())

    @property
    def troubled(self) -> bool:
        """Worth telling staff: Twilio refuses sends, not merely a busy minute."""
        return bool(self.paused) or self.retrying > 0

    @property
    def failing_since(self) -> datetime | None:
        return min((p.failing_since for p in self.paused), default=None)

    def give_up_at(self, window: timedelta) -> datetime | None:
        """When the oldest waiting text stops being retried."""
        return None if self.oldest_queued_at is None else self.oldest_queued_at + window


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
