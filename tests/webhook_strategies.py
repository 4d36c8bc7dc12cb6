"""Hypothesis strategies for Twilio's webhooks: signed forms of anything at all.

Shared by the webhook tests and ``make faults``.  A form is a list of ``(name,
value)`` pairs, in order, repeats allowed; it is signed by whoever posts it.
"""

from __future__ import annotations

from hypothesis import strategies as st

# Any character a URL-encoded form can carry and UTF-8 can encode (no surrogates).
_CHARS = st.characters(codec="utf-8")
_NASTY = st.sampled_from(["\x00", "😀", "²", "\ufffd", "%00", "&", "=", "+", " ", "\n"])
_TEXT = st.lists(st.one_of(_CHARS, _NASTY), max_size=40).map("".join)
# Now and then far longer than any column (still well under the 256 KB body cap).
_LONG = st.builds(lambda piece, times: piece * times, _TEXT, st.integers(1, 2000))
values = st.one_of(_TEXT, _TEXT, _LONG)

_TWILIO_NAMES = [
    "MessageSid",
    "SmsMessageSid",
    "SmsSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
    "MediaUrl0",
    "MediaContentType0",
    "MediaUrl1",
]
names = st.one_of(st.sampled_from(_TWILIO_NAMES), _TEXT)
sids = st.builds(
    lambda kind, hex_: kind + hex_, st.sampled_from(["SM", "MM"]), st.uuids().map(lambda u: u.hex)
)
numbers = st.one_of(
    st.integers(0, 20).map(str), st.sampled_from(["", "-1", "1e3", "²", "٣"]), _TEXT
)
_STATUSES = ["queued", "sent", "delivered", "undelivered", "failed", "read", "partially_delivered"]


def _with(
    base: list[tuple[str, str]], extra: list[tuple[str, str]], dropped: set[int]
) -> list[tuple[str, str]]:
    kept = [pair for index, pair in enumerate(base) if index not in dropped]
    return kept + extra


def inbound_forms(number: str, texter: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Texts to ``number``: mostly Twilio's shape, any field odd, extra or missing."""
    sender = st.one_of(st.just(texter), values, st.sampled_from(["MyBrand", "+1" + "5" * 40]))
    base = st.tuples(sids, sender, values, st.one_of(st.just("0"), numbers)).map(
        lambda t: [
            ("MessageSid", t[0]),
            ("SmsSid", t[0]),
            ("From", t[1]),
            ("To", number),
            ("Body", t[2]),
            ("NumMedia", t[3]),
        ]
    )
    extra = st.lists(st.tuples(names, values), max_size=8)
    return st.builds(_with, base, extra, st.sets(st.integers(0, 5), max_size=2))


def status_forms(sid: str | None = None) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Status callbacks: for ``sid`` (else a new one), any status, code and extra field."""
    base = st.tuples(
        st.just(sid) if sid else sids,
        st.one_of(st.sampled_from(_STATUSES), values),
        numbers,
    ).map(
        lambda t: [
            ("MessageSid", t[0]),
            ("SmsSid", t[0]),
            ("MessageStatus", t[1]),
            ("ErrorCode", t[2]),
        ]
    )
    extra = st.lists(st.tuples(names, values), max_size=6)
    return st.builds(_with, base, extra, st.sets(st.integers(0, 3), max_size=1))
