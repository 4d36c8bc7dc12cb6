"""The Workspace's live updates: a Server-Sent Events stream per browser tab.

Each tab subscribes to the process's event bus (Redis fan-out when configured, so an
event caused in another process arrives too) and receives only events about
conversations its agent may see, checked against the database per event: a change
of queue membership applies at once, and a removed agent's stream ends.  Events are
hints ("conversation 12 changed"); the page re-fetches what it shows, through the
same authorised routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from textdesk.bootstrap import Container
from textdesk.ports import WorkspaceEvent
from textdesk.web.auth import ApiAgent
from textdesk.web.deps import ContainerDep
from textdesk.web.workspace.render import wake

router = APIRouter()
KEEP_ALIVE_SECONDS = 15.0  # below the idle timeouts of common proxies (often 30-60 s)
RETRY_MS = 2000  # how soon a browser reconnects after the stream ends


def browser_payload(event: WorkspaceEvent) -> str:
    """The event as a browser receives it: what it needs, agent ids stay inside."""
    return json.dumps({"type": event.type, "conversation_id": event.conversation_id})


class Closing:
    """Set when the server is asked to stop, so open streams end and shutdown is not held up.

    uvicorn drains open responses before running the app's shutdown, so the lifespan
    alone cannot end an endless stream; this wraps the stop signals uvicorn handles.
    """

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self._restore: list[tuple[int, Any]] = []

    def install(self) -> None:
        # Signals reach only the main thread; servers run in threads (tests) rely on
        # their clients disconnecting, and on uvicorn's graceful timeout.
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue
            signal.signal(sig, self._handler(loop, previous))
            self._restore.append((sig, previous))

    def _handler(
        self, loop: asyncio.AbstractEventLoop, previous: Callable[..., Any]
    ) -> Callable[[int, Any], None]:
        def handle(signum: int, frame: Any) -> None:
            loop.call_soon_threadsafe(self.event.set)
            previous(signum, frame)

        return handle

    def uninstall(self) -> None:
        for sig, previous in self._restore:
            with contextlib.suppress(ValueError):
                signal.signal(sig, previous)
        self._restore.clear()
        self.event.set()


async def _stream(
    container: Container, agent_id: int, closing: asyncio.Event
) -> AsyncIterator[str]:
    # While the stream is open the agent counts as connected (live_agents/presence.py).
    with container.heartbeat.connected(agent_id):
        async with container.bus.subscribe() as queue:
            # Sent once subscribed: from here on, no event of this process is missed.
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            while not closing.is_set():
                getting = asyncio.ensure_future(queue.get())
                stopping = asyncio.ensure_future(closing.wait())
                try:
                    done, _ = await asyncio.wait(
                        {getting, stopping},
                        timeout=KEEP_ALIVE_SECONDS,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    for task in (getting, stopping):
                        task.cancel()
                if getting not in done:
                    if not closing.is_set():
                        yield ": keep-alive\n\n"
                    continue
                event = getting.result()
                # Shielded: Starlette cancels this generator when the browser goes away, and
                # a cancel that lands inside a driver call orphans the SQLite connection with
                # its transaction (and the write lock) open until the process ends.
                allowed = await asyncio.shield(
                    container.workspace.may_see(agent_id, event.conversation_id)
                )
                if allowed is None:
                    return
                if allowed:
                    yield f"data: {browser_payload(event)}\n\n"


@router.get("/events")
async def events(request: Request, container: ContainerDep, agent: ApiAgent) -> StreamingResponse:
    """Live events for the signed-in agent's conversations (401 when signed out).

    An open stream is also how the agent is known to be at their desk: chats are
    offered only to agents with one (see live_agents/presence.py).
    """
    # Seen now, not at the next beat: an agent who just opened the Workspace is
    # offered the next texter at once.
    await container.heartbeat.beat([agent.id])
    wake(container, "assigner")
    closing: Closing | None = getattr(request.app.state, "closing", None)
    stop = closing.event if closing is not None else asyncio.Event()
    # Starlette ends the generator when the browser goes away (it listens for the disconnect).
    return StreamingResponse(
        _stream(container, agent.id, stop),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
