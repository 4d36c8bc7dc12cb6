"""Which MediaUrl addresses textdesk will fetch: the canonical form, then the origin."""

from __future__ import annotations

import pytest

from textdesk.adapters.twilio.media_origins import (
    Origin,
    RefusedUrl,
    api_origin,
    check,
    normalise,
    parse_origin,
)

TWILIO_API = "https://api.twilio.com"
MEDIA_PATH = f"/2010-04-01/Accounts/AC{'1' * 32}/Messages/MM{'2' * 32}/Media/ME{'3' * 32}"
ORIGINS = (parse_origin("https://api.twilio.com"), parse_origin("https://mms.twiliocdn.com"))
SANDBOX_API = "http://127.0.0.1:8204/sandbox/twilio"


def allowed(url: str, api_url: str = TWILIO_API) -> bool:
    api, prefix = api_origin(api_url)
    try:
        parsed = normalise(url)
    except RefusedUrl:
        return False
    return check(parsed, ORIGINS, api=api, api_prefix=prefix) is None


@pytest.mark.parametrize(
    "url",
    [
        TWILIO_API + MEDIA_PATH,
        "HTTPS://API.Twilio.COM" + MEDIA_PATH,
        "https://api.twilio.com:443" + MEDIA_PATH,
        # Where Twilio redirects media once HTTP auth is enforced: presigned, query kept.
        "https://mms.twiliocdn.com/AC1/abc/def?Expires=1700000000&Signature=a%2Bb%3D&Key-Pair-Id=K",
    ],
)
def test_real_twilio_media_urls_pass(url: str) -> None:
    """Twilio's own media URLs and its CDN's presigned ones are fetched."""
    assert allowed(url)


def test_the_canonical_form_makes_the_default_port_explicit_and_the_host_lowercase() -> None:
    """Two spellings of one address compare equal, and the wire form stays Twilio's."""
    a = normalise("HTTPS://API.TWILIO.COM" + MEDIA_PATH + "#frag")
    b = normalise("https://api.twilio.com:443" + MEDIA_PATH)
    assert a == b
    assert a.origin == Origin("https", "api.twilio.com", 443)
    assert str(a) == TWILIO_API + MEDIA_PATH


@pytest.mark.parametrize(
    "url",
    [
        "http://x@127.0.0.1:8204/sandbox/twilio/a",
        "http://user:pw@api.twilio.com/a",
        "http://127.0.0.1:8204/sandbox/twilio/../../metrics",
        "http://127.0.0.1:8204/sandbox/twilio/%2e%2e/%2E%2E/metrics",
        "http://127.0.0.1:8204/sandbox/twilio/.%2e/metrics",
        "http://127.0.0.1:8204/sandbox/twilio/./a",
        "http://127.0.0.1:8204/sandbox/twilio%2f..%2fmetrics",
        "http://127.0.0.1:8204/sandbox/twilio/%252e%252e/metrics",
        "http://127.0.0.1:08204/sandbox/twilio/a",
        "http://127.0.0.1:0/sandbox/twilio/a",
        "http://127.0.0.1:65536/sandbox/twilio/a",
        "http://127.0.0.1:/sandbox/twilio/a",
        "http://127.0.0.1:+8204/sandbox/twilio/a",
        "http://127.0.0.1:8204\\@evil.example/sandbox/twilio/a",
        "http://127.0.0.1:8204/sandbox/twilio/a b",
        "http://127.0.0.1:8204/sandbox/twilio/a\tb",
        "http://127.0.0.1:8204/sandbox/twilio/\x00",
        "http://[::1]:8204/sandbox/twilio/a",
        "http://api.twilio.com./a",
        "http://äpi.twilio.com/a",
        "file:///etc/passwd",
        "ftp://api.twilio.com/a",
        "https:///a",
    ],
)
def test_urls_with_two_spellings_are_refused(url: str) -> None:
    """Userinfo, dot segments (plain or encoded), odd ports, backslashes, controls: refused."""
    with pytest.raises(RefusedUrl):
        normalise(url)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (f"{SANDBOX_API}{MEDIA_PATH}", True),
        # The sandbox API lives inside the app: its media, but not the app's other pages.
        ("http://127.0.0.1:8204/metrics", False),
        ("http://127.0.0.1:8204/sandbox/twilioX/steal", False),
        ("http://127.0.0.1:8204/workspace", False),
        # The API's host on another port, or another scheme, is another origin.
        (f"http://127.0.0.1:8220{MEDIA_PATH}", False),
        (f"https://127.0.0.1:8204/sandbox/twilio{MEDIA_PATH}", False),
        ("https://evil.example/ACx/abc", False),
    ],
)
def test_only_the_api_origin_and_allowed_origins_are_fetched(url: str, ok: bool) -> None:
    """Scheme, host and port must all match; on the API's origin, its path too."""
    assert allowed(url, SANDBOX_API) is ok


def test_a_twilio_url_on_another_port_is_not_twilio() -> None:
    """api.twilio.com:8443 is not the origin https://api.twilio.com."""
    assert not allowed("https://api.twilio.com:8443" + MEDIA_PATH)
    assert not allowed("http://api.twilio.com" + MEDIA_PATH)


def test_a_wildcard_origin_admits_its_subdomains_on_its_port_only() -> None:
    """``https://*.twiliocdn.com`` admits mms.twiliocdn.com, not the bare or foreign host."""
    cdn = parse_origin("https://*.twiliocdn.com")
    assert cdn.admits(normalise("https://mms.twiliocdn.com/a").origin)
    assert not cdn.admits(normalise("https://twiliocdn.com/a").origin)
    assert not cdn.admits(normalise("https://eviltwiliocdn.com/a").origin)
    assert not cdn.admits(normalise("https://mms.twiliocdn.com:444/a").origin)


@pytest.mark.parametrize(
    "text", ["api.twilio.com", "https://api.twilio.com/path", "https://a@b.com", "ftp://x.com"]
)
def test_a_configured_origin_is_scheme_host_and_port_only(text: str) -> None:
    """A host alone, a path or userinfo in TEXTDESK_MEDIA_ORIGINS is a start-up error."""
    with pytest.raises(ValueError, match="not a media origin"):
        parse_origin(text)
