"""Twilio's webhooks under hostile but signed input: replays, re-split forms, odd values."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest

from tests.integration.conftest import AUTH_TOKEN, TEXTER, Desk
from textdesk.adapters.twilio.sandbox import sign_form
from textdesk.adapters.twilio.signature import is_valid_signature

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def _post(url: str, items: list[tuple[str, str]], signature: str) -> httpx.Response:
    headers = {**FORM, "X-Twilio-Signature": signature}
    async with httpx.AsyncClient() as client:
        return await client.post(url, content=urlencode(items), headers=headers)


def _splice(items: list[tuple[str, str]], name: str, into: str) -> list[tuple[str, str]]:
    """Drop the pair ``name`` and glue it to the value of ``into``: the signature holds."""
    value = dict(items)[name]
    return [(k, v + name + value if k == into else v) for k, v in items if k != name]


async def test_a_replayed_text_re_split_to_a_new_sid_is_refused(desk: Desk) -> None:
    """A genuine signed text whose NumMedia pair is moved into its sid is a 400, not a new text."""
    genuine = await desk.text("hello")
    assert genuine.status_code == 200
    await desk.fake.wait_for_messages(1, to=TEXTER)
    url = f"{desk.url}/twilio/sms"
    items = parse_qsl(genuine.request.content.decode(), keep_blank_values=True)
    signature = genuine.request.headers["X-Twilio-Signature"]
    spliced = _splice(items, "NumMedia", into="MessageSid")
    assert dict(spliced)["MessageSid"].endswith("NumMedia0")
    # The attack works on the signature: Twilio's scheme does not sign where a value ends.
    assert is_valid_signature(AUTH_TOKEN, url, spliced, signature)

    replayed = await _post(url, spliced, signature)

    assert replayed.status_code == 400
    assert "MessageSid" in replayed.text
    assert await desk.scalar("SELECT count(*) FROM inbox") == 1
    assert await desk.scalar("SELECT count(*) FROM outbox") == 1
    assert [m.body for m in desk.fake.messages_to(TEXTER)] == ["echo: hello"]


async def test_a_text_whose_sid_fields_disagree_is_refused(desk: Desk) -> None:
    """MessageSid, SmsMessageSid and SmsSid must name one message, or nothing is stored."""
    form = {
        "MessageSid": "SM" + "1" * 32,
        "SmsMessageSid": "SM" + "1" * 32,
        "SmsSid": "SM" + "2" * 32,
        "From": TEXTER,
        "To": desk.number,
        "Body": "hi",
    }
    url = f"{desk.url}/twilio/sms"
    headers = sign_form(AUTH_TOKEN, url, form)
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, data=form, headers=headers)
    assert answer.status_code == 400
    assert await desk.scalar("SELECT count(*) FROM inbox") == 0


async def test_a_status_callback_re_split_to_a_new_sid_is_refused(desk: Desk) -> None:
    """A genuine callback with its status glued into the sid is a 400 and records nothing."""
    await desk.text("hello")
    sent = (await desk.fake.wait_for_messages(1, to=TEXTER))[0]

    # The stand-in records a callback once our answer to it is back, which can be
    # after the outbox shows it: wait for both.
    async def delivered() -> Any:
        if await desk.scalar("SELECT status FROM outbox") != "delivered":
            return None
        return next(
            (c for c in desk.fake.callbacks if c.params["MessageStatus"] == "delivered"), None
        )

    callback = await desk.eventually(delivered, what="delivered, its callback recorded")
    items = list(callback.params.items())
    signature = sign_form(AUTH_TOKEN, callback.url, items)["X-Twilio-Signature"]
    spliced = _splice(items, "MessageStatus", into="MessageSid")
    assert is_valid_signature(AUTH_TOKEN, callback.url, spliced, signature)
    events = await desk.scalar("SELECT count(*) FROM message_events")

    answer = await _post(callback.url, spliced, signature)

    assert answer.status_code == 400
    assert await desk.scalar("SELECT count(*) FROM message_events") == events
    row = (await desk.rows("SELECT status, twilio_sid FROM outbox"))[0]
    assert (row.status, row.twilio_sid) == ("delivered", sent.sid)


class CountingBody:
    """A body of ``total`` bytes, made as it is sent; counts what the server let in."""

    CHUNK = 64 * 1024

    def __init__(self, head: bytes, total: int) -> None:
        self.head = head
        self.total = total
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        self.sent = len(self.head)
        yield self.head
        while self.sent < self.total:
            chunk = b"x" * min(self.CHUNK, self.total - self.sent)
            self.sent += len(chunk)
            yield chunk


BODIES = {
    # What the attack sent: one file part, which Starlette spooled to disk whole.
    "multipart": (
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n',
    ),
    "urlencoded": ("application/x-www-form-urlencoded", b"MessageSid=SM&Body="),
}


@pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/status"])
@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_huge_body_is_refused_before_it_is_read(
    desk: Desk, path: str, kind: str, declared: bool
) -> None:
    """64 MB of any form get a 413 while most of it is still unsent; nothing is stored."""
    content_type, head = BODIES[kind]
    body = CountingBody(head, 64 * 1024 * 1024)
    headers = {"Content-Type": content_type, "X-Twilio-Signature": "irrelevant"}
    if declared:
        headers["Content-Length"] = str(body.total)

    def post() -> httpx.Response:
        # httpx's blocking client still reads the answer once the server has closed
        # the connection mid-upload; its asyncio twin reports a reset instead.
        with httpx.Client(timeout=30) as client:
            return client.post(f"{desk.url}{path}", content=body, headers=headers)

    answer = await asyncio.to_thread(post)

    assert answer.status_code == 413
    assert answer.headers["connection"] == "close"
    # What the client could write before the refusal: the cap, plus what loopback's
    # socket buffers took (a few MB) before the server closed the connection.
    assert body.sent < body.total // 4
    assert await desk.scalar("SELECT count(*) FROM inbox") == 0
    assert await desk.scalar("SELECT count(*) FROM message_events") == 0


async def test_a_signed_multipart_text_is_still_read(desk: Desk) -> None:
    """Starlette's multipart forms still arrive (from the capped body) and are answered."""
    form = {"MessageSid": "SM" + "5" * 32, "From": TEXTER, "To": desk.number, "Body": "hi"}
    url = f"{desk.url}/twilio/sms"
    parts = {name: (None, value) for name, value in form.items()}
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, files=parts, headers=sign_form(AUTH_TOKEN, url, form))
    assert answer.status_code == 200
    await desk.fake.wait_for_messages(1, to=TEXTER)
    assert await desk.scalar("SELECT body FROM inbox") == "hi"


