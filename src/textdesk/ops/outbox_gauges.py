"""The outbox's backlog as gauges, refreshed when ``/metrics`` is scraped."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from textdesk import metrics
from textdesk.ports import Clock, OutboxBacklog, StoreUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxGauges:
    backlog: OutboxBacklog
    clock: Clock

    async def refresh(self) -> None:
        """Set the gauges from the database: the same answer from every process.

        When the database does not answer, the gauges keep their last values and the
        other metrics are still worth scraping; ``/readyz`` reports the database.
        """
        try:
            waiting = await self.backlog.read()
        except StoreUnavailable as exc:
            log.warning("outbox backlog for /metrics: %s", exc)
            return
        for state, count in waiting.waiting.items():
            metrics.OUTBOX_WAITING.labels(state).set(count)
        oldest = waiting.oldest_queued_at
        age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
        # Another process's clock may run a little ahead of ours.
        metrics.OUTBOX_OLDEST_WAITING.set(max(0.0, age))
        metrics.OUTBOX_RETRYING.set(waiting.retrying)
        metrics.SENDERS_PAUSED.set(len(waiting.paused))
