"""Downloading a texter's MMS attachments from Twilio, safely."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx


def host_allowed(url: str, allowed: tuple[str, ...], api_url: str | None = None) -> bool:
    """True when ``url`` is http(s) on one of ``allowed`` (``*.suffix`` wildcards).

    On the API's own origin only the API's paths count: in the sandbox that origin is
    textdesk itself, whose other pages (metrics, the Workspace) are not media.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if api_url:
        api = urlsplit(api_url)
        same_origin = (parts.scheme, parts.netloc.lower()) == (api.scheme, api.netloc.lower())
        if same_origin and not parts.path.startswith(api.path.rstrip("/") + "/"):
            return False
    host = parts.hostname.lower()
    for pattern in allowed:
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


class TwilioMediaFetcher:
    """Fetches ``MediaUrlN`` with the account's credentials, capped in size.

    A MediaUrl is input, not a trusted address: only Twilio's hosts (configurable, for
    the stand-in) are contacted, and every redirect is checked the same way.  Auth is
    sent to the first host only, as Twilio's CDN URLs are pre-signed.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        allowed_hosts: tuple[str, ...],
        max_bytes: int,
        api_url: str | None = None,
    ) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._allowed = allowed_hosts
        self._api_url = api_url
        self._max = max_bytes

    async def fetch(self, url: str) -> tuple[bytes | None, str | None]:
        first_host = urlsplit(url).hostname
        for _ in range(5):
            if not host_allowed(url, self._allowed, self._api_url):
                return None, "forbidden_host"
            auth = self._auth if urlsplit(url).hostname == first_host else None
            try:
                async with self._client.stream(
                    "GET", url, auth=auth, follow_redirects=False
                ) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            return None, "fetch_failed"
                        url = urljoin(url, location)
                        continue
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
            except httpx.HTTPError:
                return None, "fetch_failed"
        return None, "fetch_failed"
