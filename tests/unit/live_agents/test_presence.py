"""The heartbeat on in-memory repositories: who is told as connected, and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from textdesk.live_agents.presence import MAX_BEAT_SECONDS, Heartbeat
from textdesk.testing.clock import FixedClock
from textdesk.testing.desk import FakePresence, fake_presence
from textdesk.testing.tables import FakeTables, FakeUnitOfWork, StoredAgent


@dataclass
class Rig:
    uow: FakeUnitOfWork[FakeTables, FakePresence] = field(default_factory=fake_presence)
    clock: FixedClock = field(default_factory=FixedClock)

    def heartbeat(self, grace: float = 45) -> Heartbeat:
        for agent_id in (1, 2, 3):
            self.uow.tables.agents.setdefault(agent_id, StoredAgent(agent_id, {1}))
        return Heartbeat(uow=self.uow, clock=self.clock, grace=timedelta(seconds=grace))

    def seen(self) -> dict[int, object]:
        return {i: a.last_seen_at for i, a in self.uow.tables.agents.items()}


async def test_a_beat_marks_every_agent_with_a_stream_open_here_as_seen_now() -> None:
    """Agents 1 and 2 have tabs open in this process; agent 3 does not and is left alone."""
    r = Rig()
    heartbeat = r.heartbeat()
    with heartbeat.connected(1), heartbeat.connected(2):
        assert await heartbeat.beat_all() == 0  # never "more work": the loop waits a beat
    assert r.seen() == {1: r.clock.now(), 2: r.clock.now(), 3: None}


async def test_an_agent_stays_connected_until_their_last_tab_closes() -> None:
    """Tabs are counted: closing one of two keeps the agent connected."""
    heartbeat = Rig().heartbeat()
    with heartbeat.connected(1):
        with heartbeat.connected(1):
            pass
        assert heartbeat.connected_ids == [1]
    assert heartbeat.connected_ids == []


async def test_with_no_stream_open_a_beat_writes_nothing() -> None:
    """No transaction at all when nobody is connected here."""
    r = Rig()
    await r.heartbeat().beat()
    assert r.uow.commits == 0


async def test_a_new_stream_is_told_at_once_for_its_agent_alone() -> None:
    """Opening the Workspace beats for that agent only, not for the others connected here."""
    r = Rig()
    heartbeat = r.heartbeat()
    with heartbeat.connected(1):
        r.clock.advance(5)
        await heartbeat.beat([2])
    assert r.seen() == {1: None, 2: r.clock.now(), 3: None}


def test_beats_come_three_times_per_grace_and_at_most_fifteen_seconds_apart() -> None:
    """A lost agent has missed three beats in a row; a long grace still beats every 15 s."""
    assert Rig().heartbeat(grace=3).every == 1.0
    assert Rig().heartbeat(grace=300).every == MAX_BEAT_SECONDS
