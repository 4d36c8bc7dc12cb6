"""Decoding Twilio's urlencoded webhook bodies: textdesk's parser against the alternatives.

Times, per body, in µs of one core: the parser the webhook lane uses
(``textdesk.web.twilio.routes.urlencoded_items``), the hand-written loop it used
before, the standard library's ``parse_qsl`` alone, and Starlette's ``FormParser``
(python-multipart's streaming parser, what ``request.form()`` runs).  The bodies are
what Twilio posts: an inbound text (20 fields, a body with an emoji), an MMS (two
media), a status callback.  Each round times every parser once per body, in turn,
so the machine's drift falls on all of them alike; the median round is shown.

    .venv/bin/python -m benchmarks.form_parsing [--rounds 15] [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable, Sequence
from urllib.parse import parse_qsl, unquote_plus, urlencode

from starlette.datastructures import Headers
from starlette.formparsers import FormParser

from textdesk.web.twilio.routes import urlencoded_items

_SID = "SM" + "a" * 32
_COMMON = [
    ("To", "+15550100100"),
    ("MessagingServiceSid", "MG" + "b" * 32),
    ("AccountSid", "AC" + "c" * 32),
    ("From", "+15551230001"),
    ("ApiVersion", "2010-04-01"),
]
_INBOUND = [
    ("ToCountry", "US"),
    ("ToState", "CA"),
    ("SmsMessageSid", _SID),
    ("NumMedia", "0"),
    ("ToCity", "SAN FRANCISCO"),
    ("FromZip", "94105"),
    ("SmsSid", _SID),
    ("FromState", "CA"),
    ("SmsStatus", "received"),
    ("FromCity", "SAN FRANCISCO"),
    ("Body", "Hi, the printer on the 3rd floor is jammed again 😀 can someone help?"),
    ("FromCountry", "US"),
    ("ToZip", "94105"),
    ("NumSegments", "1"),
    ("MessageSid", _SID),
    *_COMMON,
]
_MEDIA_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC{'c' * 32}/Messages/{_SID}/Media/ME"
_MEDIA = [
    ("MediaContentType0", "image/jpeg"),
    ("MediaUrl0", _MEDIA_URL + "d" * 32),
    ("MediaContentType1", "image/png"),
    ("MediaUrl1", _MEDIA_URL + "e" * 32),
]
_STATUS = [
    ("SmsSid", _SID),
    ("SmsStatus", "delivered"),
    ("MessageStatus", "delivered"),
    ("MessageSid", _SID),
    ("RawDlrDoneDate", "2612010000"),
    *_COMMON,
]
BODIES = {
    "inbound text": urlencode(_INBOUND).encode(),
    "inbound MMS": urlencode([*_INBOUND, *_MEDIA]).encode(),
    "status callback": urlencode(_STATUS).encode(),
}


def hand_written(body: bytes) -> list[tuple[str, str]]:
    """The loop the webhook lane used until 2026-12 (field limit left out)."""
    fields = [f for f in body.split(b"&") if f]
    items: list[tuple[str, str]] = []
    for field in fields:
        name, _, value = field.partition(b"=")
        items.append((unquote_plus(name.decode("latin-1")), unquote_plus(value.decode("latin-1"))))
    return items


def stdlib(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("latin-1"), keep_blank_values=True)


async def starlette(body: bytes) -> list[tuple[str, str]]:
    async def stream() -> AsyncIterator[bytes]:
        yield body

    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    form = await FormParser(headers, stream()).parse()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


def _per_call(parse: Callable[[bytes], object], body: bytes, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        parse(body)
    return (time.perf_counter() - started) / calls * 1e6


async def _per_call_async(body: bytes, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await starlette(body)
    return (time.perf_counter() - started) / calls * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000, help="calls per parser per round")
    args = parser.parse_args(argv)
    sync: dict[str, Callable[[bytes], list[tuple[str, str]]]] = {
        "textdesk (urlencoded_items)": urlencoded_items,
        "hand-written loop (before)": hand_written,
        "parse_qsl": stdlib,
    }
    for label, body in BODIES.items():
        expected = asyncio.run(starlette(body))
        assert all(parse(body) == expected for parse in sync.values()), label
        times: dict[str, list[float]] = {name: [] for name in [*sync, "Starlette FormParser"]}
        for _ in range(args.rounds):
            for name, parse in sync.items():
                times[name].append(_per_call(parse, body, args.calls))
            times["Starlette FormParser"].append(asyncio.run(_per_call_async(body, args.calls)))
        print(f"{label} ({len(body)} bytes), µs per body, median of {args.rounds} rounds:")
        for name, values in times.items():
            print(f"  {name:30} {statistics.median(values):7.1f}   (best {min(values):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
