"""Presence that follows the browser: the heartbeat of open Workspace connections.

Each process counts the live-updates streams (``/workspace/events``) it serves, per
agent, and writes ``agents.last_seen_at`` for those agents: once when a stream
opens, then every few seconds, in one statement for all of them.  The database is
the place every process reads, so the assigner and the wait estimate of any process
see an agent whose tab is open on another (Redis is not needed for it: one short
update per process per beat is far below what the database takes anyway).

A stream that closes is simply no longer refreshed: once its agent has not been seen
for the grace period (``TEXTDESK_PRESENCE_GRACE_SECONDS``) they are unreachable, and
``domain/live_agents.py`` keeps them out of offers and wait estimates.  Their chosen
presence is left as they set it.

The loop that beats every ``every`` seconds is built in ``bootstrap.py`` around
:meth:`Heartbeat.beat_all`.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from textdesk.ports import Clock, PresenceRepository, UnitOfWork

# Beats come at most this far apart: with the default grace of 45 s, an agent is
# lost only after three beats in a row went missing, never through one slow write.
MAX_BEAT_SECONDS = 15.0


class Heartbeat:
    """The agents with a live Workspace connection in this process, told to the database."""

    def __init__(
        self, *, uow: UnitOfWork[PresenceRepository], clock: Clock, grace: timedelta
    ) -> None:
        self._uow = uow
        self._clock = clock
        self.every = min(MAX_BEAT_SECONDS, grace.total_seconds() / 3)
        self._open: Counter[int] = Counter()

    @contextlib.contextmanager
    def connected(self, agent_id: int) -> Iterator[None]:
        """While this block runs, ``agent_id`` has a stream open here (tabs are counted)."""
        self._open[agent_id] += 1
        try:
            yield
        finally:
            self._open[agent_id] -= 1
            if self._open[agent_id] <= 0:
                del self._open[agent_id]

    @property
    def connected_ids(self) -> list[int]:
        return sorted(self._open)

    async def beat(self, agent_ids: list[int] | None = None) -> None:
        """Record that these agents (by default: all connected here) are connected now."""
        ids = self.connected_ids if agent_ids is None else agent_ids
        if not ids:
            return
        async with self._uow.begin() as presence:
            await presence.mark_seen(ids, self._clock.now())

    async def beat_all(self) -> int:
        """The loop's step: a failed beat is logged and tried again after ``every`` (the
        grace covers a couple of misses), so there is never "work left" to do at once."""
        await self.beat()
        return 0
