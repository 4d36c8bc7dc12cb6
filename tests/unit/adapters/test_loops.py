"""The background loop: steps run while they find work, and a failed step is tried again."""

from __future__ import annotations

import asyncio

from textdesk.adapters.loops import Loop


async def test_a_failed_step_is_tried_again_after_the_loops_retry_delay() -> None:
    calls: list[str] = []
    delays: list[int] = []
    done = asyncio.Event()

    async def step() -> int:
        calls.append("step")
        if len(calls) <= 2:
            raise RuntimeError("the service is away")
        done.set()
        return 0

    def retry(failures: int) -> float:
        delays.append(failures)
        return 0.0

    # An idle of an hour: only the retry delay lets the step run again.
    loop = Loop("test", step, idle=3600.0, retry=retry)
    loop.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await loop.stop()
    assert len(calls) == 3
    assert delays == [1, 2]  # failures in a row, counted for the backoff
