"""The load generator: simulated texters posting Twilio-shaped, signed webhooks.

Each texter sends its texts one after another, waiting for the webhook's answer
before the next (as Twilio delivers one person's texts), and all texters run at
once.  Every request is built and signed before the clock starts, so the
generator spends its time on the wire, not on HMACs and string building.

Two clients are available:

* ``raw`` (default): one keep-alive HTTP/1.1 connection per texter on plain
  asyncio streams, pre-encoded requests, responses read by Content-Length.  On a
  2-core machine shared with the servers this costs several times less CPU per
  request than httpx, so the target gets the cores.
* ``httpx``: ``httpx.AsyncClient`` with a pool of one connection per texter, kept
  for comparison (``--client httpx``).

Usable on its own against any textdesk (it prints a JSON summary)::

    python -m benchmarks.load --url http://127.0.0.1:8000 --token "$TWILIO_AUTH_TOKEN"
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import resource
import secrets
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol
from urllib.parse import urlencode, urlsplit

import httpx

from textdesk.adapters.twilio.signature import compute_signature

NUMBER = "+15550100100"  # the conversational number the benchmark configures
WEBHOOK_PATH = "/twilio/sms"
# Ordinary conversation: nothing that opts out (STOP), asks for a human (agent) or
# ends the chat (bye), any of which would silence the replies we time.
BODIES = ("hi", "1", "Report an issue", "menu", "2", "my laptop will not start", "thanks")
# Twilio gives up on a webhook after 15 s; so do we.
REQUEST_TIMEOUT = 15.0
_USER_AGENT = "TwilioProxy/1.1"

ClientKind = Literal["raw", "httpx"]


def body_for(texter: int, text: int) -> str:
    """What texter number ``texter`` says in its ``text``-th text.

    Texters whose index is equal modulo ``len(BODIES)`` say the same things in the
    same order, so they hold the same conversation: the benchmark learns how many
    replies each text of each of these sequences draws from one texter apiece.
    """
    return BODIES[(texter + text) % len(BODIES)]


def texter_phone(prefix: str, index: int) -> str:
    """The texter's number: ``prefix`` plus four digits (``+1555020`` → ``+15550200042``)."""
    return f"{prefix}{index:04d}"


def webhook_form(
    *, account_sid: str, from_: str, to: str, body: str, sid: str
) -> list[tuple[str, str]]:
    """The fields Twilio posts for an inbound SMS, in Twilio's order."""
    return [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ToCity", ""),
        ("FromZip", ""),
        ("SmsSid", sid),
        ("FromState", "CA"),
        ("SmsStatus", "received"),
        ("FromCity", ""),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", to),
        ("ToZip", ""),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", account_sid),
        ("From", from_),
        ("ApiVersion", "2010-04-01"),
    ]


@dataclass(frozen=True)
class Target:
    """Where to send: the server's base URL (also what the signature covers)."""

    name: str
    url: str
    auth_token: str
    account_sid: str = "AC" + "b" * 32

    @property
    def webhook_url(self) -> str:
        return self.url.rstrip("/") + WEBHOOK_PATH


@dataclass(frozen=True)
class PreparedText:
    headers: dict[str, str]
    body: bytes
    raw: bytes  # the whole HTTP/1.1 request, for the raw client


def prepare(target: Target, from_: str, body: str) -> PreparedText:
    """Build and sign one webhook request."""
    sid = "SM" + secrets.token_hex(16)
    form = webhook_form(account_sid=target.account_sid, from_=from_, to=NUMBER, body=body, sid=sid)
    content = urlencode(form).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": _USER_AGENT,
        "X-Twilio-Signature": compute_signature(target.auth_token, target.webhook_url, form),
    }
    parts = urlsplit(target.webhook_url)
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += [f"Content-Length: {len(content)}", "", ""]
    return PreparedText(headers, content, "\r\n".join(head).encode() + content)


class ProtocolError(Exception):
    """The server answered something the raw client does not read."""


class Sender(Protocol):
    async def send(self, text: PreparedText) -> int: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class RawConnection:
    """One keep-alive HTTP/1.1 connection; enough protocol for our servers' answers.

    Answers must carry Content-Length (Starlette's always do); anything else is a
    :class:`ProtocolError` rather than a guess.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)

    async def exchange(self, request: bytes) -> RawAnswer:
        """Write one whole request, read its answer."""
        if self._writer is None or self._reader is None:
            await self.open()
        assert self._reader is not None
        assert self._writer is not None
        try:
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            headers: list[tuple[bytes, bytes]] = []
            length: int | None = None
            close = False
            for line in head[:-4].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip(), value.strip()
                headers.append((name, value))
                lowered = name.lower()
                if lowered == b"content-length":
                    length = int(value)
                elif lowered == b"connection" and value.lower() == b"close":
                    close = True
                elif lowered == b"transfer-encoding":
                    raise ProtocolError("chunked answers are not supported by the raw client")
            if length is None and (status in (204, 304) or status < 200):
                length = 0  # these never carry a body
            if length is None:
                raise ProtocolError("answer without Content-Length")
            body = await self._reader.readexactly(length) if length else b""
        except BaseException:
            # Whatever went wrong, this stream's state is unknown: start afresh next time.
            await self.close()
            raise
        if close:
            await self.close()
        return RawAnswer(status, headers, body)

    async def send(self, text: PreparedText) -> int:
        return (await self.exchange(text.raw)).status

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class HttpxSender:
    """One texter's view of a shared ``httpx.AsyncClient``."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url

    async def open(self) -> None:
        return None

    async def send(self, text: PreparedText) -> int:
        response = await self._client.post(self._url, content=text.body, headers=text.headers)
        return response.status_code

    async def close(self) -> None:
        return None


