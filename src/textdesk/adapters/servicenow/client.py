"""A client of a ServiceNow instance's Table and Attachment APIs, on httpx.

Every call has a timeout, is retried on 5xx and 429 (``Retry-After`` honoured)
within a few seconds in all, and goes through a breaker (``resilience``).  A call
that is not idempotent (a create, an upload, a PATCH that appends to a journal) is
sent again only when the instance surely did not carry it out: it was never sent
(the connection failed), or the answer was 429 or 503 (``resilience.NOT_CARRIED_OUT``);
after a timeout or another 5xx its caller looks before it tries again.  Auth is
basic, or OAuth 2's password grant on ``/oauth_token.do`` with its refresh token
(and a new password grant when the refresh token is refused).  Each call's outcome
is counted in ``textdesk_servicenow_requests_total`` and failures are logged.

An instance that cannot be reached, keeps failing or is behind an open breaker
raises :class:`ServiceNowUnavailable`; a refusal that another try would not change
(400, 403, a 404 on a write) raises :class:`ServiceNowError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from textdesk import metrics
from textdesk.adapters.servicenow.resilience import (
    NOT_CARRIED_OUT,
    RETRYABLE_STATUSES,
    Breaker,
    RetryPolicy,
    parse_retry_after,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
# Journal fields: a PATCH that names one appends an entry, so sending it twice adds two.
JOURNAL_FIELDS = frozenset({"comments", "work_notes"})
Row = dict[str, Any]


class _NoToken(httpx.TransportError):
    """No OAuth token could be had: the call itself was never sent."""


# Failures before the request reached the instance: safe to send again, even a create.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, _NoToken)


class ServiceNowError(Exception):
    """The instance refused a call; ``status`` and its error body's message."""

    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(
            f"ServiceNow answered {status}: {message}" + (f" ({detail})" if detail else "")
        )
        self.status = status
        self.message = message
        self.detail = detail


class ServiceNowUnavailable(ServiceNowError):
    """The instance is down, too slow, rate-limiting past our patience, or the breaker
    is open: try again later."""


@dataclass(frozen=True)
class Credentials:
    """The integration user, and the OAuth client when there is one."""

    username: str
    password: str
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass
class _Token:
    access: str
    refresh: str | None
    renew_at: float  # monotonic: a little before it expires


