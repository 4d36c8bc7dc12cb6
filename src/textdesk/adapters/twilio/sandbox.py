"""A Twilio stand-in that speaks Twilio's Messages API over real HTTP.

It serves two masters: the test-suite, which drives it on a loopback port with
:meth:`FakeTwilio.serve`, and the product's sandbox mode, which mounts
:attr:`FakeTwilio.app` under ``/sandbox/twilio`` when no Twilio credentials are
configured.  Every route is therefore relative and every redirect is relative,
so the app behaves the same at ``/`` and under a prefix.

What it emulates, and what it deliberately does not, is listed on
:class:`FakeTwilio`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import logging
import math
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import (
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from textdesk.adapters.local_server import bind_free_port, serve_app, uvicorn_config
from textdesk.adapters.twilio.signature import compute_signature
from textdesk.domain.sms import GSM7_BASIC, GSM7_EXTENSION, is_e164

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
_MAX_BODY = 1600
_MAX_MEDIA = 10
# Twilio's webhook timeout; a stand-in that waited longer would hide slow handlers.
_HTTP_TIMEOUT = 15.0
_USER_AGENT = "TwilioProxy/1.1"

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})

# Carrier-side losses: the message left Twilio ("sent") and then never arrived.
_UNDELIVERED_CODES = frozenset({30003, 30004, 30005, 30006, 30007})

_ERROR_MESSAGES: dict[int, str] = {
    20001: "Unknown error",
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21623: "Number of media files exceeds allowed limit",
    30001: "Queue overflow",
}

_DEFAULT_CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429}


@cache
def _tls() -> ssl.SSLContext:
    # httpx builds a fresh TLS context (~20 ms of CPU) for every client unless given
    # one; a client per message's lifecycle made the stand-in itself the bottleneck.
    return ssl.create_default_context()


def _num_segments(body: str) -> int:
    """How many SMS segments Twilio would bill for ``body`` (at least one)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in body):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in body)
        single, multi = 160, 153
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)


def _new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822(moment: datetime | None) -> str | None:
    return None if moment is None else format_datetime(moment, usegmt=True)


