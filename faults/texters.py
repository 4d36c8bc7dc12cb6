"""Texters, and Twilio's side of the webhook: signed posts, retried as Twilio retries them.

Twilio posts each inbound text once and, with connection overrides on the
webhook URL, retries a failed attempt with the same ``MessageSid``: up to 5
retries (``#rc=5``), on connection failures and 5xx answers (``#rp=ct,5xx``),
all within 15 seconds (``#tt=15000``, its maximum).  That is the most help an
operator can ask of Twilio, so a text the suite counts as acknowledged is one
that a real deployment could have got through; spacing the retries 2.5 s
apart is the suite's choice (Twilio does not document its spacing), long
enough that a restarted process is back before the budget runs out.

A text is *acknowledged* when one attempt was answered 200: from then on
Twilio forgets it, and textdesk alone answers for it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from benchmarks.load import NUMBER, body_for, texter_phone, webhook_form

from textdesk.adapters.twilio.signature import compute_signature

RETRIES = 5
RETRY_PAUSE = 2.5
TOTAL_TIME = 15.0
ATTEMPT_TIMEOUT = 15.0
ACCOUNT_SID = "AC" + "fa" * 16


def new_sid() -> str:
    """A MessageSid as Twilio issues them: ``SM`` and 32 hex digits."""
    return "SM" + secrets.token_hex(16)


@dataclass
class Twilio:
    """Twilio's webhook client for one textdesk: signs, posts, retries, keeps score."""

    base_url: str
    auth_token: str
    account_sid: str = ACCOUNT_SID
    acknowledged: set[str] = field(default_factory=set)
    genuine: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    given_up: int = 0
    _client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Twilio:
        self._client = httpx.AsyncClient(
            timeout=ATTEMPT_TIMEOUT,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def post_once(
        self, path: str, form: Iterable[tuple[str, str]], *, sign_as: Iterable[tuple[str, str]] = ()
    ) -> int | None:
        """One signed POST; its status, or ``None`` if no answer came.

        ``sign_as`` signs other fields than those sent (the splice of two forms
        whose concatenations are equal is exactly such a pair).
        """
        assert self._client is not None, "use `async with Twilio(...)`"
        items = list(form)
        url = self.base_url.rstrip("/") + path
        signed = list(sign_as) or items
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": compute_signature(self.auth_token, url, signed),
        }
        try:
            response = await self._client.post(url, content=urlencode(items), headers=headers)
        except httpx.HTTPError as exc:
            self.statuses[type(exc).__name__] += 1
            return None
        self.statuses[str(response.status_code)] += 1
        if response.status_code >= 500:
            self.server_errors += 1
        return response.status_code

    async def deliver(
        self, form: list[tuple[str, str]], *, path: str = "/twilio/sms"
    ) -> int | None:
        """Post ``form`` as Twilio would, retrying; the last status (``None``: no answer)."""
        sid = dict(form).get("MessageSid", "")
        began = time.monotonic()
        status: int | None = None
        for attempt in range(RETRIES + 1):
            if attempt:
                if time.monotonic() - began + RETRY_PAUSE > TOTAL_TIME:
                    break
                await asyncio.sleep(RETRY_PAUSE)
            status = await self.post_once(path, form)
            if status is not None and status < 500:
                break
        if status == 200 and sid:
            self.acknowledged.add(sid)
        elif status is None or status >= 500:
            self.given_up += 1
        return status

    async def text(self, from_: str, body: str, *, to: str = NUMBER) -> int | None:
        """One texter's text, as a fresh inbound SMS."""
        sid = new_sid()
        self.genuine.add(sid)
        form = webhook_form(account_sid=self.account_sid, from_=from_, to=to, body=body, sid=sid)
        return await self.deliver(form)


async def converse(twilio: Twilio, *, texters: int, texts: int, prefix: str, pause: float) -> None:
    """``texters`` people at once, each sending ``texts`` texts ``pause`` s apart, in order.

    One person's texts go one after another, each after the last was answered,
    as Twilio delivers them.  What they say is the benchmark's ordinary
    conversation (nothing that opts out, asks for a human or ends the chat).
    """

    async def texter(index: int) -> None:
        phone = texter_phone(prefix, index)
        # Spread the texters' starts over one pause, so the load is steady.
        await asyncio.sleep(pause * index / max(texters, 1))
        for j in range(texts):
            await twilio.text(phone, body_for(index, j))
            await asyncio.sleep(pause)

    await asyncio.gather(*(texter(i) for i in range(texters)))
