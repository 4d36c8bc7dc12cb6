"""The group committer hands each committed batch's note to its writer, and no other."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.ports import WriteKind, Written

THING = WriteKind[str, int]("thing")
OTHER = WriteKind[str, str]("other")


def _connection(conn: AsyncConnection) -> AsyncConnection:
    """The writers here are handed the batch's bare connection."""
    return conn


async def test_a_failed_batch_is_reported_undone_and_a_good_one_committed(
    database_url: str,
) -> None:
    """A failing batch, retried alone, fails again and its note never arrives."""
    db = create_engine(database_url)
    committer = GroupCommitter(db, _connection)
    notes: list[list[str]] = []

    async def write(conn: AsyncConnection, items: Sequence[str]) -> Written[int, list[str]]:
        await conn.execute(text("SELECT 1"))
        if "boom" in items:
            raise RuntimeError("the batch failed")
        return Written([len(item) for item in items], list(items))

    committer.register(THING, write, committed=notes.append)
    await committer.start()
    try:
        with pytest.raises(RuntimeError, match="the batch failed"):
            await committer.submit(THING, "boom")
        assert await committer.submit(THING, "fine") == 4
    finally:
        await committer.stop()
        await db.dispose()
    assert notes == [["fine"]]


async def test_each_writer_gets_its_own_batchs_note_after_the_commit(database_url: str) -> None:
    """Two kinds in one batch, one commit: each writer's note reaches it once."""
    db = create_engine(database_url)
    committer = GroupCommitter(db, _connection)
    seen: list[tuple[str, object]] = []

    async def write_thing(conn: AsyncConnection, items: Sequence[str]) -> Written[int, int]:
        return Written([len(i) for i in items], len(items))

    async def write_other(conn: AsyncConnection, items: Sequence[str]) -> Written[str, str]:
        return Written([i.upper() for i in items], "+".join(items))

    committer.register(THING, write_thing, committed=lambda note: seen.append(("thing", note)))
    committer.register(OTHER, write_other, committed=lambda note: seen.append(("other", note)))
    await committer.start()
    try:
        results = await asyncio.gather(
            committer.submit(THING, "ab"),
            committer.submit(OTHER, "x"),
            committer.submit(THING, "cde"),
            committer.submit(OTHER, "y"),
        )
    finally:
        await committer.stop()
        await db.dispose()
    assert results == [2, "X", 3, "Y"]
    assert committer.batches == 1
    assert seen == [("thing", 2), ("other", "x+y")]
