"""Twilio's webhooks on a short path: answered before FastAPI's own layers.

Twilio makes about three requests per text (the text, then a status callback for
each reply's ``sent`` and ``delivered``), and none of them needs a session cookie,
FastAPI's exit stack, its per-request OpenTelemetry check or a walk through every
route of the API and the Workspace.  :class:`TextdeskApp` is FastAPI with one
thing added: ``POST`` to a webhook path goes straight to its handler, with the
app's HTTPException handling (a form with too many fields is still a 400) and a
last-resort 500.  Anything else (another method, another path) takes the
ordinary way, so 405s, 404s and redirects are unchanged.

The price: webhooks get no spans from FastAPI's telemetry.  They are counted in
``/metrics`` (``textdesk_inbound_total``, ``textdesk_status_callbacks_total``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


class TwilioLane:
    """The webhook handlers by path, each called with a plain Starlette request.

    No ``request_response`` and no ``ExceptionMiddleware`` around them: each wraps
    ``send`` once more for every response, and a webhook needs neither.  An
    :class:`HTTPException` gets the app's own handler, as inside the app.
    """

    def __init__(
        self, *, routes: Mapping[str, Handler], exception_handlers: Mapping[Any, Callable[..., Any]]
    ) -> None:
        self._routes = dict(routes)
        self._on_http_error = exception_handlers.get(HTTPException)

    def route_for(self, scope: Scope) -> Handler | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        return self._routes.get(path)

    async def respond(self, handler: Handler, request: Request) -> Response:
        try:
            return await handler(request)
        except HTTPException as exc:
            if self._on_http_error is None:
                raise
            answer: Response = await self._on_http_error(request, exc)
            return answer


class TextdeskApp(FastAPI):
    """FastAPI, with Twilio's webhooks served by :attr:`lane` ahead of everything."""

    lane: TwilioLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.lane.route_for(scope) if self.lane is not None else None
        if handler is None or self.lane is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # handlers reach the container through request.app
        try:
            response = await self.lane.respond(handler, Request(scope, receive))
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            response = PlainTextResponse("Internal Server Error", status_code=500)
        # Failing from here on, the server closes the connection: nothing else can be said.
        await response(scope, receive, send)
