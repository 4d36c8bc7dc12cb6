"""``ports.ImageChecker`` on Pillow: an agent's upload decoded in full (``images.py``)."""

from __future__ import annotations

from textdesk.adapters.images import ImageRefused, decode_image
from textdesk.ports import CheckedImage


class PillowImageChecker:
    """Decodes with :func:`~textdesk.adapters.images.decode_image`; a refusal is its reason."""

    def check(self, data: bytes, *, max_pixels: int) -> CheckedImage | str:
        try:
            image = decode_image(data, max_pixels=max_pixels)
        except ImageRefused as refused:
            return refused.reason
        return CheckedImage(image.content_type, image.preview, image.preview_type)
