"""Twilio's webhooks under hostile but signed input: replays, re-split forms, odd values."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import httpx

from tests.integration.conftest import AUTH_TOKEN, TEXTER, Desk
from textdesk.adapters.twilio.signature import is_valid_signature
from textdesk.testing import sign_form

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

    async def delivered() -> bool:
        return bool(await desk.scalar("SELECT status FROM outbox") == "delivered")

    await desk.eventually(delivered, what="delivered")
    callback = next(c for c in desk.fake.callbacks if c.params["MessageStatus"] == "delivered")
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
