"""Real images for tests, made on the spot: photos, and bombs that are small on disk."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def photo(width: int = 4, height: int = 3, fmt: str = "PNG") -> bytes:
    """A real ``fmt`` image of ``width``×``height`` pixels."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 120, 200)).save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width``×``height`` that compresses to a few hundred KB at most."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then all-black pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks
