"""Per-number send pacing: in-process, or shared by every process through Redis."""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.asyncio import Redis

from textdesk.domain.send_pacing import TokenBucket

# GCRA in one round trip: the key holds the next free slot (ms); each call takes one
# slot and says how long to wait for it.  Redis's own clock keeps processes agreed.
_RESERVE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now_ms)
if tat < now_ms then tat = now_ms end
local wait = tat - now_ms
redis.call('SET', KEYS[1], tat + interval, 'PX', wait + interval + 1000)
return wait
"""


class LocalPacer:
    """Token buckets in this process (enough for a single dispatcher)."""

    def __init__(self, rate: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._monotonic = monotonic
        self._buckets: dict[str, TokenBucket] = {}

    async def reserve(self, number: str) -> float:
        now = self._monotonic()
        bucket = self._buckets.get(number)
        if bucket is None:
            bucket = self._buckets[number] = TokenBucket(rate=self._rate, updated=now)
        return bucket.reserve(now)


class RedisPacer:
    """One pace per number across all dispatchers sharing a Redis."""

    def __init__(self, redis: Redis, rate: float, *, prefix: str = "textdesk:pace:") -> None:
        self._redis = redis
        self._interval_ms = max(1, round(1000 / rate))
        self._prefix = prefix
        self._script = redis.register_script(_RESERVE)

    async def reserve(self, number: str) -> float:
        wait_ms = await self._script(keys=[self._prefix + number], args=[self._interval_ms])
        return int(wait_ms) / 1000
