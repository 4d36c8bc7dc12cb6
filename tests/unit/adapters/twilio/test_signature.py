"""X-Twilio-Signature against Twilio's published test vector and Twilio's own library."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.webhook_strategies import WebhookUrl, signed_forms, webhook_urls
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


class _Form(dict[str, list[str]]):
    """A form as twilio's validator reads one with repeated names (Flask's MultiDict)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__()
        for name, value in pairs:
            self.setdefault(name, []).append(value)

    def getall(self, name: str) -> list[str]:
        return self[name]


# Twilio's own library is the oracle.  Where it and we knowingly differ, the strategies
# stay out: it counts a name and value posted twice once (we sign both; Twilio posts no
# such pair), and it also accepts a URL with a non-default port signed without it.
ORACLE = RequestValidator(TOKEN)


@given(case=webhook_urls(), form=signed_forms())
def test_our_signature_is_the_one_twilios_library_computes(
    case: WebhookUrl, form: list[tuple[str, str]]
) -> None:
    """For any form and URL, compute_signature gives what RequestValidator computes."""
    assert compute_signature(TOKEN, case.url, form) == ORACLE.compute_signature(
        case.url, _Form(form)
    )


@given(case=webhook_urls(), form=signed_forms())
def test_what_one_signs_over_any_spelling_of_the_url_the_other_accepts(
    case: WebhookUrl, form: list[tuple[str, str]]
) -> None:
    """A signature over the URL, its default port written or not, passes both validators."""
    for signed in (case.url, *case.twins):
        theirs = ORACLE.compute_signature(signed, _Form(form))
        assert is_valid_signature(TOKEN, case.url, form, theirs)
        ours = compute_signature(TOKEN, signed, form)
        assert ORACLE.validate(case.url, _Form(form), ours)


@given(
    case=webhook_urls(),
    form=signed_forms(),
    tamper=st.sampled_from(["value", "extra", "dropped", "url", "token"]),
)
def test_what_twilios_library_refuses_we_refuse(
    case: WebhookUrl, form: list[tuple[str, str]], tamper: str
) -> None:
    """A changed value, an added or dropped field, another path or token: both say no."""
    signature = ORACLE.compute_signature(case.url, _Form(form))
    url, posted, token = case.url, list(form), TOKEN
    # A field whose name and value are both empty adds nothing to what is signed.
    signed = [index for index, (name, value) in enumerate(form) if name or value]
    if tamper == "value" and form:
        posted[0] = (form[0][0], form[0][1] + "x")
    elif tamper == "extra":
        assume(("SomethingNew", "\x00") not in form)
        posted.append(("SomethingNew", "\x00"))
    elif tamper == "dropped" and signed:
        del posted[signed[0]]
    elif tamper == "url":
        url = case.elsewhere
    else:
        token = TOKEN + "x"
    assert not is_valid_signature(token, url, posted, signature)
    assert not RequestValidator(token).validate(url, _Form(posted), signature)
