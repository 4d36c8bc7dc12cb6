"""The images behind signed media URLs: links, demo images, stored ones, late previews."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from textdesk.ops.media_files import ExpiredLink, MediaFiles
from textdesk.ports import StoredMedia
from textdesk.testing.clock import FixedClock
from textdesk.testing.ops import MemoryMedia, PlainTokens, ShrinkingPreviews

DEMO = {"demo/serial.png": (b"PNGDATA", "image/png")}


@dataclass
class Rig:
    store: MemoryMedia = field(default_factory=MemoryMedia)
    previews: ShrinkingPreviews = field(default_factory=ShrinkingPreviews)

    def files(self) -> MediaFiles:
        return MediaFiles(
            tokens=PlainTokens(),
            store=self.store,
            previews=self.previews,
            clock=FixedClock(),
            demo=DEMO.get,
        )


async def test_a_link_we_did_not_sign_or_that_expired_is_refused() -> None:
    with pytest.raises(ExpiredLink):
        await Rig().files().open("forged:att/abc")


async def test_a_demo_image_comes_from_the_package_and_an_unknown_one_is_not_found() -> None:
    r = Rig()
    assert await r.files().open("ok:demo/serial.png") == StoredMedia(
        "demo/serial.png", "image/png", b"PNGDATA"
    )
    assert await r.files().open("ok:demo/other.png") is None


async def test_a_stored_image_is_served_as_stored() -> None:
    r = Rig()
    r.store.put("att/abc", b"JPEGBYTES", "image/jpeg")
    assert await r.files().open("ok:att/abc") == StoredMedia("att/abc", "image/jpeg", b"JPEGBYTES")


async def test_a_missing_preview_is_made_from_the_original_once_and_kept() -> None:
    r = Rig()
    r.store.put("att/old", b"ORIGINAL")
    first = await r.files().open("ok:att/old/preview")
    again = await r.files().open("ok:att/old/preview")
    assert first == again == StoredMedia("att/old/preview", "image/jpeg", b"ORIG")
    assert (r.previews.made, r.store.previews_saved) == (1, ["att/old"])


async def test_no_preview_of_an_original_that_is_gone_or_does_not_decode() -> None:
    r = Rig()
    r.store.put("att/bomb", b"TOO MANY PIXELS")
    r.previews.refused.add(b"TOO MANY PIXELS")
    assert await r.files().open("ok:att/gone/preview") is None
    assert await r.files().open("ok:att/bomb/preview") is None
    assert r.store.previews_saved == []


async def test_a_missing_image_that_is_no_preview_is_not_found() -> None:
    r = Rig()
    assert await r.files().open("ok:att/gone") is None
    assert r.previews.made == 0


async def test_a_topics_image_comes_from_the_topics_store_not_the_uploads() -> None:
    r = Rig()
    r.store.put("topics/router/back.png", b"UPLOADS-TABLE")
    topic_images = {
        "topics/router/back.png": StoredMedia("topics/router/back.png", "image/png", b"T")
    }

    async def load(key: str) -> StoredMedia | None:
        return topic_images.get(key)

    files = MediaFiles(
        tokens=PlainTokens(),
        store=r.store,
        previews=r.previews,
        clock=FixedClock(),
        demo=DEMO.get,
        topic_images=load,
    )
    assert await files.open("ok:topics/router/back.png") == topic_images["topics/router/back.png"]
    assert await files.open("ok:topics/router/front.png") is None
