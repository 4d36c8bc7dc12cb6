"""Twilio's webhooks on a short path through the ASGI stack.

Status callbacks are about three of every four requests Twilio makes, and none of
them needs a session cookie, FastAPI's exit stack or a walk through every route of
the API and the Workspace.  This middleware sits just inside the app's error
handling (500s and FastAPI's telemetry, body limit) and hands ``POST`` to the two
webhook paths straight to their handlers; anything else (another method, another
path) takes the ordinary way, so 405s, 404s and redirects are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class TwilioLane:
    """Routes ``POST`` on the given paths to their handlers; everything else to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Mapping[str, Handler],
        exception_handlers: Mapping[Any, Callable[..., Any]],
    ) -> None:
        self.app = app
        # The same HTTPException handling the routes get inside the app (a form with
        # too many fields is a 400, not a 500); 500s stay with ServerErrorMiddleware.
        handlers = {k: v for k, v in exception_handlers.items() if k not in (500, Exception)}
        self._routes: dict[str, ASGIApp] = {
            path: ExceptionMiddleware(request_response(handler), handlers=handlers)
            for path, handler in routes.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :] or "/"
            lane = self._routes.get(path)
            if lane is not None:
                await lane(scope, receive, send)
                return
        await self.app(scope, receive, send)
