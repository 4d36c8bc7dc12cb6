"""Twilio's Messages API over httpx (no SDK client: one call, and a configurable base URL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from textdesk.domain.delivery import LookupFailed, SendResult

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class TwilioRestGateway:
    """Sends texts with ``POST /2010-04-01/Accounts/{sid}/Messages.json``."""

    def __init__(
        self, client: httpx.AsyncClient, *, api_url: str, account_sid: str, auth_token: str
    ) -> None:
        self._client = client
        self._url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._message_url = self._url.removesuffix(".json") + "/{sid}.json"
        self._auth = httpx.BasicAuth(account_sid, auth_token)

    async def send(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        media_urls: Sequence[str],
        status_callback: str | None,
    ) -> SendResult:
        form: list[tuple[str, str]] = [("To", to), ("From", from_)]
        if body:
            form.append(("Body", body))
        form.extend(("MediaUrl", url) for url in media_urls)
        if status_callback:
            form.append(("StatusCallback", status_callback))
        try:
            # urlencode: httpx's ``data=`` takes no repeated names (MediaUrl repeats).
            response = await self._client.post(
                self._url, content=urlencode(form), headers=_FORM, auth=self._auth
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached Twilio: sending again cannot make a second copy.
            return SendResult(http_status=None, error_message=f"not sent: {exc!r}")
        except httpx.TimeoutException:
            # The request may have been taken before the answer was lost.
            return SendResult(http_status=None, error_message="timed out", ambiguous=True)
        except httpx.TransportError as exc:
            # Lost mid-exchange (a reused connection the server had closed, a reset):
            # Twilio may have the message, so it is checked before any resend.
            return SendResult(
                http_status=None, error_message=f"transport error: {exc}", ambiguous=True
            )
        payload: dict[str, Any] = {}
        try:
            parsed = response.json()
            if isinstance(parsed, dict):
                payload = parsed
        except ValueError:
            pass
        if response.is_success:
            return SendResult(
                http_status=response.status_code,
                sid=payload.get("sid"),
                status=payload.get("status"),
            )
        code = payload.get("code")
        return SendResult(
            http_status=response.status_code,
            error_code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
            error_message=str(payload.get("message") or response.reason_phrase),
        )

    async def find_sent(
        self, *, to: str, from_: str, body: str, media_count: int, since: datetime
    ) -> SendResult | None:
        # Not DateSent: a message still queued has no date_sent yet.  Newest first, so
        # one short page covers the few seconds a lapsed claim can be about.
        try:
            response = await self._client.get(
                self._url, params={"To": to, "From": from_, "PageSize": "50"}, auth=self._auth
            )
        except httpx.HTTPError as exc:
            raise LookupFailed(f"transport error: {exc}") from exc
        if not response.is_success:
            raise LookupFailed(f"HTTP {response.status_code}")
        try:
            messages = response.json().get("messages") or []
        except (ValueError, AttributeError) as exc:
            raise LookupFailed("unreadable message list") from exc
        # date_created has whole seconds: allow the second the attempt began in.
        earliest = since - timedelta(seconds=1)
        for message in messages:
            created = message.get("date_created")
            if not created or parsedate_to_datetime(created) < earliest:
                continue
            if (message.get("body") or "") == body and int(message.get("num_media") or 0) == (
                media_count
            ):
                return SendResult(
                    http_status=200, sid=message.get("sid"), status=message.get("status")
                )
        return None

    async def status_of(self, sid: str) -> tuple[str, int | None]:
        """``GET Messages/{sid}.json``: where the message is now (for reconciliation)."""
        try:
            response = await self._client.get(self._message_url.format(sid=sid), auth=self._auth)
        except httpx.HTTPError as exc:
            raise LookupFailed(f"transport error: {exc!r}") from exc
        if not response.is_success:
            raise LookupFailed(f"HTTP {response.status_code}")
        try:
            payload = response.json()
            status = str(payload["status"]).lower()
        except (ValueError, KeyError, TypeError) as exc:
            raise LookupFailed("unreadable message") from exc
        code = payload.get("error_code")
        return status, int(code) if isinstance(code, int | str) and str(code).isdigit() else None
