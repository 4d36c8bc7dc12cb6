"""Workspace events through Redis: every process of an install hears them, no other install."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from textdesk.adapters.pubsub import RedisBus
from textdesk.ports import WorkspaceEvent


def _other_database(url: str) -> str:
    base, db = url.rsplit("/", 1)
    return f"{base}/{(int(db) - 2) % 16}"


async def _until(
    events: asyncio.Queue[WorkspaceEvent], last: WorkspaceEvent
) -> list[WorkspaceEvent]:
    """Every event heard up to and including ``last``."""
    heard: list[WorkspaceEvent] = []
    async with asyncio.timeout(5):
        while not heard or heard[-1] != last:
            heard.append(await events.get())
    return heard


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
            # Ids no other test uses: other test processes may share these databases.
            ours, theirs = (
                WorkspaceEvent("conversation", 7_770_001),
                WorkspaceEvent("queue", 7_770_002),
            )
            await buses[0].publish(ours)
            assert ours in await _until(same_install, ours)
            # The other install's own event arrives; ours never came before it.
            await buses[2].publish(theirs)
            assert ours not in await _until(other_install, theirs)
    finally:
        for bus in buses:
            await bus.stop()
            await bus._redis.aclose()