async def test_a_multipart_charset_that_yields_no_utf8_is_not_a_500(desk: Desk) -> None:
    """A part decoded into a lone surrogate cannot be signed or stored: a 403, not a crash."""
    body = b'--b\r\nContent-Disposition: form-data; name="Body"\r\n\r\n\\ud800\r\n--b--\r\n'
    headers = {
        "Content-Type": "multipart/form-data; boundary=b; charset=unicode_escape",
        "X-Twilio-Signature": "a forged one, checked all the same",
    }
    async with httpx.AsyncClient() as client:
        for path in ("/twilio/sms", "/twilio/status"):
            answer = await client.post(f"{desk.url}{path}", content=body, headers=headers)
            assert answer.status_code == 403


async def _signed_post(desk: Desk, path: str, items: list[tuple[str, str]]) -> httpx.Response:
    url = f"{desk.url}{path}"
    return await _post(url, items, sign_form(AUTH_TOKEN, url, items)["X-Twilio-Signature"])


async def test_a_text_with_a_nul_or_a_long_sender_is_stored_with_its_raw_form(desk: Desk) -> None:
    """NUL in Body is stored replaced and answered; a 40-character From is kept, not answered."""
    nul = [("MessageSid", "SM" + "6" * 32), ("From", TEXTER), ("To", desk.number)]
    nul.append(("Body", "a\x00b"))
    long_from = "+1" + "5" * 38
    odd = [("MessageSid", "SM" + "7" * 32), ("From", long_from), ("To", desk.number)]
    odd.append(("Body", "hi"))

    assert (await _signed_post(desk, "/twilio/sms", nul)).status_code == 200
    assert (await _signed_post(desk, "/twilio/sms", odd)).status_code == 200

    sent = await desk.fake.wait_for_messages(1, to=TEXTER)
    assert sent[0].body == "echo: a\ufffdb"
    rows = await desk.rows("SELECT from_phone, body, raw_form FROM inbox ORDER BY id")
    assert rows[0].body == "a\ufffdb"
    assert parse_qsl(rows[0].raw_form, keep_blank_values=True) == nul
    assert rows[1].from_phone == long_from[:32]
    assert parse_qsl(rows[1].raw_form, keep_blank_values=True) == odd
    assert len(desk.fake.messages) == 1


async def test_odd_status_callbacks_get_clean_answers_and_change_nothing(desk: Desk) -> None:
    """Long, NUL-laden or unknown statuses and unreadable error codes: no 500, state kept."""
    await desk.text("hello")
    sent = (await desk.fake.wait_for_messages(1, to=TEXTER))[0]

    async def delivered() -> bool:
        return bool(await desk.scalar("SELECT status FROM outbox") == "delivered")

    await desk.eventually(delivered, what="delivered")
    events = await desk.scalar("SELECT count(*) FROM message_events")
    sid = sent.sid
    answers = {}
    for label, form in {
        "long sid": [("MessageSid", "SM" + "a" * 80), ("MessageStatus", "sent")],
        "nul sid": [("MessageSid", sid[:-1] + "\x00"), ("MessageStatus", "sent")],
        "long status": [("MessageSid", sid), ("MessageStatus", "x" * 100)],
        "nul status": [("MessageSid", sid), ("MessageStatus", "fail\x00ed")],
        "unknown status": [("MessageSid", sid), ("MessageStatus", "partially_delivered")],
        "huge code": [("MessageSid", sid), ("MessageStatus", "sent"), ("ErrorCode", "2147483648")],
        "superscript code": [("MessageSid", sid), ("MessageStatus", "sent"), ("ErrorCode", "²")],
    }.items():
        answers[label] = (await _signed_post(desk, "/twilio/status", form)).status_code
    assert answers == {
        "long sid": 400,
        "nul sid": 400,
        "long status": 204,
        "nul status": 204,
        "unknown status": 204,
        "huge code": 204,
        "superscript code": 204,
    }
    # The two readable ones ("sent", their codes dropped) are recorded; nothing moved back.
    assert await desk.scalar("SELECT count(*) FROM message_events") == events + 2
    row = (await desk.rows("SELECT status, error_code FROM outbox"))[0]
    assert (row.status, row.error_code) == ("delivered", None)
