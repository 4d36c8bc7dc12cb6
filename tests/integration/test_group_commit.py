"""The group committer tells its listeners whether a batch stayed or was undone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.group_commit import GroupCommitter


async def test_a_failed_batch_is_reported_undone_and_a_good_one_committed(
    database_url: str,
) -> None:
    db = create_engine(database_url)
    committer = GroupCommitter(db)
    events: list[str] = []

    async def write(conn: AsyncConnection, items: Sequence[Any]) -> list[int]:
        await conn.execute(text("SELECT 1"))
        if "boom" in items:
            raise RuntimeError("the batch failed")
        return [len(str(item)) for item in items]

    committer.register("thing", write)
    committer.on_commit(lambda kinds: events.append(f"committed {sorted(kinds)}"))
    committer.on_rollback(lambda: events.append("undone"))
    await committer.start()
    try:
        with pytest.raises(RuntimeError, match="the batch failed"):
            await committer.submit("thing", "boom")
        assert await committer.submit("thing", "fine") == 4
    finally:
        await committer.stop()
        await db.dispose()
    # The failing batch is retried alone and fails again: undone twice, never committed.
    assert events == ["undone", "undone", "committed ['thing']"]
