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
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.ports import WriteKind, Written

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
N = TypeVar("N")
Repos = TypeVar("Repos")

# A writer writes a list of items of one kind; one result per item, one note per batch.
Write = Callable[[Any, Sequence[Any]], Awaitable[Written[Any, Any]]]


def _nothing_after(note: object) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Writer:
    write: Write
    committed: Callable[[Any], None]


@dataclass
class _Pending:
    kind: WriteKind[Any, Any]
    item: Any
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommitter(Generic[Repos]):
    """``ports.GroupCommit``: batches writes of registered kinds into shared transactions.

    ``make`` builds the repositories a batch's writers are handed, on its connection.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        make: Callable[[AsyncConnection], Repos],
        *,
        max_batch: int = 512,
    ) -> None:
        self._engine = engine
        self._make = make
        self._max_batch = max_batch
        self._writers: dict[WriteKind[Any, Any], _Writer] = {}
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    def register(
        self,
        kind: WriteKind[T, R],
        write: Callable[[Repos, Sequence[T]], Awaitable[Written[R, N]]],
        *,
        committed: Callable[[N], None] = _nothing_after,
    ) -> None:
        """Write items of ``kind`` with ``write``; pass each batch's note to ``committed``."""
        self._writers[kind] = _Writer(write, committed)

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, kind: WriteKind[T, R], item: T) -> R:
        """Write ``item`` durably; return its writer's result once committed."""
        if self._queue is None:
            raise RuntimeError("GroupCommitter.start() was not called")
        if kind not in self._writers:
            raise KeyError(kind.name)
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
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
        by_kind: dict[WriteKind[Any, Any], list[_Pending]] = {}
        for pending in batch:
            by_kind.setdefault(pending.kind, []).append(pending)
        results: list[tuple[_Pending, Any]] = []
        notes: list[tuple[_Writer, Any]] = []
        async with self._engine.begin() as conn:
            repos = self._make(conn)
            # Kinds in the order they were registered, whatever came first: writers
            # that take locks then take them in the same order in every batch.
            for kind, writer in self._writers.items():
                group = by_kind.get(kind)
                if group is None:
                    continue
                written = await writer.write(repos, [p.item for p in group])
                results.extend(zip(group, written.results, strict=True))
                notes.append((writer, written.note))
        self.batches += 1
        self.items += len(batch)
        for pending, result in results:
            if not pending.future.done():
                pending.future.set_result(result)
        for writer, note in notes:
            writer.committed(note)
