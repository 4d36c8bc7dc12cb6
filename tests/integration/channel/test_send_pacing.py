"""Per-number pacing shared by every dispatcher through Redis."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from textdesk.adapters.send_pacing import LocalPacer, RedisPacer

pytestmark = pytest.mark.redis


async def test_two_dispatchers_share_one_pace(redis_url: str) -> None:
    """Two processes sending from one number get distinct slots, not double the rate."""
    number = f"+1555{uuid.uuid4().int % 10**7:07d}"
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a, b = RedisPacer(first, rate=10.0), RedisPacer(second, rate=10.0)
        waits = [await (a if i % 2 == 0 else b).reserve(number) for i in range(6)]
    finally:
        await first.aclose()
        await second.aclose()
    # Six sends at 10/s need about half a second, whichever process asks.
    assert waits[0] == pytest.approx(0.0, abs=0.02)
    assert waits[-1] == pytest.approx(0.5, abs=0.05)
    assert waits == sorted(waits)


async def test_other_numbers_are_not_slowed(redis_url: str) -> None:
    """Pacing is per sender number."""
    client = Redis.from_url(redis_url)
    try:
        pacer = RedisPacer(client, rate=1.0)
        tag = uuid.uuid4().hex[:6]
        assert await pacer.reserve(f"+1555000{tag}a") == pytest.approx(0.0, abs=0.02)
        assert await pacer.reserve(f"+1555000{tag}b") == pytest.approx(0.0, abs=0.02)
        assert await pacer.reserve(f"+1555000{tag}a") == pytest.approx(1.0, abs=0.05)
    finally:
        await client.aclose()


async def test_local_pacer_paces_one_process() -> None:
    """Without Redis, one process paces its own sends."""
    now = [50.0]
    pacer = LocalPacer(rate=2.0, monotonic=lambda: now[0])
    assert [await pacer.reserve("+15550100100") for _ in range(3)] == [0.0, 0.5, 1.0]
