"""Texters' photos decoded before they are kept; agents' pages load a small copy."""

from __future__ import annotations

import html
import io
import re

import pytest
from PIL import Image

from tests.images import bomb_png, photo
from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import at_the_photo_question
from tests.integration.workspace_helpers import AgentBrowser, new_agent
from textdesk.channel.answering import Converser

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >>\nendobj\n"


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent, whose incident topic asks for a photo."""
    return None


async def _kept(desk: Desk) -> int:
    return int(await desk.scalar("SELECT count(*) FROM media WHERE key NOT LIKE '%/preview'"))


@pytest.mark.parametrize(
    ("sent", "told"),
    [
        # 20000×20000 pixels in a few tens of KB: the bomb that took a browser to 2 GB.
        (bomb_png(20000, 20000), "too big to open (the limit is 25 megapixels)"),
        # PNG's signature, then a PDF: magic bytes said "image".
        (b"\x89PNG\r\n\x1a\n" + PDF, "Only images can be sent here"),
        # A real JPEG cut in half.
        (photo(640, 480, "JPEG")[:4000], "couldn't receive that image"),
    ],
    ids=["bomb", "pdf-with-png-magic", "truncated-jpeg"],
)
async def test_an_image_that_does_not_decode_is_refused_and_asked_for_again(
    desk: Desk, sent: bytes, told: str
) -> None:
    """Nothing is kept; the texter hears why and is asked for the photo again."""
    phone = await at_the_photo_question(desk)
    reply = await phone.say(media=[(sent, "image/png")])
    assert told in reply
    assert "Please send a photo" in reply
    assert await _kept(desk) == 0
    assert "YES or NO" in await phone.say(media=[(photo(), "image/png")])  # a real one passes


async def test_a_photo_and_a_pdf_keep_the_photo_and_say_the_pdf_was_not_kept(desk: Desk) -> None:
    """One MMS with both: the photo is kept, and the texter is told about the PDF."""
    phone = await at_the_photo_question(desk)
    reply = await phone.say(media=[(photo(), "image/jpeg"), (PDF, "application/pdf")])
    assert "I kept your photo, but not the PDF you sent. Only images can be sent here." in reply
    assert "YES or NO" in reply  # and the topic carries on
    assert await _kept(desk) == 1


async def test_the_workspace_loads_a_downscaled_copy_and_links_the_original(desk: Desk) -> None:
    """An agent's page loads each texter photo at most 1024 px wide; the link has it whole."""
    await new_agent(desk.db, "Dana Agent")
    big = photo(2400, 1800, "JPEG")
    phone = await at_the_photo_question(desk)
    await phone.say(media=[(big, "image/jpeg")])
    await phone.say("agent")
    cid = int(await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER))
    dana = AgentBrowser(desk.url)
    try:
        assert (await dana.sign_in("dana@example.com")).status_code == 303
        page = (await dana.http.get(f"/workspace/conversations/{cid}")).text
        shown = re.findall(r'<a href="([^"]+)"[^>]*>\s*<img[^>]* src="([^"]+)"', page)
        assert shown, "the texter's photo is on the page"
        for href, src in shown:
            loaded = await dana.http.get(html.unescape(src))
            assert Image.open(io.BytesIO(loaded.content)).size == (1024, 768)
            assert (await dana.http.get(html.unescape(href))).content == big
    finally:
        await dana.close()
