"""Arbitrary signed forms to Twilio's webhooks: never a 500, and a 200 means stored."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, given, settings

from tests.integration.conftest import AUTH_TOKEN, TEXTER, Desk
from tests.webhook_strategies import inbound_forms, status_forms
from textdesk.adapters.twilio.sandbox import sign_form

# One server per database for all examples; a bounded run, so the suite stays quick.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _signed(client: httpx.Client, url: str, items: list[tuple[str, str]]) -> int:
    headers = sign_form(AUTH_TOKEN, url, items)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return client.post(url, content=urlencode(items), headers=headers).status_code


async def test_no_signed_text_gets_a_500_and_every_200_is_stored(desk: Desk) -> None:
    """Any signed form to /twilio/sms is stored (200) or refused cleanly (4xx)."""
    url = f"{desk.url}/twilio/sms"
    loop = asyncio.get_running_loop()
    query = "SELECT count(*) FROM inbox WHERE message_sid = :s"

    # Hypothesis runs plain functions: the examples run in a thread, and ask the
    # test's event loop (which owns the database engine) to look at the inbox.
    @FUZZ
    @given(form=inbound_forms(desk.number, TEXTER))
    def post(form: list[tuple[str, str]]) -> None:
        with httpx.Client(timeout=30) as client:
            status = _signed(client, url, form)
        assert status in {200, 400, 404}, (status, form)
        if status == 200:
            # The sid is in whichever of its three fields the form has (they agree).
            sid = next(v for k, v in form if k in ("MessageSid", "SmsMessageSid", "SmsSid"))
            stored = asyncio.run_coroutine_threadsafe(desk.scalar(query, s=sid), loop)
            assert stored.result(timeout=30) == 1, form

    await asyncio.to_thread(post)


async def test_no_signed_status_callback_gets_a_500(desk: Desk) -> None:
    """Any signed form to /twilio/status is a 204 or a 400, and a message's status holds."""
    await desk.text("hello")
    sent = (await desk.fake.wait_for_messages(1, to=TEXTER))[0]

    async def delivered() -> bool:
        return bool(await desk.scalar("SELECT status FROM outbox") == "delivered")

    await desk.eventually(delivered, what="delivered")
    url = f"{desk.url}/twilio/status"

    @FUZZ
    @given(form=status_forms(sent.sid) | status_forms())
    def post(form: list[tuple[str, str]]) -> None:
        with httpx.Client(timeout=30) as client:
            status = _signed(client, url, form)
        assert status in {204, 400}, (status, form)

    await asyncio.to_thread(post)
    # Statuses only move forward: nothing a callback says takes "delivered" back.
    assert await desk.scalar("SELECT status FROM outbox") in {"delivered", "read"}
