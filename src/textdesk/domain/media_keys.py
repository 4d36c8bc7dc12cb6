"""How stored images are keyed: an upload's downscaled copy lives beside it."""

from __future__ import annotations

PREVIEW_SUFFIX = "/preview"


def preview_key(key: str) -> str:
    """Where the downscaled copy of stored image ``key`` lives (same row shape)."""
    return key + PREVIEW_SUFFIX
