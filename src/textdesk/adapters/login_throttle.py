"""Where failed sign-ins are counted: in this process, or in Redis for all of them.

With several app processes an in-memory count lets an attacker try ``limit`` times
per process; Redis makes the limit the same whichever process answers.
"""

from __future__ import annotations

import secrets
import time

from redis.asyncio import Redis

from textdesk.domain.throttle import LoginThrottle


class LocalLoginThrottle:
    """Failures counted in this process (SQLite: there is only one)."""

    def __init__(self, rule: LoginThrottle | None = None) -> None:
        self._rule = rule or LoginThrottle()

    async def blocked_for(self, key: str, limit: int | None = None) -> float:
        return self._rule.blocked_for(key, time.monotonic(), limit)

    async def failed(self, key: str) -> None:
        self._rule.failed(key, time.monotonic())

    async def succeeded(self, key: str) -> None:
        self._rule.succeeded(key)


class RedisLoginThrottle:
    """Failures as a sorted set of timestamps per key, shared by every process."""

    def __init__(self, redis: Redis, *, limit: int = 5, window: float = 300.0) -> None:
        self._redis = redis
        self.limit = limit
        self.window = window

    @staticmethod
    def _key(key: str) -> str:
        return f"textdesk:login-failures:{key}"

    async def blocked_for(self, key: str, limit: int | None = None) -> float:
        now = time.time()
        name = self._key(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - self.window)
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            _, count, oldest = await pipe.execute()
        if count < (limit or self.limit) or not oldest:
            return 0.0
        return max(0.0, self.window - (now - float(oldest[0][1])))

    async def failed(self, key: str) -> None:
        now = time.time()
        name = self._key(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            # A random member: two failures in the same microsecond both count.
            pipe.zadd(name, {f"{now}:{secrets.token_hex(4)}": now})
            pipe.expire(name, int(self.window) + 1)
            await pipe.execute()

    async def succeeded(self, key: str) -> None:
        await self._redis.delete(self._key(key))