def _error_body(status: int, code: int, message: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message or _ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _twilio_error(status: int, code: int, message: str | None = None) -> JSONResponse:
    return JSONResponse(_error_body(status, code, message), status_code=status)


def _items(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


def sign_form(
    token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]
) -> dict[str, str]:
    """Headers carrying the ``X-Twilio-Signature`` Twilio would send for this form POST."""
    return {"X-Twilio-Signature": compute_signature(token, url, _items(params))}


@dataclass(frozen=True)
class SentMessage:
    """One send the stand-in accepted (answered 201), as it stands now."""

    sid: str
    to: str
    from_: str | None
    body: str
    media_urls: tuple[str, ...]
    status_callback: str | None
    status: str
    created_at: datetime
    num_segments: int
    error_code: int | None = None
    messaging_service_sid: str | None = None


@dataclass(frozen=True)
class SendAttempt:
    """One POST to ``Messages.json``, whatever came of it.

    ``status`` is the HTTP status answered, or ``None`` while the request is still
    being handled, or when the client gave up during an injected hang.  A request
    refused for its credentials keeps nothing of its content (``to`` and ``body``
    are empty; ``size`` is the length it declared): in the sandbox anyone can post,
    and keeping what strangers post would let them fill the process's memory.
    """

    to: str
    body: str
    status: int | None
    code: int | None = None
    size: int | None = None


@dataclass(frozen=True)
class CallbackAttempt:
    """One status callback the stand-in posted; ``status`` is ``None`` if the POST failed."""

    url: str
    params: Mapping[str, str]
    status: int | None


@dataclass
class _AttemptSlot:
    # Appended on arrival and filled in when answered, so attempts keep arrival order
    # even when a hung request is answered after a later one.
    attempt: SendAttempt


@dataclass
class _Stored:
    message: SentMessage
    updated_at: datetime
    sent_at: datetime | None = None


@dataclass
class _Media:
    message_sid: str
    data: bytes
    content_type: str


@dataclass
class _State:
    messages: dict[str, _Stored] = field(default_factory=dict)
    attempts: list[_AttemptSlot] = field(default_factory=list)
    callbacks: list[CallbackAttempt] = field(default_factory=list)
    media: dict[str, _Media] = field(default_factory=dict)
    failures: dict[str, deque[tuple[int, int]]] = field(default_factory=dict)
    hangs: dict[str, deque[float]] = field(default_factory=dict)
    slow_answers: dict[str, deque[float]] = field(default_factory=dict)
    delivery_failures: dict[str, int] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    fetches: list[str] = field(default_factory=list)
    # An outage: every Messages API request answers ``outage_status`` until then (monotonic).
    outage_until: float = -math.inf
    outage_status: int = 500


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


class FakeTwilio:
    """An in-process Twilio Messages API for tests and the sandbox.

    Emulated: creating and fetching messages with basic auth and Twilio's error
    codes, status callbacks signed like Twilio's, inbound media behind auth and a
    redirect (to :attr:`media_cdn_url`, another origin, when set), long-code
    opt-out keywords, and per-number failure injection.

    Not emulated: rate limits and queueing delays (inject 429s instead), the
    STOP/HELP auto-replies Twilio itself sends, and per-sender opt-out scoping
    (an opted-out number is blocked for every sender).

    Set :attr:`callbacks_lost` to stop posting status callbacks (the messages still
    move on, as ``GET Messages/{sid}.json`` shows): the callbacks of a process that
    died.  :meth:`start_outage` makes the whole Messages API fail for a while.

    ``transport`` routes the stand-in's own outgoing requests (callbacks and
    :meth:`send_inbound`); pass an ``httpx.ASGITransport`` to stay in-process.
    All recording and injection methods are thread-safe.
    """

    base_url: str

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        callback_delay: float = 0.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callback_delay = callback_delay
        self.callbacks_lost = False
        self.base_url = ""
        # Real Twilio redirects media to its CDN, another origin; set this to do the same.
        self.media_cdn_url: str | None = None
        self._transport = transport
        self._lock = threading.Lock()
        self._state = _State()
        # Holding references keeps the event loop from collecting running callback tasks.
        self._tasks: set[asyncio.Task[None]] = set()
        prefix = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"
        self.app = Starlette(
            routes=[
                Route(f"{prefix}.json", self._create_message, methods=["POST"]),
                Route(f"{prefix}.json", self._list_messages, methods=["GET"]),
                Route(f"{prefix}/{{message_sid}}.json", self._fetch_message, methods=["GET"]),
                Route(
                    f"{prefix}/{{message_sid}}/Media/{{media_sid}}",
                    self._media_redirect,
                    methods=["GET"],
                ),
                Route(
                    f"{prefix}/{{message_sid}}/Media/{{media_sid}}/Content",
                    self._media_content,
                    methods=["GET"],
                ),
            ],
            exception_handlers={HTTPException: self._http_error},
        )

    def _client(self) -> httpx.AsyncClient:
        """A client for the stand-in's own requests (status callbacks, inbound webhooks)."""
        return httpx.AsyncClient(transport=self._transport, timeout=_HTTP_TIMEOUT, verify=_tls())

    # ----------------------------------------------------------------- injection

    def fail_next(
        self, to: str, status: int = 500, times: int = 1, code: int | None = None
    ) -> None:
        """Answer the next ``times`` sends to ``to`` with HTTP ``status`` and a Twilio error."""
        if code is None:
            code = 20500 if status >= 500 else _DEFAULT_CODE_FOR_STATUS.get(status, 20001)
        with self._lock:
            self._state.failures.setdefault(to, deque()).extend([(status, code)] * times)

    def start_outage(self, seconds: float, status: int = 500) -> None:
        """For ``seconds`` from now, answer every Messages API request (send, list,
        fetch) with HTTP ``status`` and a Twilio error body, as in an outage."""
        with self._lock:
            self._state.outage_until = time.monotonic() + seconds
            self._state.outage_status = status

    def end_outage(self) -> None:
        """End an outage early."""
        with self._lock:
            self._state.outage_until = -math.inf

    def _outage(self) -> tuple[int, int] | None:
        """(HTTP status, Twilio code) while an outage lasts."""
        with self._lock:
            if time.monotonic() >= self._state.outage_until:
                return None
            status = self._state.outage_status
        return status, 20500 if status >= 500 else _DEFAULT_CODE_FOR_STATUS.get(status, 20001)

    def timeout_next(self, to: str, times: int = 1, seconds: float = 30.0) -> None:
        """Make the next ``times`` sends to ``to`` hang ``seconds`` before being handled."""
        with self._lock:
            self._state.hangs.setdefault(to, deque()).extend([seconds] * times)

    def hold_answer_next(self, to: str, times: int = 1, seconds: float = 30.0) -> None:
        """Accept the next ``times`` sends to ``to`` at once but answer ``seconds`` later.

        The client times out although the message exists: the case where a blind
        retry would text the person twice.
        """
        with self._lock:
            self._state.slow_answers.setdefault(to, deque()).extend([seconds] * times)

    def fail_delivery(self, to: str, code: int) -> None:
        """Accept sends to ``to`` but end their delivery with ``code`` (30003…30008)."""
        with self._lock:
            self._state.delivery_failures[to] = code

    def opt_out(self, phone: str) -> None:
        """Block sends to ``phone`` with 21610, as if it had texted STOP."""
        with self._lock:
            self._state.opted_out.add(phone)

    def opt_in(self, phone: str) -> None:
        """Lift an opt-out of ``phone``, as if it had texted START."""
        with self._lock:
            self._state.opted_out.discard(phone)

    def is_opted_out(self, phone: str) -> bool:
        """Whether sends to ``phone`` are currently blocked."""
        with self._lock:
            return phone in self._state.opted_out

    # ----------------------------------------------------------------- recording

    @property
    def messages(self) -> list[SentMessage]:
        """Every accepted send, in arrival order, with its current status."""
        with self._lock:
            return [stored.message for stored in self._state.messages.values()]

    @property
    def attempts(self) -> list[SendAttempt]:
        """Every POST to ``Messages.json``, accepted or not, in arrival order."""
        with self._lock:
            return [slot.attempt for slot in self._state.attempts]

    @property
    def callbacks(self) -> list[CallbackAttempt]:
        """Every status callback posted so far, in posting order."""
        with self._lock:
            return list(self._state.callbacks)

    @property
    def fetches(self) -> list[str]:
        """Every sid asked about with ``GET Messages/{sid}.json``, in order, answered or not."""
        with self._lock:
            return list(self._state.fetches)

    def messages_to(self, phone: str) -> list[SentMessage]:
        """Accepted sends addressed to ``phone``, in arrival order."""
        return [m for m in self.messages if m.to == phone]

    def get_message(self, sid: str) -> SentMessage | None:
        """The accepted send with this sid, or ``None``."""
        with self._lock:
            stored = self._state.messages.get(sid)
            return None if stored is None else stored.message

    def _matching(self, to: str | None) -> list[SentMessage]:
        return self.messages if to is None else self.messages_to(to)

    def _timed_out(self, count: int, to: str | None, timeout: float) -> AssertionError:
        got = self._matching(to)
        target = f" to {to}" if to else ""
        summary = [(m.to, m.body, m.status) for m in got]
        return AssertionError(
            f"expected {count} message(s){target} within {timeout}s, got {len(got)}: {summary}"
        )

    # The timeout parameter mirrors the sync twin, so tests read the same either way.
    async def wait_for_messages(
        self,
        count: int,
        to: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        """Wait until ``count`` messages (to ``to``, if given) were accepted; return them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self._matching(to)
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise self._timed_out(count, to, timeout)
            await asyncio.sleep(0.01)

    def wait_for_messages_sync(
        self, count: int, to: str | None = None, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Blocking twin of :meth:`wait_for_messages`, for code outside an event loop."""
        deadline = time.monotonic() + timeout
        while True:
            got = self._matching(to)
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise self._timed_out(count, to, timeout)
            time.sleep(0.01)

    def clear(self) -> None:
        """Forget recorded messages, attempts and callbacks (injections stay)."""
        with self._lock:
            self._state.messages.clear()
            self._state.attempts.clear()
            self._state.callbacks.clear()
            self._state.fetches.clear()

    def reset(self) -> None:
        """Forget everything: recordings, stored media, injections and opt-outs."""
        with self._lock:
            self._state = _State()
        self.callbacks_lost = False

    # ----------------------------------------------------------------- serving

    @contextlib.contextmanager
    def serve(self) -> Iterator[FakeTwilio]:
        """Serve :attr:`app` on a free loopback port in a thread; set :attr:`base_url`."""
        previous = self.base_url
        with serve_app(self.app) as url:
            self.base_url = url
            try:
                yield self
            finally:
                self.base_url = previous

    @contextlib.asynccontextmanager
    async def aserve(self) -> AsyncIterator[FakeTwilio]:
        """Serve :attr:`app` on a free loopback port inside the running event loop."""
        sock = bind_free_port()
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(self.app))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the Twilio stand-in stopped during startup")
                await asyncio.sleep(0.01)
            previous = self.base_url
            self.base_url = f"http://127.0.0.1:{port}"
            try:
                yield self
            finally:
                self.base_url = previous
        finally:
            server.should_exit = True
            await task
            sock.close()

    # ----------------------------------------------------------------- inbound side

    def _apply_keywords(self, phone: str, body: str) -> None:
        word = body.strip().upper()
        with self._lock:
            if word in OPT_OUT_WORDS:
                self._state.opted_out.add(phone)
            elif word in OPT_IN_WORDS:
                # "YES" answers ordinary questions too; it only opts in an opted-out
                # number, which set.discard already gives us.
                self._state.opted_out.discard(phone)

    def _media_url(self, message_sid: str, media_sid: str) -> str:
        return (
            f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}"
            f"/Messages/{message_sid}/Media/{media_sid}"
        )

    async def send_inbound(
        self,
        *,
        webhook_url: str,
        from_: str,
        to: str,
        body: str = "",
        media: Sequence[tuple[bytes, str]] = (),
        message_sid: str | None = None,
        extra: Mapping[str, str] | None = None,
        signature_url: str | None = None,
    ) -> httpx.Response:
        """POST a texter's message to ``webhook_url`` exactly as Twilio would, signed.

        Each ``(bytes, content_type)`` in ``media`` is stored and announced as a
        ``MediaUrl{N}`` pointing back at this stand-in.  ``extra`` adds or overrides
        form fields; ``signature_url`` is the URL to sign over when the webhook is
        reached through a proxy.
        """
        if len(media) > _MAX_MEDIA:
            raise ValueError(f"Twilio delivers at most {_MAX_MEDIA} media items, got {len(media)}")
        if media and not self.base_url:
            raise RuntimeError("base_url is unset: serve() the stand-in or assign base_url")
        self._apply_keywords(from_, body)
        # Twilio names inbound MMS "MM…" and plain texts "SM…".
        sid = message_sid or _new_sid("MM" if media else "SM")
        params: dict[str, str] = {
            "ToCountry": "US",
            "ToState": "",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US",
            "To": to,
            "ToZip": "",
            "NumSegments": str(_num_segments(body)),
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": API_VERSION,
        }
        for index, (data, content_type) in enumerate(media):
            media_sid = _new_sid("ME")
            with self._lock:
                self._state.media[media_sid] = _Media(sid, bytes(data), content_type)
            params[f"MediaContentType{index}"] = content_type
            params[f"MediaUrl{index}"] = self._media_url(sid, media_sid)
        if extra:
            params.update(extra)
        return await self.post_signed(webhook_url, params, signature_url=signature_url)

    async def post_signed(
        self,
        url: str,
        params: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        signature_url: str | None = None,
    ) -> httpx.Response:
        """POST ``params`` form-encoded to ``url``, signed over ``signature_url or url``."""
        items = _items(params)
        headers = sign_form(self.auth_token, signature_url or url, items)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["User-Agent"] = _USER_AGENT
        async with self._client() as client:
            return await client.post(url, content=urlencode(items), headers=headers)

    # ----------------------------------------------------------------- routes

    def _authorized(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return hmac.compare_digest(user, self.account_sid) & hmac.compare_digest(
            password, self.auth_token
        )

    def _refuse(self, request: Request) -> JSONResponse | None:
        """The 401 or 404 answer a request deserves before its content matters."""
        if not self._authorized(request):
            response = _twilio_error(401, 20003)
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if request.path_params["account_sid"] != self.account_sid:
            return _twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return None

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = 20404 if status == 404 else 20001 if status < 500 else 20500
        return _twilio_error(status, code, f"{request.method} {request.url.path}: HTTP {status}")

    def _answer(self, slot: _AttemptSlot, status: int, code: int | None) -> None:
        with self._lock:
            slot.attempt = replace(slot.attempt, status=status, code=code)

    def _reject(
        self, slot: _AttemptSlot, status: int, code: int, message: str | None = None
    ) -> JSONResponse:
        self._answer(slot, status, code)
        return _twilio_error(status, code, message)

    async def _hang(self, request: Request, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if the client hung up meanwhile.

        Watching for the disconnect lets a server shutdown finish promptly
        instead of waiting out a 30 s hang nobody listens to any more.
        """
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if await request.is_disconnected():
                return True
            await asyncio.sleep(min(0.05, remaining))
        return False

    def _record_refusal(self, request: Request, status: int) -> None:
        declared = request.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else None
        code = 20003 if status == 401 else 20404
        with self._lock:
            self._state.attempts.append(_AttemptSlot(SendAttempt("", "", status, code, size)))

    async def _create_message(self, request: Request) -> Response:
        # Refused before the body is read: a stranger's post costs neither parsing
        # nor memory, and only its answer is recorded.
        refusal = self._refuse(request)
        if refusal is not None:
            self._record_refusal(request, refusal.status_code)
            return refusal
        size = len(await request.body())
        form = await request.form()
        to, body = _field(form, "To"), _field(form, "Body")
        slot = _AttemptSlot(SendAttempt(to, body, None, size=size))
        with self._lock:
            self._state.attempts.append(slot)
        outage = self._outage()
        if outage is not None:
            return self._reject(slot, *outage)
        from_ = _field(form, "From") or None
        service_sid = _field(form, "MessagingServiceSid") or None
        media_urls = tuple(u for u in form.getlist("MediaUrl") if isinstance(u, str) and u)
        callback = _field(form, "StatusCallback") or None

        with self._lock:
            hangs = self._state.hangs.get(to)
            hang = hangs.popleft() if hangs else None
        if hang is not None and await self._hang(request, hang):
            return Response(status_code=499)  # nobody is listening; uvicorn drops it

        with self._lock:
            failures = self._state.failures.get(to)
            injected = failures.popleft() if failures else None
            opted_out = to in self._state.opted_out
            delivery_code = self._state.delivery_failures.get(to)
        if injected is not None:
            return self._reject(slot, *injected)

        if not to:
            return self._reject(slot, 400, 21604)
        if not is_e164(to):
            detail = f"The 'To' number {to} is not a valid phone number."
            return self._reject(slot, 400, 21211, detail)
        if from_ is None and service_sid is None:
            return self._reject(slot, 400, 21603)
        if not body and not media_urls:
            return self._reject(slot, 400, 21602)
        if len(body) > _MAX_BODY:
            return self._reject(slot, 400, 21617)
        if len(media_urls) > _MAX_MEDIA:
            return self._reject(slot, 400, 21623)
        if opted_out:
            return self._reject(slot, 400, 21610)

        now = datetime.now(UTC)
        # Through a Messaging Service Twilio answers "accepted" and picks the sender later.
        via_service = from_ is None
        message = SentMessage(
            sid=_new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            media_urls=media_urls,
            status_callback=callback,
            status="accepted" if via_service else "queued",
            created_at=now,
            num_segments=_num_segments(body),
            messaging_service_sid=service_sid,
        )
        stored = _Stored(message, updated_at=now)
        with self._lock:
            state = self._state
            state.messages[message.sid] = stored
            slot.attempt = replace(slot.attempt, status=201)
            payload = self._message_json(stored)
        if via_service:
            payload["num_segments"] = "0"
        with self._lock:
            slow = self._state.slow_answers.get(to)
            hold = slow.popleft() if slow else None
        if hold is not None:
            await self._hang(request, hold)
        # Starting the lifecycle only after the 201 is written means a callback can
        # never overtake the response that tells the client the sid.
        steps = _lifecycle(delivery_code, via_service=via_service)
        return JSONResponse(
            payload,
            status_code=201,
            background=BackgroundTask(self._start_lifecycle, state, message.sid, steps),
        )

    async def _fetch_message(self, request: Request) -> Response:
        refusal = self._refuse(request)
        if refusal is not None:
            return refusal
        with self._lock:
            self._state.fetches.append(request.path_params["message_sid"])
        outage = self._outage()
        if outage is not None:
            return _twilio_error(*outage)
        with self._lock:
            stored = self._state.messages.get(request.path_params["message_sid"])
            payload = None if stored is None else self._message_json(stored)
        if payload is None:
            return _twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return JSONResponse(payload)

    async def _list_messages(self, request: Request) -> Response:
        """``GET Messages.json``: newest first, filtered by To and From."""
        refusal = self._refuse(request)
        if refusal is not None:
            return refusal
        outage = self._outage()
        if outage is not None:
            return _twilio_error(*outage)
        query = request.query_params
        to, from_ = query.get("To"), query.get("From")
        size = min(int(query.get("PageSize", "50") or 50), 1000)
        with self._lock:
            chosen = [
                self._message_json(stored)
                for stored in reversed(list(self._state.messages.values()))
                if (to is None or stored.message.to == to)
                and (from_ is None or stored.message.from_ == from_)
            ][:size]
        return JSONResponse({"messages": chosen, "page": 0, "page_size": size})

    def _find_media(self, request: Request) -> _Media | None:
        with self._lock:
            media = self._state.media.get(request.path_params["media_sid"])
        if media is None or media.message_sid != request.path_params["message_sid"]:
            return None
        return media

    async def _media_redirect(self, request: Request) -> Response:
        refusal = self._refuse(request)
        if refusal is not None:
            return refusal
        if self._find_media(request) is None:
            return _twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        media_sid = request.path_params["media_sid"]
        if self.media_cdn_url:
            # Like Twilio's presigned CDN URL: no credentials needed there.
            return RedirectResponse(f"{self.media_cdn_url}/{media_sid}", status_code=307)
        # Relative, so the redirect survives a mount prefix and a reverse proxy.
        return RedirectResponse(f"{media_sid}/Content", status_code=307)

    async def _media_content(self, request: Request) -> Response:
        refusal = self._refuse(request)
        if refusal is not None:
            return refusal
        media = self._find_media(request)
        if media is None:
            return _twilio_error(
                404, 20404, f"The requested resource {request.url.path} was not found"
            )
        return Response(media.data, media_type=media.content_type)

    def _message_json(self, stored: _Stored) -> dict[str, Any]:
        m = stored.message
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{m.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": m.body,
            "date_created": _rfc2822(m.created_at),
            "date_sent": _rfc2822(stored.sent_at),
            "date_updated": _rfc2822(stored.updated_at),
            "direction": "outbound-api",
            "error_code": m.error_code,
            "error_message": None if m.error_code is None else _ERROR_MESSAGES.get(m.error_code),
            "from": m.from_,
            "messaging_service_sid": m.messaging_service_sid,
            "num_media": str(len(m.media_urls)),
            "num_segments": str(m.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": m.sid,
            "status": m.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": m.to,
            "uri": f"{uri}.json",
        }

    # ----------------------------------------------------------------- lifecycle

    # The lifecycle works on the state it was born in, so a reset() between tests
    # cannot receive stray statuses or callbacks from the previous test's messages.
    async def _start_lifecycle(
        self, state: _State, sid: str, steps: list[tuple[str, int | None]]
    ) -> None:
        # A detached task, so a slow callback_delay never holds the HTTP cycle open.
        task = asyncio.get_running_loop().create_task(self._run_lifecycle(state, sid, steps))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_lifecycle(
        self, state: _State, sid: str, steps: list[tuple[str, int | None]]
    ) -> None:
        async with self._client() as client:
            for status, code in steps:
                if self.callback_delay > 0:
                    await asyncio.sleep(self.callback_delay)
                message = self._advance(state, sid, status, code)
                if message is None:  # cleared meanwhile
                    return
                if message.status_callback and not self.callbacks_lost:
                    await self._post_callback(state, client, message)

    def _advance(
        self, state: _State, sid: str, status: str, code: int | None
    ) -> SentMessage | None:
        now = datetime.now(UTC)
        with self._lock:
            stored = state.messages.get(sid)
            if stored is None:
                return None
            stored.message = replace(stored.message, status=status, error_code=code)
            stored.updated_at = now
            if status == "sent":
                stored.sent_at = now
            return stored.message

    async def _post_callback(
        self, state: _State, client: httpx.AsyncClient, message: SentMessage
    ) -> None:
        assert message.status_callback is not None
        url = message.status_callback
        params: dict[str, str] = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": message.status,
            "SmsStatus": message.status,
            "AccountSid": self.account_sid,
            "To": message.to,
            "ApiVersion": API_VERSION,
        }
        if message.from_ is not None:
            params["From"] = message.from_
        if message.messaging_service_sid is not None:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
        headers = sign_form(self.auth_token, url, params)
        headers["User-Agent"] = _USER_AGENT
        answered: int | None = None
        try:
            response = await client.post(url, data=params, headers=headers)
            answered = response.status_code
            if response.is_error:
                log.warning("status callback %s for %s answered %s", url, message.sid, answered)
        except httpx.HTTPError as exc:
            # Twilio does not retry status callbacks either; the product must cope.
            log.warning("status callback %s for %s failed: %r", url, message.sid, exc)
        with self._lock:
            state.callbacks.append(CallbackAttempt(url, params, answered))


def _lifecycle(delivery_code: int | None, *, via_service: bool) -> list[tuple[str, int | None]]:
    """The statuses a message goes through after creation, each with a callback.

    Twilio posts no callback for a message's initial status ("queued", or
    "accepted" through a Messaging Service, which then moves on to "queued").
    """
    first: list[tuple[str, int | None]] = [("queued", None)] if via_service else []
    if delivery_code is None:
        return [*first, ("sent", None), ("delivered", None)]
    if delivery_code in _UNDELIVERED_CODES:
        return [*first, ("sent", None), ("undelivered", delivery_code)]
    # "failed" means Twilio never handed the message to a carrier.
    return [*first, ("failed", delivery_code)]
