"""Downloading a texter's MMS attachments from Twilio, safely."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urljoin

import httpx

from textdesk.adapters.twilio.media_origins import MediaUrl, Origin, RefusedUrl, check, normalise

log = logging.getLogger(__name__)

# Twilio answers a media URL with one redirect to its CDN; a few more are tolerated.
MAX_REDIRECTS = 3


class TwilioMediaFetcher:
    """Fetches ``MediaUrlN`` with the account's credentials, capped in size.

    A MediaUrl is input, not a trusted address.  Each hop, the first and every
    redirect, is brought to canonical form and must be on an allowed origin
    (scheme, host and port; see :mod:`media_url`).  Credentials go only to the
    API's own origin, and never again once a redirect has left it: Twilio's CDN
    URLs are presigned.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        allowed_origins: Sequence[Origin],
        api_origin: Origin,
        api_prefix: str,
        max_bytes: int,
    ) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._allowed = tuple(allowed_origins)
        self._api = api_origin
        self._api_prefix = api_prefix
        self._max = max_bytes

    def _vet(self, url: str) -> MediaUrl | None:
        try:
            parsed = normalise(url)
        except RefusedUrl as exc:
            log.warning("media URL refused: %s", exc)
            return None
        why = check(parsed, self._allowed, api=self._api, api_prefix=self._api_prefix)
        if why is not None:
            log.warning("media URL refused: %s", why)
            return None
        return parsed

    async def fetch(self, url: str) -> tuple[bytes | None, str | None]:
        """Download ``url``; (bytes, None) or (None, a reason such as "forbidden_origin")."""
        on_api = True  # every hop so far was on the API's origin
        for _ in range(MAX_REDIRECTS + 1):
            target = self._vet(url)
            if target is None:
                return None, "forbidden_origin"
            on_api = on_api and target.origin == self._api
            try:
                async with self._client.stream(
                    "GET", str(target), auth=self._auth if on_api else None, follow_redirects=False
                ) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            return None, "fetch_failed"
                        url = urljoin(str(target), location)
                        continue
                    return await self._body(response)
            except httpx.HTTPError:
                return None, "fetch_failed"
        return None, "fetch_failed"  # too many redirects

    async def _body(self, response: httpx.Response) -> tuple[bytes | None, str | None]:
        if not response.is_success:
            return None, "fetch_failed"
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._max:
            return None, "too_large"
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data.extend(chunk)
            if len(data) > self._max:
                return None, "too_large"
        return bytes(data), None
