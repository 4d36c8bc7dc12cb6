"""The web application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from textdesk import __version__, bootstrap
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import Container, build
from textdesk.channel.answering import Converser
from textdesk.config import Settings
from textdesk.ports import Clock, RecordStore
from textdesk.web import auth, ops
from textdesk.web.api import (
    docs,
    errors,
    notifications,
    people,
    records,
    servicenow_events,
    topic_assets,
    topics,
)
from textdesk.web.forwarded import ForwardedHeaders
from textdesk.web.simulator import routes as simulator
from textdesk.web.twilio import routes as twilio_routes
from textdesk.web.twilio.lane import TextdeskApp, TwilioLane
from textdesk.web.workspace import home
from textdesk.web.workspace.events import Closing

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    background: bool = True,
    converser: Converser | None = None,
    settle_heap: bool = False,
    clock: Clock | None = None,
    remote_records: RecordStore | None = None,
) -> FastAPI:
    """Build the ASGI app.

    ``background=False`` runs no loops in this process (a ``textdesk worker`` does);
    ``settle_heap`` is for a server process (see :func:`textdesk.bootstrap.settle_heap`);
    ``clock`` replaces the system clock (tests).
    """
    settings = settings or (container.settings if container else Settings())
    owned = container is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = container or build(
            settings, converser=converser, clock=clock, remote_records=remote_records
        )
        app.state.container = current
        app.state.closing = closing = Closing()
        closing.install()
        await current.start(background=background)
        if settle_heap:
            bootstrap.settle_heap()
        log.info(
            "textdesk %s on %s (%s transport)",
            __version__,
            settings.public_url,
            "sandbox" if settings.sandbox else "Twilio",
        )
        if warning := settings.events_secret_warning():
            log.warning(warning)
        try:
            yield
        finally:
            closing.uninstall()
            if owned:
                await current.stop()

    app = TextdeskApp(
        title="textdesk",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by web/api_docs with the vendored Swagger UI
        openapi_url=docs.OPENAPI_URL,
        redoc_url=None,
    )
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.include_router(records.router)
    app.include_router(people.router)
    app.include_router(notifications.router)
    app.include_router(servicenow_events.router)
    app.include_router(topics.router)
    app.include_router(topic_assets.router)
    app.add_route("/api/docs", docs.api_docs, methods=["GET"], include_in_schema=False)
    app.add_route("/r/{token}", ops.record_page, methods=["GET"])
    # Served by app.lane (below); registered too, so other methods still get a 405.
    app.add_route("/twilio/sms", twilio_routes.inbound_sms, methods=["POST"])
    app.add_route("/twilio/status", twilio_routes.status_callback, methods=["POST"])
    app.add_route("/media/{token}", ops.signed_media, methods=["GET"])
    app.add_route("/healthz", ops.healthz, methods=["GET"])
    app.add_route("/readyz", ops.readyz, methods=["GET"])
    app.add_route("/metrics", ops.metrics, methods=["GET"])
    # Pages' CSS and the vendored front-end libraries (static/vendor).
    app.mount("/static", StaticFiles(directory=simulator.STATIC_DIR), name="static")
    app.include_router(home.router)
    # Signed-cookie sessions for the Workspace (HttpOnly, SameSite=Lax; Secure over https).
    app.add_middleware(SessionMiddleware, **auth.session_options(settings))
    if settings.trusted_proxy_networks:
        # Outermost: every layer inside sees the client the trusted proxy forwarded for.
        app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxy_networks)
    twilio = {
        "/twilio/sms": twilio_routes.inbound_sms,
        "/twilio/status": twilio_routes.status_callback,
    }
    # Twilio's requests skip FastAPI's layers, the session and routing (see twilio_lane).
    app.lane = TwilioLane(routes=twilio, exception_handlers=dict(app.exception_handlers))
    # The sandbox lets anyone text as any phone and read the replies: a demo's only.
    if settings.sandbox and settings.demo:
        sandbox = FakeTwilio(settings.account_sid, settings.auth_token)
        sandbox.base_url = settings.public_url.rstrip("/") + "/sandbox/twilio"
        app.state.sandbox = sandbox
        app.mount("/sandbox/twilio", sandbox.app)
        # Without the sandbox the simulator's routes do not exist at all (404), so not
        # even a 404'd upload is read.
        app.include_router(simulator.router)
    return app


def app_from_settings() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``textdesk serve``)."""
    settings = Settings()
    problem = settings.transport_problem()
    if problem:
        raise RuntimeError(problem)
    return create_app(settings, background=settings.run_background, settle_heap=True)
