"""Failed sign-ins are counted across every app process when Redis is configured."""

from __future__ import annotations

import secrets

import pytest
from redis.asyncio import Redis

from textdesk.adapters.login_throttle import LocalLoginThrottle, RedisLoginThrottle


@pytest.mark.redis
async def test_failures_on_two_processes_add_up(redis_url: str) -> None:
    key = f"e:{secrets.token_hex(6)}@example.com"
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        a, b = RedisLoginThrottle(first, limit=5), RedisLoginThrottle(second, limit=5)
        for _ in range(3):
            await a.failed(key)
        for _ in range(2):
            await b.failed(key)
        # Five failures in all: refused on both, for about the whole window.
        assert 290 < await a.blocked_for(key) <= 300
        assert 290 < await b.blocked_for(key) <= 300
        # Another key is untouched.
        assert await a.blocked_for(key + ".other") == 0
        await b.succeeded(key)
        assert await a.blocked_for(key) == 0
    finally:
        await first.aclose()
        await second.aclose()


async def test_four_failures_in_one_process_do_not_block() -> None:
    throttle = LocalLoginThrottle()
    for _ in range(4):
        await throttle.failed("a:127.0.0.1")
    assert await throttle.blocked_for("a:127.0.0.1") == 0
    await throttle.failed("a:127.0.0.1")
    assert await throttle.blocked_for("a:127.0.0.1") > 0
