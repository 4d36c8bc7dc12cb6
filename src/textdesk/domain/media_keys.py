"""How stored images are keyed: an upload's downscaled copy lives beside it; a topic's
images under the topic."""

from __future__ import annotations

import re

PREVIEW_SUFFIX = "/preview"


def preview_key(key: str) -> str:
    """Where the downscaled copy of stored image ``key`` lives (same row shape)."""
    return key + PREVIEW_SUFFIX


# A topic's images (``topics/assets.py``) are served under the topic's own prefix, so
# an image node names one as ``media: topics/<topic_id>/<name>``.
TOPIC_PREFIX = "topics/"
IMAGE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}\.(png|jpe?g|gif|webp)$", re.IGNORECASE)


def topic_media_key(topic_id: str, name: str) -> str:
    """The media key of topic ``topic_id``'s image ``name``."""
    return f"{TOPIC_PREFIX}{topic_id}/{name}"


def topic_media_parts(key: str) -> tuple[str, str] | None:
    """``(topic_id, name)`` of a topic image's key; None for any other key."""
    if not key.startswith(TOPIC_PREFIX):
        return None
    topic_id, slash, name = key.removeprefix(TOPIC_PREFIX).partition("/")
    if not slash or not topic_id or IMAGE_NAME.match(name) is None:
        return None
    return topic_id, name
