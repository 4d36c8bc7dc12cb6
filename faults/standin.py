"""The Twilio stand-in for the fault suite, served by uvicorn in its own process.

It is the benchmark's stand-in (:mod:`benchmarks.standin`: ``FakeTwilio`` with
its Messages API, basic auth and signed status callbacks, plus read-only
routes), with the faults a real Twilio can show, switched on over HTTP by the
suite while textdesk runs:

* ``POST /faults/outage?seconds=60&status=500``: ``FakeTwilio.start_outage``,
  every API request (sends and the lookups textdesk makes) answered ``status``
  with Twilio's error body until the outage ends;
* ``POST /faults/callbacks?lose=0.3&reorder=1``: that share of status callbacks
  is never delivered (as when they hit a process that was down), and each
  ``sent`` callback is held back so ``delivered`` arrives first (FakeTwilio's own
  ``callbacks_lost`` stops them all; a share, mixed with late ones, is the harder
  case for reconciliation);
* ``GET /faults/sent``: every accepted send (sid, to, body, status), for the ledger.

Run as ``uvicorn faults.standin:create_app --factory`` with the benchmark's
``BENCH_TWILIO_ACCOUNT_SID`` and ``BENCH_TWILIO_AUTH_TOKEN`` set.
"""

from __future__ import annotations

import asyncio
import os
import random
from urllib.parse import parse_qsl

import httpx
from benchmarks import standin as bench_standin
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from textdesk.adapters.twilio.sandbox import FakeTwilio

# How long a held-back "sent" callback waits, so that "delivered" overtakes it.
REORDER_DELAY = 1.0


class UnreliableCallbacks(httpx.AsyncBaseTransport):
    """Status callbacks as an unreliable network delivers them: some lost, some late.

    Wraps the transport FakeTwilio posts its callbacks through, so the stand-in
    itself stays as it is.  A lost callback fails as a connection error (what
    Twilio sees when textdesk is down); a reordered one is answered at once to
    FakeTwilio, so its next callback goes out, and posted for real a moment later.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, seed: int = 8) -> None:
        self._inner = inner
        self._random = random.Random(seed)
        self.lose = 0.0
        self.reorder = False
        self.lost = 0
        self.reordered = 0
        self._late: set[asyncio.Task[None]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        status = dict(parse_qsl(body.decode())).get("MessageStatus", "")
        if self.lose and self._random.random() < self.lose:
            self.lost += 1
            raise httpx.ConnectError("callback lost on the way", request=request)
        if self.reorder and status == "sent":
            self.reordered += 1
            task = asyncio.get_running_loop().create_task(self._post_later(request))
            self._late.add(task)
            task.add_done_callback(self._late.discard)
            return httpx.Response(204, request=request)
        return await self._inner.handle_async_request(request)

    async def _post_later(self, request: httpx.Request) -> None:
        await asyncio.sleep(REORDER_DELAY)
        try:
            await self._inner.handle_async_request(request)
        except httpx.TransportError:
            self.lost += 1

    async def aclose(self) -> None:
        return None


def build(fake: FakeTwilio, callbacks: UnreliableCallbacks) -> Starlette:
    """The benchmark's stand-in app, with the fault routes in front of it."""

    async def start_outage(request: Request) -> Response:
        seconds = float(request.query_params.get("seconds", "60"))
        fake.start_outage(seconds, status=int(request.query_params.get("status", "500")))
        return JSONResponse({"until_in": seconds})

    async def set_callbacks(request: Request) -> Response:
        callbacks.lose = float(request.query_params.get("lose", "0"))
        callbacks.reorder = request.query_params.get("reorder", "0") == "1"
        return JSONResponse({"lose": callbacks.lose, "reorder": callbacks.reorder})

    async def sent(request: Request) -> Response:
        messages = [
            {"sid": m.sid, "to": m.to, "body": m.body, "status": m.status} for m in fake.messages
        ]
        return JSONResponse(
            {
                "messages": messages,
                "refused_sends": sum(
                    1 for a in fake.attempts if a.status is not None and a.status >= 500
                ),
                "callbacks_lost": callbacks.lost,
                "callbacks_reordered": callbacks.reordered,
            }
        )

    return Starlette(
        routes=[
            Route("/faults/outage", start_outage, methods=["POST"]),
            Route("/faults/callbacks", set_callbacks, methods=["POST"]),
            Route("/faults/sent", sent, methods=["GET"]),
            Mount("/", app=bench_standin.build(fake)),
        ]
    )


def create_app() -> Starlette:
    """Factory for ``uvicorn --factory``: credentials come from the environment."""
    callbacks = UnreliableCallbacks(bench_standin.CallbackTransport())
    fake = FakeTwilio(
        os.environ[bench_standin.SID_ENV], os.environ[bench_standin.TOKEN_ENV], transport=callbacks
    )
    return build(fake, callbacks)
