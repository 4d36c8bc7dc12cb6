"""Any ASGI app served on loopback in a thread: the Twilio stand-in, test servers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import (
    Iterator,
)

import uvicorn
from starlette.types import ASGIApp


def bind_free_port() -> socket.socket:
    # Binding here (not in uvicorn) hands us the port before the server starts, with no race.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def uvicorn_config(app: ASGIApp, lifespan: str = "off") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,  # type: ignore[arg-type]
        ws="none",  # no websockets import, no deprecation warnings in strict test runs
        log_config=None,  # leave the host's logging configuration alone
        timeout_graceful_shutdown=2,
        proxy_headers=False,  # as `textdesk serve`: forwarded headers are the app's to judge
    )


@contextlib.contextmanager
def serve_app(
    app: ASGIApp,
    *,
    startup_timeout: float = 10.0,
    sock: socket.socket | None = None,
    lifespan: str = "off",
) -> Iterator[str]:
    """Serve any ASGI ``app`` on loopback in a thread; yield its base URL.

    Pass ``sock`` (from :func:`bind_free_port`) when the app must know its own URL
    before it starts, as textdesk does to sign and check webhooks.
    """
    sock = sock or bind_free_port()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, lifespan))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()
