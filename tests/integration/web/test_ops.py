"""/media serves what a signed URL names; a preview stored before previews existed is made."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.integration.conftest import Desk
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import media


def _png(side: int = 2000) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), "teal").save(out, "PNG")
    return out.getvalue()


async def test_a_missing_preview_is_made_from_its_original_and_kept(desk: Desk) -> None:
    """An image stored without a preview: the preview URL answers a downscaled JPEG once
    made, and stores it; a preview of nothing, or of no image, is not found."""
    async with desk.db.begin() as conn:
        now = SystemClock().now()
        photo = await media.save(conn, data=_png(), content_type="image/png", now=now)
        broken = await media.save(conn, data=b"not an image", content_type="image/png", now=now)
    signer = desk.container.signer
    async with httpx.AsyncClient() as client:
        original = await client.get(signer.url_for(photo))
        preview = await client.get(signer.url_for(media.preview_key(photo)))
        again = await client.get(signer.url_for(media.preview_key(photo)))
        of_nothing = await client.get(signer.url_for(media.preview_key("att/gone")))
        of_no_image = await client.get(signer.url_for(media.preview_key(broken)))
        expired = await client.get(f"{desk.url}/media/not-a-token")
    assert (original.status_code, original.headers["content-type"]) == (200, "image/png")
    assert original.headers["cache-control"] == "private, max-age=300"
    assert (preview.status_code, preview.headers["content-type"]) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(preview.content)).size == (1024, 1024)
    assert again.content == preview.content
    rows = await desk.scalar("SELECT count(*) FROM media WHERE key = :k", k=photo + "/preview")
    assert rows == 1
    assert (of_nothing.status_code, of_nothing.text) == (404, "not found")
    assert (of_no_image.status_code, of_no_image.text) == (404, "not found")
    assert (expired.status_code, expired.text) == (404, "link expired or invalid")
