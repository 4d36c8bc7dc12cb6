"""Images decoded, not sniffed: what a texter or an agent sends is opened in full.

Magic bytes say nothing about what follows them: a 389 KB PNG of 20000×20000
pixels passed a sniffer and took an agent's browser up by 2 GB.  So every image is
decoded with Pillow, refused past a pixel budget *before* its pixels are read, and
re-encoded as a small preview (``PREVIEW_SIDE``): the preview is what the Workspace
shows, the original stays behind a link.  Decoding is CPU work: callers run
:func:`decode_image` in a thread.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# What MMS carries reliably (Twilio: jpeg/png/gif fully supported) plus webp.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
PREVIEW_SIDE = 1024  # px, the longer side of what an agent's page loads
DEFAULT_MAX_PIXELS = 25_000_000

# Pillow warns (and only past twice its own cap raises) about decompression bombs;
# here a bomb is always an error, refused like any image over the budget.
warnings.simplefilter("error", Image.DecompressionBombWarning)


class ImageRefused(Exception):
    """Not an image we keep; ``reason`` is texter-safe: not_image | too_many_pixels | unreadable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedImage:
    """A verified image and the preview an agent's page loads instead of it."""

    content_type: str
    width: int
    height: int
    preview: bytes
    preview_type: str


def _preview(image: Image.Image) -> tuple[bytes, str]:
    """A copy at most ``PREVIEW_SIDE`` px on its longer side: PNG if it has alpha, else JPEG."""
    copy = image.copy()
    copy.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    if copy.mode in ("RGBA", "LA", "PA") or (copy.mode == "P" and "transparency" in copy.info):
        copy.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    copy.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue(), "image/jpeg"


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode ``data`` in full; :class:`ImageRefused` when it is no image we keep.

    Only the header is read before the pixel check, so a bomb costs nothing; then
    the first frame is decoded entirely, so a truncated or corrupt file is refused
    here rather than half-shown to an agent.
    """
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            content_type = IMAGE_FORMATS.get(str(image.format))
            if content_type is None:
                raise ImageRefused("not_image")
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRefused("too_many_pixels")
            if image.format == "JPEG":
                # Decode at the preview's scale: JPEG can, and still reads every byte.
                image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
            image.load()
            preview, preview_type = _preview(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("too_many_pixels") from exc
    except UnidentifiedImageError as exc:
        raise ImageRefused("not_image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Truncated data, bad checksums, impossible headers: Pillow's ways of saying so.
        raise ImageRefused("unreadable") from exc
    return DecodedImage(content_type, width, height, preview, preview_type)


class ThreadedPreviews:
    """``ports.PreviewMaker``: :func:`decode_image` in a worker thread, off the event loop."""

    def __init__(self, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self._max_pixels = max_pixels

    async def preview(self, data: bytes) -> tuple[bytes, str] | None:
        try:
            image = await asyncio.to_thread(decode_image, data, max_pixels=self._max_pixels)
        except ImageRefused:
            return None
        return image.preview, image.preview_type
