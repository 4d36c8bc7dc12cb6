"""Group commit: many small writes from concurrent requests share one transaction.

A webhook may only be acknowledged once its row is durable, but one fsync per request
caps throughput at the disk's commit rate.  Requests hand their write to this queue
and wait; a single task takes everything queued, writes it in one transaction,
commits once and then wakes every waiter.  While one commit is in flight the next
batch accumulates, so batches grow with load and latency stays about one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# A handler writes a list of items of one kind and returns one result per item.
Handler = Callable[[AsyncConnection, Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass
class _Pending:
    kind: str
    item: Any
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommitter:
    """Batches writes of registered kinds into shared transactions."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = 512) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._handlers: dict[str, Handler] = {}
        self._after_commit: list[Callable[[set[str]], None]] = []
        self._after_rollback: list[Callable[[], None]] = []
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def on_commit(self, callback: Callable[[set[str]], None]) -> None:
        """Call ``callback(kinds)`` after each successful commit."""
        self._after_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when a batch's transaction fails and nothing of it stays."""
        self._after_rollback.append(callback)

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, kind: str, item: Any) -> Any:
        """Write ``item`` durably; return its handler's result once committed."""
        if self._queue is None:
            raise RuntimeError("GroupCommitter.start() was not called")
        if kind not in self._handlers:
            raise KeyError(kind)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(kind, item, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception:
                log.exception("batch of %d writes failed; retrying one by one", len(batch))
                for pending in batch:
                    try:
                        await self._write([pending])
                    except Exception as exc:
                        if not pending.future.done():
                            pending.future.set_exception(exc)

    async def _write(self, batch: list[_Pending]) -> None:
        by_kind: dict[str, list[_Pending]] = {}
        for pending in batch:
            by_kind.setdefault(pending.kind, []).append(pending)
        results: list[tuple[_Pending, Any]] = []
        try:
            async with self._engine.begin() as conn:
                # Kinds in the order they were registered, whatever came first: handlers
                # that take locks then take them in the same order in every batch.
                for kind in [k for k in self._handlers if k in by_kind]:
                    group = by_kind[kind]
                    out = await self._handlers[kind](conn, [p.item for p in group])
                    results.extend(zip(group, out, strict=True))
        except BaseException:
            for forget in self._after_rollback:
                forget()
            raise
        self.batches += 1
        self.items += len(batch)
        for pending, result in results:
            if not pending.future.done():
                pending.future.set_result(result)
        kinds = set(by_kind)
        for callback in self._after_commit:
            callback(kinds)
