"""What polling keeps of an instance's incidents and rounds, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from textdesk.adapters.db.admin import SqlReadingUnitOfWork
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.notification_repositories import (
    SqlInstancePolling,
    instance_events,
    instance_polling,
)
from textdesk.domain.instance_changes import PollClaim, Snapshot
from textdesk.domain.servicenow_events import InstanceEvent

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
LEASE = timedelta(seconds=120)
T1, T2, T3 = "2026-12-02 05:01:00", "2026-12-02 05:02:00", "2026-12-02 05:03:00"


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[SqlReadingUnitOfWork[SqlInstancePolling]]:
    db = create_engine(database_url)
    yield instance_polling(db)
    await db.dispose()


def posted(event: str, on: str, **values: str) -> InstanceEvent:
    return InstanceEvent("vpn", "INC0010001", event, "alice", on, **values)


async def test_a_snapshots_parts_only_move_forward_whoever_writes_them(
    uow: SqlReadingUnitOfWork[SqlInstancePolling],
) -> None:
    async with uow.begin() as repos:
        await repos.snapshots.keep([Snapshot("vpn", "New", T1, "", T1, T1)], NOW)
    async with uow.begin() as repos:
        # A state change posted at T3, then a round that had read the incident at T2.
        await repos.snapshots.advance(posted("state_changed", T3, state="Resolved"))
        await repos.snapshots.keep([Snapshot("vpn", "In Progress", T2, "Pat", T2, T2)], NOW)
        await repos.snapshots.advance(posted("assigned", T1, assigned_to="Sam"))  # late
    async with uow.read() as repos:
        kept = await repos.snapshots.of(["vpn", "other"])
    assert kept == {"vpn": Snapshot("vpn", "Resolved", T3, "Pat", T2, T2)}


async def test_an_event_about_an_incident_not_kept_adds_none(
    uow: SqlReadingUnitOfWork[SqlInstancePolling],
) -> None:
    async with uow.begin() as repos:
        await repos.snapshots.advance(posted("state_changed", T1, state="Resolved"))
    async with uow.read() as repos:
        assert await repos.snapshots.of(["vpn"]) == {}


async def test_a_round_is_claimed_once_until_it_is_due_again_and_the_cursor_never_goes_back(
    uow: SqlReadingUnitOfWork[SqlInstancePolling],
) -> None:
    async with uow.begin() as repos:
        assert await repos.rounds.claim(now=NOW, lease=LEASE) == PollClaim(None)
    async with uow.begin() as repos:
        assert await repos.rounds.claim(now=NOW + LEASE / 2, lease=LEASE) is None  # held
        await repos.rounds.finish(cursor=T2, due_at=NOW + LEASE / 2)
    async with uow.begin() as repos:
        assert await repos.rounds.claim(now=NOW + LEASE / 2, lease=LEASE) == PollClaim(T2)
        await repos.rounds.finish(cursor=T1, due_at=NOW + LEASE)
    async with uow.begin() as repos:
        assert await repos.rounds.claim(now=NOW + LEASE, lease=LEASE) == PollClaim(T2)
        await repos.rounds.release(due_at=NOW + 2 * LEASE)
    async with uow.begin() as repos:
        assert await repos.rounds.claim(now=NOW + LEASE * 3 / 2, lease=LEASE) is None


async def test_the_events_noted_before_are_told_apart_from_the_new(database_url: str) -> None:
    db = create_engine(database_url)
    pat = posted("assigned", T1, assigned_to="Pat")
    try:
        async with instance_events(db).begin() as repos:
            await repos.seen.first_time(
                sys_id="vpn", event="assigned", updated_on=T1, digest=pat.digest, now=NOW
            )
        sam = posted("assigned", T1, assigned_to="Sam")  # the same second, someone else
        keys = [
            ("vpn", "assigned", T1, pat.digest),
            ("vpn", "assigned", T1, sam.digest),
            ("vpn", "assigned", T2, pat.digest),
        ]
        async with instance_polling(db).read() as repos:
            noted = await repos.seen.noted(keys)
    finally:
        await db.dispose()
    assert noted == {("vpn", "assigned", T1, pat.digest)}
