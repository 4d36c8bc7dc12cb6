"""SQLite's in-process transaction queue (``adapters/db/sqlite_writer.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from textdesk.adapters.db.database import create_engine


async def test_a_cancelled_transaction_stays_cancelled_and_passes_the_turn(
    tmp_path: Path,
) -> None:
    """Cancelled mid-statement: CancelledError (not PendingRollbackError), nothing kept.

    A background loop that saw PendingRollbackError took its stop for a failed step
    and carried on.
    """
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))

    async def write_forever() -> None:
        async with engine.begin() as conn:
            while True:
                await conn.execute(text("INSERT INTO t VALUES (1)"))

    try:
        for _ in range(10):
            task = asyncio.create_task(write_forever())
            await asyncio.sleep(0.005)
            task.cancel()
            # Bounded: a swallowed cancel leaves the task waiting for ever (CI would hang).
            with pytest.raises(asyncio.CancelledError):
                async with asyncio.timeout(10):
                    await task
        # The next transaction gets its turn at once, and none of the rows survived.
        async with asyncio.timeout(2), engine.begin() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    finally:
        await engine.dispose()
