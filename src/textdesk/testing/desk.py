"""Fakes of the live-agent desk's repositories: presence, the agents' actions, the read models.

They keep their rows in the shared ``FakeTables`` (``testing/tables.py``), beside the
assigner's and the hand-off's, so one test can follow a chat through all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from textdesk.testing.tables import FakeTables, FakeUnitOfWork


class FakePresence:
    """``ports.PresenceRepository`` on ``FakeTables.agents`` (unknown ids are ignored,
    as the UPDATE of a removed agent's row changes nothing)."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def mark_seen(self, agent_ids: Sequence[int], now: datetime) -> None:
        for agent_id in agent_ids:
            if agent_id in self._t.agents:
                self._t.agents[agent_id].last_seen_at = now


def fake_presence(tables: FakeTables | None = None) -> FakeUnitOfWork[FakeTables, FakePresence]:
    """The heartbeat's unit of work, in memory."""
    return FakeUnitOfWork(tables or FakeTables(), FakePresence)
