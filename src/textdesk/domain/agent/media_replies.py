"""What a texter is told about the attachments of one MMS that were not kept.

A photo picker keeps images; anything else in the same MMS (a PDF, a video, an
image over a cap) is named back to the texter with the reason, rather than
dropped in silence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from textdesk.domain.agent.inputs import media_limit
from textdesk.domain.agent.messages import RefusedMedia
from textdesk.domain.agent.turn import Turn


def kind_of(content_type: str) -> str:
    """A word for a file as its sender's phone labelled it ("PDF", "video", …)."""
    major, _, minor = content_type.lower().partition("/")
    if minor == "pdf":
        return "PDF"
    if minor in ("vcard", "x-vcard"):
        return "contact card"
    if major in ("image", "video", "audio"):
        return {"image": "image", "video": "video", "audio": "audio clip"}[major]
    return "file"


def _counted(words: Sequence[str]) -> str:
    parts = [word if n == 1 else f"{n} {word}s" for word, n in Counter(words).items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def why_refused(turn: Turn, error: str | None, limit: int | None = None) -> str:
    """The reason an attachment was not kept, in the topic's words."""
    texts = turn.settings.texts
    if error == "not_image":
        return turn.text(texts.not_image)
    if error == "too_large":
        return turn.text(texts.too_large, limit=media_limit({"max_bytes": limit}))
    if error == "too_many_pixels":
        megapixels = f"{(limit or 25_000_000) / 1_000_000:g}"
        return turn.text(texts.too_many_pixels, limit=megapixels)
    return turn.text(texts.media_failed)


def partly_kept(turn: Turn, kept: int, refused: Sequence[RefusedMedia]) -> str:
    """ "I kept your photo, but not the PDF you sent. Only images can be sent here.\""""
    texts = turn.settings.texts
    head = turn.text(
        texts.partly_kept,
        kept="photo" if kept == 1 else f"{kept} photos",
        dropped=_counted([kind_of(r.content_type) for r in refused]),
    )
    reasons = dict.fromkeys(why_refused(turn, r.error, r.limit) for r in refused)
    return " ".join([head, *reasons])
