"""Twilio's webhooks on a short path: answered before FastAPI's own layers.

Twilio makes about three requests per text (the text, then a status callback for
each reply's ``sent`` and ``delivered``), and none of them needs a session cookie,
FastAPI's exit stack, its per-request OpenTelemetry check or a walk through every
route of the API and the Workspace.  :class:`TextdeskApp` is FastAPI with one
thing added: ``POST`` to a webhook path goes straight to its handler, wrapped in
the app's HTTPException handling (a form with too many fields is still a 400) and
in a last-resort 500.  Anything else (another method, another path) takes the
ordinary way, so 405s, 404s and redirects are unchanged.

The price: webhooks get no spans from FastAPI's telemetry.  They are counted in
``/metrics`` (``textdesk_inbound_total``, ``textdesk_status_callbacks_total``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


class TwilioLane:
    """The webhook handlers by path, each ready to serve a request."""

    def __init__(
        self, *, routes: Mapping[str, Handler], exception_handlers: Mapping[Any, Callable[..., Any]]
    ) -> None:
        # The same HTTPException handling the routes get inside the app; 500s are ours.
        handlers = {k: v for k, v in exception_handlers.items() if k not in (500, Exception)}
        self._routes: dict[str, ASGIApp] = {
            path: ExceptionMiddleware(request_response(handler), handlers=handlers)
            for path, handler in routes.items()
        }

    def route_for(self, scope: Scope) -> ASGIApp | None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return None
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        return self._routes.get(path)


class TextdeskApp(FastAPI):
    """FastAPI, with Twilio's webhooks served by :attr:`lane` ahead of everything."""

    lane: TwilioLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.lane.route_for(scope) if self.lane is not None else None
        if route is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # handlers reach the container through request.app
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await route(scope, receive, sending)
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            if started:
                raise  # the server closes the connection: nothing else can be said
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
