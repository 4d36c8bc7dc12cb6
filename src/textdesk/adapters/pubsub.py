"""Workspace events fan-out: in this process, or across processes through Redis pub/sub.

Events are typed inside the process (``ports.WorkspaceEvent``); on Redis they are
the JSON objects the other processes read: ``{"type", "conversation_id"}``
and, for an ``AgentEvent``, ``"agent_id"`` after them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from textdesk.ports import AgentEvent, WorkspaceEvent

log = logging.getLogger(__name__)
# A browser tab that stops reading loses old events rather than growing memory.
_QUEUE_LIMIT = 1000


def to_wire(event: WorkspaceEvent) -> str:
    """The event as it travels between processes."""
    if isinstance(event, AgentEvent):
        return json.dumps(
            {
                "type": event.type,
                "conversation_id": event.conversation_id,
                "agent_id": event.agent_id,
            }
        )
    return json.dumps({"type": event.type, "conversation_id": event.conversation_id})


def from_wire(data: str | bytes) -> WorkspaceEvent | None:
    """An event another process published; None for what is not one (and is ignored)."""
    try:
        raw = json.loads(data)
        kind, cid = raw["type"], raw["conversation_id"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(cid, int):
        return None  # no browser may see it: it names no conversation
    # A type this version does not know (another version's) is passed on as it came.
    if "agent_id" in raw:
        return AgentEvent(kind, cid, raw["agent_id"])
    return WorkspaceEvent(kind, cid)


def channel_of(redis: Redis) -> str:
    """The pub/sub channel of the install whose Redis database ``redis`` uses.

    Keys belong to a database, but a pub/sub channel is the whole server's: two
    installs sharing a Redis server, each with its own database (staging and
    production, say), would otherwise hear each other's events.
    """
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"textdesk:{db}:events"


class MemoryBus:
    """Delivers each published event to every subscriber of this process."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[WorkspaceEvent]] = set()
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, event: WorkspaceEvent) -> None:
        self.deliver(event)

    def publish_nowait(self, event: WorkspaceEvent) -> None:
        """Publish from synchronous code (a callback after commit)."""
        if type(self).publish is MemoryBus.publish:
            self.deliver(event)  # in-process delivery is synchronous: no task per event
            return
        task = asyncio.get_running_loop().create_task(self.publish(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def deliver(self, event: WorkspaceEvent) -> None:
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[WorkspaceEvent]]:
        queue: asyncio.Queue[WorkspaceEvent] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)


class RedisBus(MemoryBus):
    """Publishes through Redis; one listener per process feeds the local subscribers.

    Every process, this one included, receives each event once from Redis, so a
    second app process behind a load balancer sees the same live updates.
    """

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self._redis = redis
        self.channel = channel_of(redis)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="redis-events")
        async with asyncio.timeout(5):
            await self._ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def publish(self, event: WorkspaceEvent) -> None:
        await self._redis.publish(self.channel, to_wire(event))

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            event = from_wire(message["data"])
                            if event is not None:
                                self.deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis event listener failed; reconnecting")
                await asyncio.sleep(1)
