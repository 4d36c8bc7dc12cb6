"""The images behind signed media URLs: what Twilio fetches for an MMS, and what the
Workspace and the record page show (previews are made the first time they are asked for)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textdesk.domain.media_keys import TOPIC_PREFIX
from textdesk.ports import Clock, MediaStore, MediaTokens, PreviewMaker, StoredMedia


class ExpiredLink(ValueError):
    """A media URL we did not sign, or whose time is up."""


@dataclass(frozen=True)
class MediaFiles:
    tokens: MediaTokens
    store: MediaStore
    previews: PreviewMaker
    clock: Clock
    # The demo's packaged images (``demo/…`` keys): bytes and type, or None.
    demo: Callable[[str], tuple[bytes, str] | None]
    # A topic's images (``topics/<id>/<name>`` keys), uploaded in the designer.
    topic_images: Callable[[str], Awaitable[StoredMedia | None]] | None = None

    async def open(self, token: str) -> StoredMedia | None:
        """The image a signed URL names; None when there is none (any more).

        Raises ``ExpiredLink`` for a URL we did not sign or that has expired.
        """
        key = self.tokens.key_for(token)
        if key is None:
            raise ExpiredLink(token)
        if key.startswith("demo/"):
            found = self.demo(key)
            return None if found is None else StoredMedia(key, found[1], found[0])
        if key.startswith(TOPIC_PREFIX):
            return await self.topic_images(key) if self.topic_images is not None else None
        stored = await self.store.load(key)
        if stored is None:
            original = self.store.original_of(key)
            if original is not None:
                stored = await self._make_preview(original)
        return stored

    async def _make_preview(self, original: str) -> StoredMedia | None:
        """The preview of an image stored without one (before previews existed), made once.

        None when the original is gone or does not decode within the pixel cap: such an
        image is not shown inline at all.
        """
        image = await self.store.load(original)
        if image is None:
            return None
        made = await self.previews.preview(image.data)
        if made is None:
            return None
        data, content_type = made
        return await self.store.save_preview(
            original, data=data, content_type=content_type, now=self.clock.now()
        )
