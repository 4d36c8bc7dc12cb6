"""Hypothesis strategies for Twilio's webhooks: signed forms of anything at all.

Shared by the webhook tests and ``make faults``.  A form is a list of ``(name,
value)`` pairs, in order, repeats allowed; it is signed by whoever posts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

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


# What a webhook URL's path and query can hold: any character a URL can be written
# with (unicode too), less the delimiters that would end the part and the control
# characters no URL carries (``urlsplit`` drops tabs and newlines outright).  No ";"
# in paths: twilio's library rewrites a path ending in an empty ";params" without it.
_URL_CHARS = st.characters(codec="utf-8", exclude_categories=["Cc"])
_PATH_SEGMENT = st.text(_URL_CHARS.filter(lambda c: c not in "/?#;"), max_size=12)
_QUERY = st.text(_URL_CHARS.filter(lambda c: c != "#"), min_size=1, max_size=40)
_HOST = st.one_of(
    # No IPv6 literal: twilio's library cuts "[::1]:443" at its first colon.
    st.sampled_from(["desk.example.com", "localhost", "127.0.0.1"]),
    st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10),
        min_size=1,
        max_size=3,
    ).map(".".join),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WebhookUrl:
    """A URL Twilio calls, with the spellings of it that sign the same.

    ``twins`` is ``url`` written with its default port added or removed (empty when
    it names another port); ``elsewhere`` is the same URL with another path, which
    no signature for ``url`` may pass for.
    """

    url: str
    twins: tuple[str, ...]
    elsewhere: str


@st.composite
def webhook_urls(draw: st.DrawFn) -> WebhookUrl:
    """http(s) URLs: any host, the default port written or not, another port, any path
    and query (``urlencode``-d pairs or raw text)."""
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(_HOST)
    default = _DEFAULT_PORTS[scheme]
    port = draw(st.one_of(st.none(), st.just(default), st.integers(1, 65535)))
    path = "".join("/" + segment for segment in draw(st.lists(_PATH_SEGMENT, max_size=4)))
    query = draw(
        st.one_of(
            st.just(""),
            st.lists(st.tuples(_TEXT, _TEXT), min_size=1, max_size=4).map(urlencode),
            _QUERY,
        )
    )
    tail = path + (f"?{query}" if query else "")

    def spelled(with_port: int | None, rest: str = tail) -> str:
        return f"{scheme}://{host}{'' if with_port is None else f':{with_port}'}{rest}"

    url = spelled(port)
    twins = (spelled(None if port else default),) if port in (None, default) else ()
    return WebhookUrl(url, twins, spelled(port, "/elsewhere" + tail))


def _distinct(groups: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(pair for group in groups for pair in group))


def signed_forms() -> st.SearchStrategy[list[tuple[str, str]]]:
    """Forms in any order: names repeated with other values (as ``MediaUrl`` may be),
    empty values, any unicode; never the same name and value twice.  Short values:
    what is signed is one string, and its length changes nothing."""
    single = st.tuples(names, st.one_of(st.just(""), _TEXT)).map(lambda pair: [pair])
    repeated = st.tuples(names, st.lists(_TEXT, min_size=2, max_size=4, unique=True)).map(
        lambda t: [(t[0], value) for value in t[1]]
    )
    return st.lists(st.one_of(single, repeated), max_size=8).map(_distinct).flatmap(st.permutations)
