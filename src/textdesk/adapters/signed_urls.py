"""Expiring, signed URLs for media Twilio fetches from us."""

from __future__ import annotations

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
