"""Expiring, signed URLs for media Twilio fetches from us."""

from __future__ import annotations

import base64
import hashlib
import hmac

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class MediaUrlSigner:
    def __init__(self, *, secret_key: str, public_url: str, ttl_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="textdesk.media")
        self._base = public_url.rstrip("/")
        self._ttl = ttl_seconds

    def url_for(self, key: str) -> str:
        return f"{self._base}/media/{self._serializer.dumps(key)}"

    def key_for(self, token: str) -> str | None:
        """The media key a token names, or None when forged or expired."""
        try:
            key = self._serializer.loads(token, max_age=self._ttl)
        except (BadSignature, SignatureExpired):
            return None
        return key if isinstance(key, str) else None


class RecordLinkSigner:
    """Short read-only links to a record, for cards texted to its caller.

    ``/r/INC0010001.k3Jx9aQ2b7Lm``: the number plus a truncated HMAC, so links stay
    short enough for one SMS segment's worth of room, yet cannot be enumerated.
    """

    def __init__(self, *, secret_key: str, public_url: str) -> None:
        self._key = hashlib.sha256(f"textdesk.record:{secret_key}".encode()).digest()
        self._base = public_url.rstrip("/")

    def _tag(self, number: str) -> str:
        mac = hmac.new(self._key, number.encode(), hashlib.sha256).digest()[:9]
        return base64.urlsafe_b64encode(mac).decode()

    def url_for(self, number: str) -> str:
        return f"{self._base}/r/{number}.{self._tag(number)}"

    def number_for(self, token: str) -> str | None:
        """The record number a link names, or None when the tag does not match."""
        number, _, tag = token.partition(".")
        if not number or not hmac.compare_digest(tag, self._tag(number)):
            return None
        return number
