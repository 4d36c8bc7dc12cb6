"""Recognising images from their bytes, never from what the sender claimed."""

from __future__ import annotations

import filetype

# What MMS carries reliably (Twilio: jpeg/png/gif fully supported) plus webp.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def sniff_image(data: bytes) -> str | None:
    """The image MIME type ``data`` really is, or None when it is not an image we accept."""
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in IMAGE_TYPES:
        return None
    return str(kind.mime)
