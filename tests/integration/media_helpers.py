"""A loopback HTTP server that records every request: a CDN, or a port nobody should reach."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from textdesk.adapters.local_server import serve_app


@dataclass(frozen=True)
class Seen:
    path: str
    authorization: str | None


@dataclass
class Recorder:
    """Answers every GET with ``body``; keeps each request's path and Authorization header."""

    body: bytes = b""
    content_type: str = "application/octet-stream"
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def _any(self, request: Request) -> Response:
        with self._lock:
            self.seen.append(Seen(request.url.path, request.headers.get("authorization")))
        return Response(self.body, media_type=self.content_type)

    @contextlib.contextmanager
    def serve(self) -> Iterator[Recorder]:
        app = Starlette(routes=[Route("/{path:path}", self._any, methods=["GET"])])
        with serve_app(app) as url:
            self.url = url
            yield self