class ServiceNowClient:
    """Calls on one instance.  Use from one event loop; :meth:`aclose` at the end."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        breaker: Breaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._breaker = breaker or Breaker(clock)
        self._sleep = sleep
        self._clock = clock
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._token: _Token | None = None

    @property
    def username(self) -> str:
        """The integration user: who every change on the instance is made by."""
        return self._credentials.username

    def _client(self) -> httpx.AsyncClient:
        # Made at first use, so on the loop that uses it (the server's, not a test's).
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url, timeout=self._timeout, transport=self._transport
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ----------------------------------------------------------------- Table API

    async def rows(
        self,
        table: str,
        *,
        query: str = "",
        fields: Sequence[str] = (),
        limit: int = 100,
        offset: int = 0,
        display_value: str = "all",
    ) -> list[Row]:
        """Rows of ``table`` matching an encoded query, in its order."""
        params = _shape(fields, display_value) | {
            "sysparm_query": query,
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
            "sysparm_no_count": "true",
        }
        body = await self._call("GET", f"/api/now/table/{table}", params=params)
        result = body.get("result") if isinstance(body, dict) else None
        return [row for row in result if isinstance(row, dict)] if isinstance(result, list) else []

    async def get(
        self, table: str, sys_id: str, *, fields: Sequence[str] = (), display_value: str = "all"
    ) -> Row | None:
        """One row, or None when there is none."""
        body = await self._call(
            "GET",
            f"/api/now/table/{table}/{sys_id}",
            params=_shape(fields, display_value),
            missing_ok=True,
        )
        return _result(body)

    async def create(
        self,
        table: str,
        values: Mapping[str, Any],
        *,
        fields: Sequence[str] = (),
        display_value: str = "all",
    ) -> Row:
        body = await self._call(
            "POST",
            f"/api/now/table/{table}",
            params=_shape(fields, display_value),
            json=values,
            idempotent=False,
        )
        row = _result(body)
        if row is None:
            raise ServiceNowError(201, "the created record was not in the answer")
        return row

    async def update(
        self,
        table: str,
        sys_id: str,
        values: Mapping[str, Any],
        *,
        fields: Sequence[str] = (),
        display_value: str = "all",
    ) -> Row | None:
        """The row as changed, or None when there is no such row.

        Setting fields twice leaves them as once, so that is retried like a read; a
        journal entry (``comments``, ``work_notes``) would be added twice, so it is not.
        """
        body = await self._call(
            "PATCH",
            f"/api/now/table/{table}/{sys_id}",
            params=_shape(fields, display_value),
            json=values,
            missing_ok=True,
            idempotent=not JOURNAL_FIELDS & values.keys(),
        )
        return _result(body)

    # ----------------------------------------------------------------- Attachment API

    async def attachments(self, table_sys_id: str) -> list[Row]:
        """The attachments' metadata of one record."""
        body = await self._call(
            "GET", "/api/now/attachment", params={"sysparm_query": f"table_sys_id={table_sys_id}"}
        )
        result = body.get("result") if isinstance(body, dict) else None
        return [row for row in result if isinstance(row, dict)] if isinstance(result, list) else []

    async def attach(
        self, table: str, sys_id: str, *, file_name: str, content_type: str, data: bytes
    ) -> Row:
        """Upload one file to a record (``/attachment/file``: the bytes are the body)."""
        body = await self._call(
            "POST",
            "/api/now/attachment/file",
            params={"table_name": table, "table_sys_id": sys_id, "file_name": file_name},
            content=data,
            content_type=content_type,
            idempotent=False,
        )
        row = _result(body)
        if row is None:
            raise ServiceNowError(201, "the attachment was not in the answer")
        return row

    # ----------------------------------------------------------------- calling

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        missing_ok: bool = False,
        idempotent: bool = True,
    ) -> Any:
        """One call, retried as :class:`RetryPolicy` says; its JSON body (None: 404).

        ``idempotent=False``: sending it twice could do it twice, so it is sent again
        only when the instance surely did not carry it out (module docstring).
        """
        tries, waited = 0, 0.0
        while True:
            if not self._breaker.allow():
                metrics.SERVICENOW_REQUESTS.labels(outcome="breaker_open").inc()
                raise ServiceNowUnavailable(0, "the instance kept failing; not called for a while")
            tries += 1
            try:
                response = await self._send(method, path, params, json, content, content_type)
            except httpx.TransportError as exc:
                timed_out = isinstance(exc, httpx.TimeoutException)
                failure: ServiceNowError = ServiceNowUnavailable(
                    0, f"{'timed out' if timed_out else 'unreachable'}: {exc!r}"
                )
                outcome, retry_after = "timeout" if timed_out else "unreachable", None
                if not idempotent and not isinstance(exc, _NOT_SENT):
                    # The instance may have done it and not told us in time: a second
                    # try could make a second record or comment.  The caller looks
                    # first, then tries again (ServiceNowRecords.create, add_comment).
                    self._breaker.failed()
                    metrics.SERVICENOW_REQUESTS.labels(outcome=outcome).inc()
                    log.warning("ServiceNow %s %s: %s; not sent again", method, path, failure)
                    raise failure from exc
            except ServiceNowError:
                self._breaker.succeeded()  # OAuth refused us: the instance is up
                raise
            else:
                if response.status_code < 400 or (missing_ok and response.status_code == 404):
                    self._breaker.succeeded()
                    metrics.SERVICENOW_REQUESTS.labels(
                        outcome="ok" if response.status_code < 400 else "not_found"
                    ).inc()
                    if response.status_code == 404 or not response.content:
                        return None
                    return response.json()
                failure = _error(response)
                outcome = (
                    "rate_limited"
                    if response.status_code == 429
                    else ("server_error" if response.status_code >= 500 else "refused")
                )
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), datetime.now(UTC)
                )
                if response.status_code not in RETRYABLE_STATUSES:
                    # The instance answered, and meant it: no reason to stop calling it.
                    self._breaker.succeeded()
                    metrics.SERVICENOW_REQUESTS.labels(outcome=outcome).inc()
                    log.warning("ServiceNow refused %s %s: %s", method, path, failure)
                    raise failure
                if not idempotent and response.status_code not in NOT_CARRIED_OUT:
                    # A 500, 502 or 504 may come after the commit, as a timeout may.
                    self._breaker.failed()
                    metrics.SERVICENOW_REQUESTS.labels(outcome=outcome).inc()
                    log.warning("ServiceNow %s %s: %s; not sent again", method, path, failure)
                    raise ServiceNowUnavailable(failure.status, failure.message, failure.detail)
            self._breaker.failed()
            metrics.SERVICENOW_REQUESTS.labels(outcome=outcome).inc()
            wait = self._retry.delay(tries=tries, waited=waited, retry_after=retry_after)
            if wait is None or self._breaker.is_open:
                log.warning(
                    "ServiceNow %s %s failed (try %d), giving up: %s", method, path, tries, failure
                )
                raise ServiceNowUnavailable(failure.status, failure.message, failure.detail)
            log.info(
                "ServiceNow %s %s failed (try %d), again in %.2fs: %s",
                method,
                path,
                tries,
                wait,
                failure,
            )
            await self._sleep(wait)
            waited += wait

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Any,
        content: bytes | None,
        content_type: str | None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await self._authorised(method, path, params, json, content, headers)
        if response.status_code == 401 and self._credentials.oauth:
            # The token expired early or was revoked: refresh it and try once more.
            if self._token is not None:
                self._token.renew_at = 0.0
            response = await self._authorised(method, path, params, json, content, headers)
        return response

    async def _authorised(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json: Any,
        content: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        client = self._client()
        if self._credentials.oauth:
            try:
                token = await self._access_token()
            except httpx.TransportError as exc:
                raise _NoToken(f"no OAuth token: {exc!r}") from exc
            headers = headers | {"Authorization": f"Bearer {token}"}
            auth: httpx.BasicAuth | None = None
        else:
            auth = httpx.BasicAuth(self._credentials.username, self._credentials.password)
        return await client.request(
            method, path, params=params, json=json, content=content, headers=headers, auth=auth
        )

    # ----------------------------------------------------------------- OAuth

    async def _access_token(self) -> str:
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.access
        if token is not None and token.refresh:
            refreshed = await self._grant(
                {"grant_type": "refresh_token", "refresh_token": token.refresh}
            )
            if refreshed is not None:
                return refreshed.access
        granted = await self._grant(
            {
                "grant_type": "password",
                "username": self._credentials.username,
                "password": self._credentials.password,
            }
        )
        if granted is None:
            metrics.SERVICENOW_REQUESTS.labels(outcome="auth_failed").inc()
            raise ServiceNowError(401, "OAuth sign-in refused (client id, secret or password)")
        return granted.access

    async def _grant(self, form: dict[str, str]) -> _Token | None:
        """A token from ``/oauth_token.do``; None when the grant is refused."""
        credentials = self._credentials
        assert credentials.client_id is not None
        assert credentials.client_secret is not None
        form = form | {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        response = await self._client().post("/oauth_token.do", data=form)
        if response.status_code in RETRYABLE_STATUSES:
            raise httpx.TransportError(f"/oauth_token.do answered {response.status_code}")
        if response.status_code != 200:
            log.warning(
                "ServiceNow refused an OAuth %s grant (%d)",
                form["grant_type"],
                response.status_code,
            )
            self._token = None
            return None
        body = response.json()
        lifetime = float(body.get("expires_in", 1800))
        self._token = _Token(
            access=str(body["access_token"]),
            # A refresh grant may answer only an access token: the refresh token it
            # was given still holds.
            refresh=str(body["refresh_token"])
            if body.get("refresh_token")
            else form.get("refresh_token"),
            # Renewed a little early, so a token does not expire mid-call: a minute,
            # or a tenth of a short lifetime (a 60 s token is not renewed at every call).
            renew_at=self._clock() + lifetime - min(60.0, lifetime / 10),
        )
        return self._token


def _shape(fields: Sequence[str], display_value: str) -> dict[str, str]:
    params = {"sysparm_display_value": display_value, "sysparm_exclude_reference_link": "true"}
    if fields:
        params["sysparm_fields"] = ",".join(fields)
    return params


def _result(body: Any) -> Row | None:
    result = body.get("result") if isinstance(body, dict) else None
    return result if isinstance(result, dict) else None


def _error(response: httpx.Response) -> ServiceNowError:
    """ServiceNow's error body (``{"error": {"message", "detail"}}``) as an exception."""
    message, detail = response.reason_phrase or "error", None
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        message = str(error.get("message") or message)
        detail = str(error["detail"]) if error.get("detail") else None
    return ServiceNowError(response.status_code, message, detail)
