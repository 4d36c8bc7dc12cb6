"""The Twilio stand-in for the benchmark, served by uvicorn in its own process.

It is :class:`textdesk.adapters.twilio.sandbox.FakeTwilio` unchanged (Messages API, basic auth,
signed status callbacks queued → sent → delivered posted back to textdesk), plus two
read-only routes the benchmark polls to see what textdesk sent:

* ``GET /bench/count?prefix=+1555`` — how many sends to numbers starting with
  ``prefix`` were accepted and how many status callbacks about them were posted.
  Cheap, so it can be polled while the backlog drains.
* ``GET /bench/received?prefix=+1555`` — for each recipient, the arrival times
  (Unix seconds, the stand-in's wall clock) of the sends to it, in arrival order,
  and those recipients' callbacks by status and by the HTTP status textdesk answered.

Run as ``uvicorn benchmarks.standin:create_app --factory`` with
``BENCH_TWILIO_ACCOUNT_SID`` and ``BENCH_TWILIO_AUTH_TOKEN`` set.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from benchmarks.load import ProtocolError, RawConnection
from textdesk.adapters.twilio.sandbox import FakeTwilio

SID_ENV = "BENCH_TWILIO_ACCOUNT_SID"
TOKEN_ENV = "BENCH_TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret


class CallbackTransport(httpx.AsyncBaseTransport):
    """Plain keep-alive HTTP/1.1 for the status callbacks FakeTwilio posts.

    The stand-in is the benchmark's stand-in for Twilio's data centre, so its CPU
    is overhead that production would not put on textdesk's machine; it shares
    the two cores here, so it must stay cheap.  Left to itself, FakeTwilio builds
    an ``httpx.AsyncClient`` per message (~20 ms of CPU: an SSL context loads the
    CA bundle) on a fresh connection, and httpcore's pool costs more again under
    hundreds of concurrent posts (its request/connection matching is quadratic,
    and without ``sniffio`` installed it retries a failing import on every pool
    operation).  Handed this transport, the per-message client is nearly free and
    each callback is one write and one read on a pooled connection, as a real
    sender's would be.

    Closing a per-message client must not close the shared pool, so ``aclose``
    does nothing; :meth:`shutdown` closes the connections when the server stops.
    """

    def __init__(self, max_connections: int = 100) -> None:
        self._idle: dict[str, list[RawConnection]] = {}
        self._slots = asyncio.Semaphore(max_connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol("the stand-in posts callbacks over plain HTTP only")
        origin = f"http://{url.netloc.decode()}"
        body = await request.aread()
        lines = [f"{request.method} {url.raw_path.decode()} HTTP/1.1".encode()]
        lines += [name + b": " + value for name, value in request.headers.raw]
        raw = b"\r\n".join([*lines, b"", b""]) + body
        async with self._slots:
            idle = self._idle.setdefault(origin, [])
            reused = bool(idle)
            conn = idle.pop() if idle else RawConnection(origin)
            try:
                answer = await conn.exchange(raw)
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                if not reused:
                    raise httpx.TransportError(f"{type(exc).__name__}: {exc}") from exc
                # The server closed an idle keep-alive connection: once more on a new one.
                conn = RawConnection(origin)
                try:
                    answer = await conn.exchange(raw)
                except (OSError, asyncio.IncompleteReadError, ProtocolError) as again:
                    raise httpx.TransportError(f"{type(again).__name__}: {again}") from again
            if conn.is_open:
                idle.append(conn)
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

    async def aclose(self) -> None:
        return None

    async def shutdown(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for conn in connections:
                await conn.close()


def build(fake: FakeTwilio, transport: CallbackTransport | None = None) -> Starlette:
    """Wrap ``fake.app`` with the benchmark's read-only routes."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if transport is not None:
                await transport.shutdown()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def count(request: Request) -> Response:
        prefix = request.query_params.get("prefix", "")
        sent = sum(1 for m in fake.messages if m.to.startswith(prefix))
        posted = sum(1 for c in fake.callbacks if c.params.get("To", "").startswith(prefix))
        return JSONResponse({"messages": sent, "callbacks": posted})

    async def received(request: Request) -> Response:
        prefix = request.query_params.get("prefix", "")
        by_to: dict[str, list[float]] = {}
        # ``messages`` keeps arrival order, so each list is already sorted by time;
        # created_at is stamped by the stand-in the moment it accepts the POST.
        for message in fake.messages:
            if message.to.startswith(prefix):
                by_to.setdefault(message.to, []).append(message.created_at.timestamp())
        callbacks = [c for c in fake.callbacks if c.params.get("To", "").startswith(prefix)]
        answered = Counter("failed" if c.status is None else str(c.status) for c in callbacks)
        statuses = Counter(c.params.get("MessageStatus", "?") for c in callbacks)
        return JSONResponse(
            {
                "by_to": by_to,
                "callbacks": {
                    "posted": sum(answered.values()),
                    "answered": dict(answered),
                    "statuses": dict(statuses),
                },
            }
        )

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/bench/count", count, methods=["GET"]),
            Route("/bench/received", received, methods=["GET"]),
            # FakeTwilio's routes and redirects are relative, so it works mounted at the root.
            Mount("/", app=fake.app),
        ],
        lifespan=lifespan,
    )


def create_app() -> Starlette:
    """Factory for ``uvicorn --factory``: credentials come from the environment."""
    transport = CallbackTransport()
    fake = FakeTwilio(os.environ[SID_ENV], os.environ[TOKEN_ENV], transport=transport)
    return build(fake, transport)
