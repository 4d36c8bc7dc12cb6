"""Demo content shipped with textdesk: topics, accounts, incidents and images."""

from __future__ import annotations

import mimetypes
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
MEDIA_DIR = DEMO_DIR / "media"


def demo_media(key: str) -> tuple[bytes, str] | None:
    """Bytes and type of a packaged demo image (``demo/serial.png``)."""
    name = key.removeprefix("demo/")
    path = (MEDIA_DIR / name).resolve()
    if path.parent != MEDIA_DIR or not path.is_file():
        return None
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"
