"""Images are decoded in full under a pixel budget, and shown through a small preview."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.images import bomb_png, photo
from textdesk.adapters.images import PREVIEW_SIDE, ImageRefused, decode_image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_real_photos_are_kept_with_their_type(fmt: str) -> None:
    """Each format MMS carries decodes, and its real type is recorded."""
    image = decode_image(photo(40, 30, fmt))
    assert (image.content_type, image.width, image.height) == (f"image/{fmt.lower()}", 40, 30)


def test_a_20000_by_20000_png_is_refused_before_its_pixels_are_read() -> None:
    """The 400-megapixel bomb (tens of KB on disk) is refused, not decoded."""
    bomb = bomb_png(20000, 20000)
    assert len(bomb) < 400_000
    with pytest.raises(ImageRefused) as refused:
        decode_image(bomb)
    assert refused.value.reason == "too_many_pixels"


def test_the_pixel_budget_is_the_setting_not_pillows() -> None:
    """3000×3000 is far under Pillow's own threshold, yet over a 4-megapixel budget."""
    image = bomb_png(3000, 3000)
    with pytest.raises(ImageRefused, match="too_many_pixels"):
        decode_image(image, max_pixels=4_000_000)
    assert decode_image(image, max_pixels=9_000_000).width == 3000


def test_a_pdf_behind_png_magic_bytes_is_refused() -> None:
    """PNG's signature followed by a PDF is not an image."""
    with pytest.raises(ImageRefused):
        decode_image(b"\x89PNG\r\n\x1a\n%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\n" * 4)


def test_a_pdf_is_not_an_image() -> None:
    """A PDF, whatever its sender called it, is refused as not an image."""
    with pytest.raises(ImageRefused, match="not_image"):
        decode_image(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")


def test_a_truncated_jpeg_is_refused() -> None:
    """A JPEG cut short decodes only in part: refused rather than half shown."""
    whole = photo(640, 480, "JPEG")
    with pytest.raises(ImageRefused, match="unreadable"):
        decode_image(whole[: len(whole) // 2])


def test_the_preview_is_at_most_1024_pixels_on_its_longer_side() -> None:
    """A 3000×1500 photo gets a 1024×512 preview an agent's page can afford."""
    image = decode_image(photo(3000, 1500, "JPEG"))
    preview = Image.open(io.BytesIO(image.preview))
    assert max(preview.size) == PREVIEW_SIDE
    assert preview.size == (1024, 512)
    assert image.preview_type == "image/jpeg"


def test_a_transparent_image_keeps_its_alpha_in_a_png_preview() -> None:
    """Transparency survives: the preview of an RGBA PNG is a PNG."""
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    assert decode_image(out.getvalue()).preview_type == "image/png"
