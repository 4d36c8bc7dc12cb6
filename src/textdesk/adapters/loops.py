"""Background loops: inbox processing, outbox dispatch (in `serve`, or `textdesk worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Loop:
    """Runs ``step`` while it finds work; sleeps until woken or ``idle`` seconds pass.

    Waking makes the in-process path fast; the idle poll picks up work that another
    process wrote (or that a crash left behind).  ``retry`` says how long to wait
    after the nth failed step in a row (1, 2, …), for a loop whose idle is too long
    to wait out after a failure; without it, ``idle``.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[int]],
        *,
        idle: float = 1.0,
        retry: Callable[[int], float] | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._idle = idle
        self._retry = retry
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._event.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            self._event.clear()
            wait = self._idle
            try:
                done = await self._step()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                if self._retry is not None:
                    wait = self._retry(failures)
                log.exception("%s step failed; retrying in %.0f s", self.name, wait)
                done = 0
            if done:
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancel that lands as the wait ends, and then stop() would never return.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._event.wait()
