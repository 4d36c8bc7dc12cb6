"""Which addresses a ``MediaUrlN`` may name: one canonical form, then an origin check.

A MediaUrl is input.  Comparing hostnames alone let a URL on Twilio's API host but
another port (or the app's own ``/metrics`` through ``../``) be fetched with the
account's credentials.  So a URL is first brought to one canonical form, refusing
everything that has two spellings (userinfo, dot segments, plain or percent-encoded,
ports with leading zeros, backslashes, control characters), and only then compared,
by scheme, host *and* port, with the allowed origins.  The module is pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
# Encodings that stand for a path separator, a dot or a second round of decoding:
# Twilio's media paths never contain them, a path trick always does.
_ENCODED_TRICKS = re.compile(r"%(?:2e|2f|5c|25)", re.IGNORECASE)


class RefusedUrl(ValueError):
    """A URL that has no single canonical form (the message says why)."""


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port; the host may be ``*.suffix`` in a configured origin."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        default = DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{self.host}" + ("" if default else f":{self.port}")

    def admits(self, other: Origin) -> bool:
        """True when ``other`` (a concrete origin) is this one or matches its wildcard."""
        if (self.scheme, self.port) != (other.scheme, other.port):
            return False
        if self.host.startswith("*."):
            return other.host.endswith(self.host[1:])
        return self.host == other.host


@dataclass(frozen=True)
class MediaUrl:
    """A URL in canonical form: lowercase scheme and host, explicit port, clean path."""

    origin: Origin
    path: str
    query: str

    def __str__(self) -> str:
        # The default port stays implicit on the wire, as Twilio and presigned CDN
        # URLs write it; for comparison it is always explicit (``origin``).
        return f"{self.origin}{self.path}" + (f"?{self.query}" if self.query else "")


def _check_characters(url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl("longer than a media URL can be")
    if not url.isascii():
        raise RefusedUrl("not plain ASCII")
    if any(ch <= " " or ch == "\x7f" for ch in url):
        raise RefusedUrl("contains spaces or control characters")
    if "\\" in url:
        raise RefusedUrl("contains a backslash")


def _port(text: str, scheme: str) -> int:
    if not text:
        return DEFAULT_PORTS[scheme]
    if not text.isdigit() or (len(text) > 1 and text.startswith("0")):
        raise RefusedUrl("the port is not written canonically")
    port = int(text)
    if not 0 < port < 65536:
        raise RefusedUrl("the port is out of range")
    return port


def _host_and_port(netloc: str, scheme: str) -> tuple[str, int]:
    if "@" in netloc:
        raise RefusedUrl("contains user information")
    host, colon, port_text = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    if colon and not port_text:
        raise RefusedUrl("has an empty port")
    host = host.lower()
    if not _HOST.fullmatch(host) or len(host) > 253:
        raise RefusedUrl("the host is not a plain host name or IPv4 address")
    return host, _port(port_text, scheme)


def _path(raw: str) -> str:
    if _ENCODED_TRICKS.search(raw):
        raise RefusedUrl("the path encodes a separator, a dot or a percent sign")
    path = raw or "/"
    if not path.startswith("/"):
        raise RefusedUrl("the path is not absolute")
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        raise RefusedUrl("the path has dot segments")
    return path


def normalise(url: str) -> MediaUrl:
    """``url`` in canonical form; :class:`RefusedUrl` when it has none.

    The fragment, never sent, is dropped; the query is kept as written (presigned
    CDN URLs carry their signature there).
    """
    _check_characters(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise RefusedUrl("not an http(s) URL")
    host, port = _host_and_port(parts.netloc, scheme)
    return MediaUrl(Origin(scheme, host, port), _path(parts.path), parts.query)


def parse_origin(text: str) -> Origin:
    """A configured origin: ``https://api.twilio.com``, ``https://*.twiliocdn.com``."""
    try:
        _check_characters(text)
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise RefusedUrl("not http(s)")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise RefusedUrl("give scheme://host[:port] only")
        wildcard = parts.netloc.startswith("*.")
        host, port = _host_and_port(parts.netloc.removeprefix("*."), scheme)
    except RefusedUrl as exc:
        raise ValueError(f"{text!r} is not a media origin: {exc}") from exc
    return Origin(scheme, "*." + host if wildcard else host, port)


def api_origin(api_url: str) -> tuple[Origin, str]:
    """The origin of ``TWILIO_API_URL`` and its path prefix ("" for Twilio itself)."""
    parsed = normalise(api_url)
    return parsed.origin, parsed.path.rstrip("/")


def check(url: MediaUrl, allowed: Sequence[Origin], *, api: Origin, api_prefix: str) -> str | None:
    """Why ``url`` may not be fetched, or None when it may.

    On the API's own origin only the API's paths count: in the sandbox that origin
    is textdesk itself, whose other pages (metrics, the Workspace) are not media.
    """
    if url.origin == api:
        if api_prefix and not url.path.startswith(api_prefix + "/"):
            return "outside the API's path on its origin"
        return None
    if not any(origin.admits(url.origin) for origin in allowed):
        return f"{url.origin} is not an allowed media origin"
    return None
