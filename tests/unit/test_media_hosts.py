"""Which MediaUrl addresses textdesk will fetch (with the account's credentials)."""

from __future__ import annotations

import pytest

from textdesk.adapters.twilio.media import host_allowed

SANDBOX_API = "http://127.0.0.1:8000/sandbox/twilio"
TWILIO = ("api.twilio.com", "*.twiliocdn.com", "127.0.0.1")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("https://s3-external-1.twiliocdn.com/ACx/abc", True),
        ("https://evil.example/ACx/abc", False),
        ("file:///etc/passwd", False),
        # The sandbox API lives inside the app: its media, but not the app's other pages.
        (f"{SANDBOX_API}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("http://127.0.0.1:8000/metrics", False),
        ("http://127.0.0.1:8000/sandbox/twilioX/steal", False),
        ("http://127.0.0.1:8000/workspace", False),
    ],
)
def test_only_twilio_media_addresses_are_fetched(url: str, allowed: bool) -> None:
    assert host_allowed(url, TWILIO, SANDBOX_API) is allowed


def test_real_twilio_media_paths_are_all_under_the_api() -> None:
    api = "https://api.twilio.com"
    assert host_allowed(f"{api}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", TWILIO, api)