@dataclass
class TexterLog:
    """What one texter did: wall-clock send times (for end-to-end matching) and outcomes."""

    phone: str
    sent_at: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    ok: list[bool] = field(default_factory=list)


@dataclass
class LoadResult:
    requests: int
    elapsed: float  # first request written → last answer read
    latencies: list[float]  # seconds, every request
    statuses: Counter[str]
    texters: list[TexterLog]
    started_at: float  # wall clock
    finished_at: float  # wall clock: the last webhook's answer
    client_cpu: float  # seconds of this process's CPU spent during the run

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        return {
            "requests": self.requests,
            "elapsed_s": round(self.elapsed, 4),
            "requests_per_s": round(self.rate, 1),
            "p50_ms": round(percentile(self.latencies, 0.50) * 1000, 2),
            "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 2),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 2),
            "statuses": dict(self.statuses),
            "client_cpu_ms_per_request": round(self.client_cpu / max(self.requests, 1) * 1000, 3),
        }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _senders(
    target: Target, client: ClientKind, texters: int
) -> tuple[httpx.AsyncClient | None, list[RawConnection | HttpxSender]]:
    """One sender per texter (and the shared httpx client, if that is the kind)."""
    if client == "httpx":
        http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=texters, max_keepalive_connections=texters),
            timeout=REQUEST_TIMEOUT,
        )
        return http, [HttpxSender(http, target.webhook_url) for _ in range(texters)]
    senders: list[RawConnection | HttpxSender] = [RawConnection(target.url) for _ in range(texters)]
    # Connect before the clock starts: Twilio's proxies keep connections open too.
    await asyncio.gather(*(s.open() for s in senders))
    return None, senders


async def run_load(
    target: Target,
    *,
    texters: int,
    messages: int,
    phone_prefix: str,
    client: ClientKind = "raw",
    duration: float | None = None,
) -> LoadResult:
    """Send ``texters × messages`` webhooks to ``target``; every texter runs at once.

    With ``duration`` (seconds), a texter sends no new text once that much time
    has passed, so a slow target is measured over about that long instead of
    until every text is through.
    """
    if not 1 <= texters <= 10_000:
        raise ValueError("texters must be between 1 and 10000 (four digits of phone number)")
    logs = [TexterLog(texter_phone(phone_prefix, i)) for i in range(texters)]
    plans = [
        [prepare(target, log.phone, body_for(i, j)) for j in range(messages)]
        for i, log in enumerate(logs)
    ]
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    start = asyncio.Event()
    stop_at: float | None = None
    http, senders = await _senders(target, client, texters)

    async def texter(log: TexterLog, plan: list[PreparedText], sender: Sender) -> None:
        await start.wait()
        for text in plan:
            if stop_at is not None and time.perf_counter() >= stop_at:
                break
            log.sent_at.append(time.time())
            began = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status = str(await sender.send(text))
            except TimeoutError:
                status = "timeout"
            except (OSError, asyncio.IncompleteReadError, ProtocolError, httpx.HTTPError) as exc:
                status = type(exc).__name__
            latency = time.perf_counter() - began
            latencies.append(latency)
            log.latency.append(latency)
            statuses[status] += 1
            log.ok.append(status == "200")

    tasks = [
        asyncio.create_task(texter(log, plan, sender))
        for log, plan, sender in zip(logs, plans, senders, strict=True)
    ]
    await asyncio.sleep(0)  # let every texter reach the start line
    cpu_before = _cpu_seconds()
    started_at = time.time()
    began = time.perf_counter()
    stop_at = None if duration is None else began + duration
    start.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        elapsed = time.perf_counter() - began
        finished_at = time.time()
        client_cpu = _cpu_seconds() - cpu_before
        await asyncio.gather(*(s.close() for s in senders))
        if http is not None:
            await http.aclose()
    return LoadResult(
        requests=len(latencies),
        elapsed=elapsed,
        latencies=latencies,
        statuses=statuses,
        texters=logs,
        started_at=started_at,
        finished_at=finished_at,
        client_cpu=client_cpu,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="base URL of the webhook server")
    parser.add_argument("--token", required=True, help="Twilio auth token to sign with")
    parser.add_argument("--account-sid", default="AC" + "b" * 32)
    parser.add_argument("--texters", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--prefix", default="+1555020", help="texters' numbers start with this")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--duration", type=float, help="stop starting new texts after this (s)")
    args = parser.parse_args(argv)
    target = Target("target", args.url, args.token, args.account_sid)
    result = asyncio.run(
        run_load(
            target,
            texters=args.texters,
            messages=args.messages,
            phone_prefix=args.prefix,
            client=args.client,
            duration=args.duration,
        )
    )
    json.dump(result.summary(), sys.stdout, indent=2)
    print()
    return 0 if result.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
