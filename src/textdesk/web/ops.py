"""Health, readiness, metrics and media: what operators and Twilio fetch."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from textdesk.adapters.db import media, records
from textdesk.bootstrap import Container
from textdesk.demo import demo_media
from textdesk.web.pages import templates


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    container: Container = request.app.state.container
    try:
        async with container.db.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
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
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def signed_media(request: Request) -> Response:
    """GET /media/{token}: an image we send by MMS, while its signed URL is valid."""
    container: Container = request.app.state.container
    key = container.signer.key_for(request.path_params["token"])
    if key is None:
        return PlainTextResponse("link expired or invalid", status_code=404)
    if key.startswith("demo/"):
        found = demo_media(key)
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        data, content_type = found
    else:
        async with container.db.connect() as conn:
            stored = await media.load(conn, key)
        if stored is None:
            return PlainTextResponse("not found", status_code=404)
        data, content_type = stored.data, stored.content_type
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "private, max-age=300"}
    )


async def record_page(request: Request) -> Response:
    """GET /r/{token}: the read-only view of a record linked from a texted card."""
    container: Container = request.app.state.container
    number = container.record_links.number_for(request.path_params["token"])
    if number is None:
        return PlainTextResponse("link invalid", status_code=404)
    async with container.db.connect() as conn:
        record = await records.get(conn, number)
    if record is None:
        return PlainTextResponse("not found", status_code=404)
    # The link is the texter's capability to this record, photos included; each
    # photo URL is signed and expires like the media Twilio fetches.
    photos = [container.signer.url_for(key) for key in record.attachments]
    return templates.TemplateResponse(
        request,
        "record.html",
        {"record": record.as_dict(), "photos": photos},
        headers={"Cache-Control": "no-store"},
    )
