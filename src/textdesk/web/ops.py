"""Health, readiness, metrics and media: what operators and Twilio fetch."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from textdesk.bootstrap import Container
from textdesk.live_agents.conversation_view import picture
from textdesk.ops.media_files import ExpiredLink
from textdesk.records.incidents import InvalidLink
from textdesk.web.pages import templates


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    container: Container = request.app.state.container
    problem = await container.readiness.problem()
    if problem is not None:
        return JSONResponse({"status": "unavailable", "database": problem}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})


async def metrics(request: Request) -> Response:
    """GET /metrics: Prometheus' scrape, for the holder of ``TEXTDESK_METRICS_TOKEN``.

    Without a token it does not exist (404), except in demo mode on a laptop: "loopback
    only" would not do, as a reverse proxy on the same host makes every caller loopback.
    """
    container: Container = request.app.state.container
    token = container.settings.metrics_token
    if not token:
        if not container.settings.demo:
            return PlainTextResponse("not found", status_code=404)
    else:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return PlainTextResponse(
                "bearer token required", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        # Constant time: the comparison must not tell a guesser how much of it was right.
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            return PlainTextResponse("wrong token", status_code=403)
    await container.outbox_gauges.refresh()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def signed_media(request: Request) -> Response:
    """GET /media/{token}: an image we send by MMS, while its signed URL is valid."""
    container: Container = request.app.state.container
    try:
        stored = await container.media_files.open(request.path_params["token"])
    except ExpiredLink:
        return PlainTextResponse("link expired or invalid", status_code=404)
    if stored is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={"Cache-Control": "private, max-age=300"},
    )


async def record_page(request: Request) -> Response:
    """GET /r/{token}: the read-only view of a record linked from a texted card."""
    container: Container = request.app.state.container
    try:
        record = await container.incidents.linked(request.path_params["token"])
    except InvalidLink:
        return PlainTextResponse("link invalid", status_code=404)
    if record is None:
        return PlainTextResponse("not found", status_code=404)
    # The link is the texter's capability to this record, photos included; each
    # photo URL is signed and expires like the media Twilio fetches.
    photos = [picture(container.signer, key) for key in record.attachments]
    return templates.TemplateResponse(
        request,
        "record.html",
        {"record": container.record_views.view(record), "photos": photos},
        headers={"Cache-Control": "no-store"},
    )
