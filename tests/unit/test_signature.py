"""X-Twilio-Signature against Twilio's published test vector."""

from __future__ import annotations

import pytest

from textdesk.adapters.twilio.signature import compute_signature, is_valid_signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_official_vector_computes_expected_signature() -> None:
    """compute_signature reproduces Twilio's documented signature."""
    assert compute_signature(TOKEN, URL, PARAMS) == EXPECTED


def test_parameter_order_does_not_matter() -> None:
    """Parameters are sorted by name before signing, so arrival order is irrelevant."""
    assert compute_signature(TOKEN, URL, reversed(PARAMS)) == EXPECTED


def test_official_vector_is_valid() -> None:
    """is_valid_signature accepts the documented signature."""
    assert is_valid_signature(TOKEN, URL, PARAMS, EXPECTED)


def test_default_port_added_is_still_valid() -> None:
    """A URL carrying the default :443 port validates like the URL without it."""
    url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert is_valid_signature(TOKEN, url, PARAMS, EXPECTED)


def test_signature_over_default_port_validates_without_it() -> None:
    """A signature made over the :443 URL validates against the URL without the port."""
    signature = compute_signature(TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS)
    assert is_valid_signature(TOKEN, URL, PARAMS, signature)


def test_other_port_is_not_equivalent() -> None:
    """A non-default port changes the signed URL."""
    url = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    assert not is_valid_signature(TOKEN, url, PARAMS, EXPECTED)


def test_added_parameter_is_rejected() -> None:
    """An extra parameter the signature did not cover invalidates it."""
    assert not is_valid_signature(TOKEN, URL, [*PARAMS, ("Extra", "1")], EXPECTED)


def test_changed_parameter_is_rejected() -> None:
    """A tampered parameter value invalidates the signature."""
    tampered = [(k, "9999" if k == "Digits" else v) for k, v in PARAMS]
    assert not is_valid_signature(TOKEN, URL, tampered, EXPECTED)


def test_changed_query_is_rejected() -> None:
    """The query string is part of the signed URL."""
    assert not is_valid_signature(TOKEN, "https://mycompany.com/myapp.php?foo=1", PARAMS, EXPECTED)


def test_wrong_token_is_rejected() -> None:
    """A signature is bound to the auth token."""
    assert not is_valid_signature("54321", URL, PARAMS, EXPECTED)


@pytest.mark.parametrize("signature", ["", None])
def test_missing_signature_is_rejected(signature: str | None) -> None:
    """An empty or absent X-Twilio-Signature never validates."""
    assert not is_valid_signature(TOKEN, URL, PARAMS, signature)


def test_parameters_with_unknown_names_count() -> None:
    """Fields Twilio adds without notice are signed too, so they must be validated."""
    params = [*PARAMS, ("FromCity", "SAN FRANCISCO"), ("SomethingNew", "x")]
    signature = compute_signature(TOKEN, URL, params)
    assert signature != EXPECTED
    assert is_valid_signature(TOKEN, URL, params, signature)
    assert not is_valid_signature(TOKEN, URL, PARAMS, signature)
