"""Workspace events through Redis: every process of an install hears them, no other install."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from textdesk.adapters.pubsub import RedisBus
from textdesk.ports import WorkspaceEvent


def _other_database(url: str) -> str:
    base, db = url.rsplit("/", 1)
    return f"{base}/{(int(db) + 1) % 16}"


async def test_installs_sharing_a_redis_server_do_not_hear_each_other(redis_url: str) -> None:
    """Two processes on one database both hear an event; one on another database does not."""
    buses = [
        RedisBus(Redis.from_url(redis_url)),
        RedisBus(Redis.from_url(redis_url)),
        RedisBus(Redis.from_url(_other_database(redis_url))),
    ]
    for bus in buses:
        await bus.start()
    try:
        async with (
            buses[1].subscribe() as same_install,
            buses[2].subscribe() as other_install,
        ):
            await buses[0].publish(WorkspaceEvent("conversation", 7))
            async with asyncio.timeout(5):
                assert await same_install.get() == WorkspaceEvent("conversation", 7)
            # The other install's own event arrives; ours never came before it.
            await buses[2].publish(WorkspaceEvent("queue", 9))
            async with asyncio.timeout(5):
                assert await other_install.get() == WorkspaceEvent("queue", 9)
    finally:
        for bus in buses:
            await bus.stop()
            await bus._redis.aclose()
