"""Health, readiness, metrics and media: what operators and Twilio fetch."""

from __future__ import annotations

import asyncio
import hmac
import logging

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from textdesk import metrics as metrics_
from textdesk.adapters.db import backlog, media
from textdesk.adapters.images import ImageRefused, decode_image
from textdesk.bootstrap import Container
from textdesk.demo import demo_media
from textdesk.live_agents.conversation_view import picture
from textdesk.records.incidents import InvalidLink
from textdesk.web.pages import templates

log = logging.getLogger(__name__)


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
    await _refresh_outbound_gauges(container)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _refresh_outbound_gauges(container: Container) -> None:
    """The outbox backlog as the database has it (the same answer from every process)."""
    try:
        async with container.db.connect() as conn:
            waiting = await backlog.backlog(conn)
    except SQLAlchemyError as exc:
        # The other metrics are still worth scraping; /readyz reports the database.
        log.warning("outbox backlog for /metrics: %s", exc)
        return
    for state, count in waiting.waiting.items():
        metrics_.OUTBOX_WAITING.labels(state).set(count)
    oldest = waiting.oldest_queued_at
    age = (container.clock.now() - oldest).total_seconds() if oldest else 0.0
    metrics_.OUTBOX_OLDEST_WAITING.set(max(0.0, age))
    metrics_.OUTBOX_RETRYING.set(waiting.retrying)
    metrics_.SENDERS_PAUSED.set(len(waiting.paused))


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
        if stored is None and key.endswith(media.PREVIEW_SUFFIX):
            stored = await _make_preview(container, key.removesuffix(media.PREVIEW_SUFFIX))
        if stored is None:
            return PlainTextResponse("not found", status_code=404)
        data, content_type = stored.data, stored.content_type
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "private, max-age=300"}
    )


async def _make_preview(container: Container, key: str) -> media.StoredMedia | None:
    """The preview of an image stored without one (before previews existed), made once.

    None when the original is gone or does not decode within the pixel cap: such an
    image is not shown inline at all.
    """
    async with container.db.connect() as conn:
        original = await media.load(conn, key)
    if original is None:
        return None
    try:
        image = await asyncio.to_thread(
            decode_image, original.data, max_pixels=container.settings.media_max_pixels
        )
    except ImageRefused:
        return None
    async with container.db.begin() as conn:
        await media.save_preview(
            conn,
            key=key,
            data=image.preview,
            content_type=image.preview_type,
            now=container.clock.now(),
        )
    return media.StoredMedia(media.preview_key(key), image.preview_type, image.preview)


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
