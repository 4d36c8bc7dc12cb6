"""A ServiceNow stand-in that speaks the Table API, the Attachment API and OAuth over HTTP.

Tests drive it on a loopback port with :meth:`FakeServiceNow.serve`; the same app,
seeded by :func:`~textdesk.adapters.servicenow.demo_data.seed_demo`, is what a
newcomer can run to try textdesk without an instance.  What it emulates, and what
it deliberately does not, is listed on :class:`FakeServiceNow`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from textdesk.adapters.local_server import serve_app
from textdesk.adapters.servicenow import encoded_query
from textdesk.adapters.servicenow.records import DisplayMode, Instance

DEFAULT_USERNAME = "textdesk.integration"
DEFAULT_PASSWORD = "textdesk-sandbox-password"  # noqa: S105 - the stand-in's published default
DEFAULT_CLIENT_ID = "textdesk-sandbox-client"
DEFAULT_CLIENT_SECRET = "textdesk-sandbox-secret"  # noqa: S105 - the stand-in's published default
# A stock instance's lifetimes: 30 minutes for an access token, 100 days for a refresh token.
ACCESS_TOKEN_LIFETIME = 1800
REFRESH_TOKEN_LIFETIME = 8_640_000
_DEFAULT_LIMIT = 10_000  # the Table API's default sysparm_limit
_ATTACHMENT_LIMIT = 1_000  # the Attachment API's
_REQUEST_LOG = 10_000  # a sandbox left running must not grow without bound
_WRITE_ROLES = frozenset({"itil", "admin"})
_READ_ROLES = _WRITE_ROLES | {"snc_read_only"}


def _failure(status: int, message: str, detail: str | None) -> JSONResponse:
    """ServiceNow's error body."""
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return JSONResponse(body, status_code=status)


def _not_authenticated() -> JSONResponse:
    response = _failure(401, "User Not Authenticated", "Required to provide Auth information")
    response.headers["WWW-Authenticate"] = 'BASIC realm="Service-now"'
    return response


def _no_record() -> JSONResponse:
    return _failure(
        404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
    )


def _bad_payload(detail: str) -> JSONResponse:
    return _failure(400, "Exception while reading request", detail)


_ACL_VERBS = {"POST": "Insert", "PUT": "Update", "PATCH": "Update", "DELETE": "Delete"}


def _forbidden(method: str) -> JSONResponse:
    verb = _ACL_VERBS.get(method)
    if verb is None:
        return _failure(403, "User Not Authorized", "Failed API level ACL Validation")
    return _failure(
        403, "Operation Failed", f"ACL Exception {verb} Failed due to security constraints"
    )


@dataclass(frozen=True)
class Account:
    """A user who may call the APIs; reads need itil, admin or snc_read_only, writes
    need itil or admin and not snc_read_only."""

    user_name: str
    password: str
    roles: frozenset[str]

    @property
    def can_read(self) -> bool:
        return bool(self.roles & _READ_ROLES)

    @property
    def can_write(self) -> bool:
        return bool(self.roles & _WRITE_ROLES) and "snc_read_only" not in self.roles


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the stand-in received, and the status it answered (None while open).

    A request refused for its credentials keeps no body: in the sandbox anyone can
    post, and keeping what strangers send would let them fill the process's memory.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: bytes
    status: int | None = None
    user_name: str | None = None

    @property
    def params(self) -> dict[str, str]:
        """The query string as a dict (last value wins)."""
        return dict(self.query)

    def json(self) -> Any:
        """The body, parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment's metadata row and its bytes."""

    metadata: Mapping[str, str]
    data: bytes


@dataclass
class _Fault:
    remaining: int
    status: int | None  # None: answer normally, after the delay
    delay: float = 0.0
    retry_after: int | None = None
    method: str | None = None
    path: str | None = None
    # The request is carried out first; only its answer fails or is late (lost on
    # the way back, as when a node dies or a proxy times out after the commit).
    after: bool = False

    def applies(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return (
            self.path is None or path == self.path or path.startswith(self.path.rstrip("/") + "/")
        )


@dataclass
class _Token:
    user_name: str
    client_id: str
    expires_at: datetime


@dataclass
class _Slot:
    # Appended on arrival and completed when answered, so the log keeps arrival order.
    request: ReceivedRequest


@dataclass
class _State:
    instance: Instance
    files: dict[str, bytes] = field(default_factory=dict)
    requests: deque[_Slot] = field(default_factory=lambda: deque(maxlen=_REQUEST_LOG))
    faults: list[_Fault] = field(default_factory=list)
    access_tokens: dict[str, _Token] = field(default_factory=dict)
    refresh_tokens: dict[str, _Token] = field(default_factory=dict)


Handler = Callable[[Request, Account], Awaitable[Response]]
# Fields of type True/False among those the stand-in knows.
_BOOLEAN_FIELDS = frozenset({"active", "locked_out"})


@dataclass
class Readings:
    """Where the public documentation leaves room, the reading this stand-in takes.

    The defaults are what a stock instance does; each switch is another reading a
    client must survive (an instance set up otherwise, or another stand-in written
    from the same pages).  Tests set them on :attr:`FakeServiceNow.readings`;
    :meth:`FakeServiceNow.reset` puts the defaults back.
    """

    # The query operators understood (None: all of ``encoded_query.OPERATORS``); a
    # condition with another one is an invalid part of the query.
    operators: frozenset[str] | None = None
    # Fields a query cannot filter on, as for a field the table does not have: a
    # condition naming one is an invalid part of the query (dropped, by default).
    unfiltered_fields: frozenset[str] = frozenset()
    # The largest page answered, whatever ``sysparm_limit`` asks.
    max_limit: int | None = None
    # True/False fields as JSON booleans when display values are off, not as text.
    json_booleans: bool = False
    # Whether the refresh_token grant answers a refresh token too (the one it was
    # given); False: "returns only an access token", as the OAuth docs put it.
    refresh_grant_returns_refresh_token: bool = True
    # Whether ``GET /api/now/attachment`` (the list) is served; False: it answers 400,
    # as a path no API serves does (uploads still work).
    attachment_listing: bool = True
    # Tables whose rows the integration user's ACLs hide: a list answers 200 with no
    # rows, as row-level read ACLs filter a list rather than refuse it.
    hidden_tables: frozenset[str] = frozenset()


class FakeServiceNow:
    """An in-process ServiceNow instance for tests and the sandbox.

    Emulated, as ServiceNow's public documentation describes them:

    - Table API on any table (``/api/now/table/{table}`` and ``/api/now/v1|v2/…``):
      list with ``sysparm_query`` (see :mod:`encoded_query`; parts naming unknown
      fields are ignored, as an instance does unless
      ``invalid_query_returns_no_rows``), name-value filters, ``sysparm_fields``
      (dot-walked too), ``sysparm_limit``/``sysparm_offset`` with ``X-Total-Count``
      and ``Link``, ``sysparm_display_value`` and ``sysparm_exclude_reference_link``;
      read, create (201 and ``Location``), PATCH/PUT, DELETE (204).
    - On ``incident``: ``number`` INC0010001 upward, priority from impact and
      urgency, ``active`` and resolved/closed stamps from ``state``, ``opened_by``
      and ``sys_created_by`` from the caller; references and choice labels as
      :mod:`schema` lists; ``comments``/``work_notes`` journals (an empty value,
      the entries newest first as the display value, rows in
      ``sys_journal_field``).
    - Attachment API: upload raw bytes (``/attachment/file``), list, metadata,
      download, delete.
    - Basic auth and OAuth 2 ``/oauth_token.do`` (password and refresh_token
      grants) with expiring Bearer tokens; 401/403/404/400 with ServiceNow's body;
      inactive or locked-out users cannot sign in.
    - Injected faults (:meth:`fail_next`, :meth:`slow_next`) and a log of the
      requests received (:attr:`requests`).
    - Other readings of the documentation, switched on :attr:`readings`
      (:class:`Readings`): fewer query operators or fields to filter on, a capped
      page size, JSON booleans, no attachment list, refresh grants that answer only
      an access token, tables whose rows are hidden from lists.

    Not emulated: ACLs beyond "reads need a role, writes need itil or admin",
    business rules other than incident's, ``sysparm_input_display_value``,
    XML, the multipart ``/attachment/upload``, rate limits as such (inject 429s),
    date-relative query operators (``ONToday``, ``RELATIVE…``), time zones (every
    date is UTC, display values too), and case-insensitive matching (the
    documentation says values are case-sensitive; many real databases are not).

    All recording and injection methods are thread-safe.
    """

    base_url: str

    def __init__(
        self,
        *,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        access_token_lifetime: int = ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: int = REFRESH_TOKEN_LIFETIME,
        invalid_query_returns_no_rows: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = ""
        self.username = username
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.invalid_query_returns_no_rows = invalid_query_returns_no_rows
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._accounts: dict[str, Account] = {}
        self._account_names: dict[str, str] = {}
        self._clients: dict[str, str] = {client_id: client_secret}
        self._state = _State(Instance(self._clock))
        self.readings = Readings()
        self.add_account(username, password, name="Textdesk Integration", roles=("itil",))
        self.app = Starlette(
            routes=self._routes(), exception_handlers={HTTPException: self._http_error}
        )

    def _routes(self) -> list[Route]:
        routes = [Route("/oauth_token.do", self._token, methods=["POST"])]
        for prefix in ("/api/now", "/api/now/v1", "/api/now/v2"):
            table = f"{prefix}/table/{{table}}"
            record = f"{table}/{{sys_id}}"
            attachment = f"{prefix}/attachment"
            routes += [
                Route(table, self._guard(self._list, writes=False), methods=["GET"]),
                Route(table, self._guard(self._create, writes=True), methods=["POST"]),
                Route(record, self._guard(self._read, writes=False), methods=["GET"]),
                Route(record, self._guard(self._update, writes=True), methods=["PATCH", "PUT"]),
                Route(record, self._guard(self._delete, writes=True), methods=["DELETE"]),
                Route(
                    f"{attachment}/file", self._guard(self._upload, writes=True), methods=["POST"]
                ),
                Route(attachment, self._guard(self._attachments, writes=False), methods=["GET"]),
                Route(
                    f"{attachment}/{{sys_id}}",
                    self._guard(self._attachment, writes=False),
                    methods=["GET"],
                ),
                Route(
                    f"{attachment}/{{sys_id}}",
                    self._guard(self._delete_attachment, writes=True),
                    methods=["DELETE"],
                ),
                Route(
                    f"{attachment}/{{sys_id}}/file",
                    self._guard(self._download, writes=False),
                    methods=["GET"],
                ),
            ]
        return routes

    # ----------------------------------------------------------------- accounts

    def add_account(
        self,
        user_name: str,
        password: str,
        *,
        name: str | None = None,
        roles: tuple[str, ...] | frozenset[str] = ("itil",),
    ) -> str:
        """Add an API user (and its ``sys_user`` row); return the row's sys_id."""
        with self._lock:
            self._accounts[user_name] = Account(user_name, password, frozenset(roles))
            self._account_names[user_name] = name or user_name
            return self._account_row(user_name)

    def _account_row(self, user_name: str) -> str:
        instance = self._state.instance
        for row in instance.rows("sys_user"):
            if row["user_name"] == user_name:
                return row["sys_id"]
        values = {"user_name": user_name, "name": self._account_names[user_name]}
        return instance.insert("sys_user", values, "admin")["sys_id"]

    def add_oauth_client(self, client_id: str, client_secret: str) -> None:
        """Register an OAuth client (an "OAuth API endpoint for external clients")."""
        with self._lock:
            self._clients[client_id] = client_secret

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired (refresh tokens stay valid)."""
        past = self._clock() - timedelta(seconds=1)
        with self._lock:
            for token in self._state.access_tokens.values():
                token.expires_at = past

    # ----------------------------------------------------------------- data

    def insert(
        self, table: str, values: Mapping[str, Any], *, user_name: str = "admin"
    ) -> dict[str, str]:
        """Create a row as if through the Table API (business rules included)."""
        with self._lock:
            return self._state.instance.insert(table, values, user_name)

    def update(
        self, table: str, sys_id: str, values: Mapping[str, Any], *, user_name: str = "admin"
    ) -> dict[str, str]:
        """Change a row as if through the Table API; KeyError if there is none."""
        with self._lock:
            row = self._state.instance.update(table, sys_id, values, user_name)
        if row is None:
            raise KeyError(f"{table}/{sys_id}")
        return row

    def record(self, table: str, sys_id: str) -> dict[str, str] | None:
        """One row's stored values, or None."""
        with self._lock:
            return self._state.instance.get(table, sys_id)

    def find(self, table: str, query: str = "") -> list[dict[str, str]]:
        """The rows of ``table`` matching an encoded query, in its order."""
        with self._lock:
            return self._state.instance.select(table, encoded_query.parse(query))

    def journal(self, sys_id: str, element: str = "comments") -> list[dict[str, str]]:
        """A record's journal entries (``sys_journal_field`` rows), newest first."""
        return self.find(
            "sys_journal_field", f"element_id={sys_id}^element={element}^ORDERBYDESCsys_created_on"
        )

    def attachments(self, table_sys_id: str) -> list[StoredAttachment]:
        """The files attached to one record, oldest first."""
        with self._lock:
            rows = self._state.instance.select(
                "sys_attachment", encoded_query.parse(f"table_sys_id={table_sys_id}")
            )
            return [StoredAttachment(row, self._state.files[row["sys_id"]]) for row in rows]

    def reset(self) -> None:
        """Forget every row, file, token, fault and logged request, and go back to the
        default :class:`Readings`; keep the accounts."""
        with self._lock:
            self._state = _State(Instance(self._clock))
            self.readings = Readings()
            for user_name in self._accounts:
                self._account_row(user_name)

    # ----------------------------------------------------------------- injection

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (503, 429…).

        ``path`` matches that path and everything below it; ``retry_after`` adds a
        ``Retry-After`` header (a 429 always has one, 1 second unless told).
        ``after``: carry the request out first, then answer ``status`` instead of its
        result (the record is made, the caller is not told).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._state.faults.append(
                _Fault(
                    times, status, retry_after=retry_after, method=method, path=path, after=after
                )
            )

    def heal(self) -> None:
        """The instance answers again: faults not yet used up are dropped."""
        with self._lock:
            self._state.faults.clear()

    def slow_next(
        self,
        seconds: float,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests normally, ``seconds`` late.

        ``after``: carry the request out at once and only then wait, so a client that
        gives up meanwhile has had its record made all the same.
        """
        with self._lock:
            self._state.faults.append(
                _Fault(times, None, delay=seconds, method=method, path=path, after=after)
            )

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._state.faults:
                if fault.remaining > 0 and fault.applies(method, path):
                    fault.remaining -= 1
                    return fault
        return None

    # ----------------------------------------------------------------- recording

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received (oldest first), with the status answered."""
        with self._lock:
            return [slot.request for slot in self._state.requests]

    def requests_to(self, method: str, path: str) -> list[ReceivedRequest]:
        """The received requests with this method and exact path."""
        return [r for r in self.requests if r.method == method.upper() and r.path == path]

    # ----------------------------------------------------------------- serving

    @contextlib.contextmanager
    def serve(self) -> Iterator[FakeServiceNow]:
        """Serve :attr:`app` on a free loopback port in a thread; set :attr:`base_url`."""
        previous = self.base_url
        with serve_app(self.app) as url:
            self.base_url = url
            try:
                yield self
            finally:
                self.base_url = previous

    # ----------------------------------------------------------------- gate

    def _guard(self, handler: Handler, *, writes: bool) -> Callable[[Request], Awaitable[Response]]:
        """Record the request, apply faults, authenticate and authorise, then handle."""

        async def endpoint(request: Request) -> Response:
            slot = self._log(request)
            response = await self._gate(request, handler, slot, writes=writes)
            with self._lock:
                slot.request = replace(slot.request, status=response.status_code)
            return response

        return endpoint

    def _log(self, request: Request) -> _Slot:
        slot = _Slot(
            ReceivedRequest(
                method=request.method,
                path=request.url.path,
                query=tuple(request.query_params.multi_items()),
                body=b"",
            )
        )
        with self._lock:
            self._state.requests.append(slot)
        return slot

    async def _gate(
        self, request: Request, handler: Handler, slot: _Slot, *, writes: bool
    ) -> Response:
        fault = self._take_fault(request.method, request.url.path)
        if fault is not None and fault.after:
            response = await self._handle(request, handler, slot, writes=writes)
            return await self._faulty(request, fault) or response
        refusal = await self._faulty(request, fault) if fault is not None else None
        if refusal is not None:
            return refusal
        return await self._handle(request, handler, slot, writes=writes)

    async def _handle(
        self, request: Request, handler: Handler, slot: _Slot, *, writes: bool
    ) -> Response:
        account = self._authenticate(request)
        if account is None:
            return _not_authenticated()
        body = await request.body()
        with self._lock:
            slot.request = replace(slot.request, body=body, user_name=account.user_name)
        if not account.can_read or (writes and not account.can_write):
            return _forbidden(request.method)
        return await handler(request, account)

    async def _fault(self, request: Request) -> Response | None:
        fault = self._take_fault(request.method, request.url.path)
        return None if fault is None else await self._faulty(request, fault)

    async def _faulty(self, request: Request, fault: _Fault) -> Response | None:
        """The fault's answer, after its delay; None: answer normally."""
        # Read the body first: watching for a disconnect consumes the request's messages.
        await request.body()
        if fault.delay > 0 and await self._wait(request, fault.delay):
            return Response(status_code=499)  # the client hung up; uvicorn drops this
        if fault.status is None:
            return None
        if fault.status == 429:
            response = _failure(
                429, "Rate limit exceeded", "Rate limit of requests per hour for Table API exceeded"
            )
        elif fault.status >= 500:
            response = _failure(
                fault.status, "Service Unavailable", "The instance is temporarily unavailable"
            )
        else:
            response = _failure(fault.status, "Injected failure", None)
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    async def _wait(self, request: Request, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if the client hung up meanwhile.

        Watching for the disconnect lets the server stop promptly instead of
        sitting out a delay nobody is waiting for.
        """
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if await request.is_disconnected():
                return True
            await asyncio.sleep(min(0.05, remaining))
        return False

    def _authenticate(self, request: Request) -> Account | None:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            if scheme.lower() == "basic":
                account = self._basic(credential.strip())
            elif scheme.lower() == "bearer":
                token = self._state.access_tokens.get(credential.strip())
                live = token is not None and self._clock() < token.expires_at
                account = self._accounts.get(token.user_name) if token and live else None
            else:
                account = None
            return account if account and self._may_sign_in(account.user_name) else None

    def _basic(self, credential: str) -> Account | None:
        try:
            decoded = base64.b64decode(credential, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user_name, _, password = decoded.partition(":")
        account = self._accounts.get(user_name)
        if account is None or not hmac.compare_digest(account.password, password):
            return None
        return account

    def _may_sign_in(self, user_name: str) -> bool:
        for row in self._state.instance.rows("sys_user"):
            if row["user_name"] == user_name:
                return row.get("active") != "false" and row.get("locked_out") != "true"
        return False

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            return _failure(405, "Method not Supported", f"{request.method} is not supported")
        # What an instance answers for a path no API serves.
        return _failure(400, "Requested URI does not represent any resource", None)

    # ----------------------------------------------------------------- OAuth

    async def _token(self, request: Request) -> Response:
        slot = self._log(request)
        response = await self._issue(request, slot)
        with self._lock:
            slot.request = replace(slot.request, status=response.status_code)
        return response

    async def _issue(self, request: Request, slot: _Slot) -> Response:
        refusal = await self._fault(request)
        if refusal is not None:
            return refusal
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return JSONResponse(
                {"error": "invalid_request", "error_description": "form encoding required"},
                status_code=400,
            )
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        client_id = form.get("client_id", "")
        with self._lock:
            secret = self._clients.get(client_id)
            if secret is None or not hmac.compare_digest(secret, form.get("client_secret", "")):
                return self._access_denied()
            grant = form.get("grant_type")
            # Of a token request the log keeps the grant's type, never its secrets.
            body = urlencode({"grant_type": grant or ""}).encode()
            slot.request = replace(slot.request, body=body)
            refresh: str | None  # the refresh token answered, if any
            if grant == "password":
                account = self._accounts.get(form.get("username", ""))
                if account is None or not hmac.compare_digest(
                    account.password, form.get("password", "")
                ):
                    return self._access_denied()
                refresh = secrets.token_urlsafe(64)
                self._state.refresh_tokens[refresh] = _Token(
                    account.user_name,
                    client_id,
                    self._clock() + timedelta(seconds=self.refresh_token_lifetime),
                )
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                held = self._state.refresh_tokens.get(refresh)
                if held is None or held.client_id != client_id or self._clock() >= held.expires_at:
                    return self._access_denied()
                account = self._accounts[held.user_name]
                if not self.readings.refresh_grant_returns_refresh_token:
                    refresh = None
            else:
                return JSONResponse(
                    {"error": "unsupported_grant_type", "error_description": str(grant)},
                    status_code=400,
                )
            if not self._may_sign_in(account.user_name):
                return self._access_denied()
            access = secrets.token_urlsafe(64)
            self._state.access_tokens[access] = _Token(
                account.user_name,
                client_id,
                self._clock() + timedelta(seconds=self.access_token_lifetime),
            )
        answer = {
            "access_token": access,
            "refresh_token": refresh,
            "scope": "useraccount",
            "token_type": "Bearer",
            "expires_in": self.access_token_lifetime,
        }
        return JSONResponse({k: v for k, v in answer.items() if v is not None})

    @staticmethod
    def _access_denied() -> JSONResponse:
        # What /oauth_token.do answers for a wrong client, password or refresh token.
        return JSONResponse(
            {"error_description": "access_denied", "error": "server_error"}, status_code=401
        )

    # ----------------------------------------------------------------- Table API

    @staticmethod
    def _base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def _shape(self, request: Request) -> tuple[list[str] | None, DisplayMode, bool]:
        params = request.query_params
        fields = [f.strip() for f in params.get("sysparm_fields", "").split(",") if f.strip()]
        display = params.get("sysparm_display_value", "false").lower()
        mode: DisplayMode = "true" if display == "true" else "all" if display == "all" else "false"
        links = params.get("sysparm_exclude_reference_link", "false").lower() != "true"
        return fields or None, mode, links

    def _render(self, request: Request, table: str, row: Mapping[str, str]) -> dict[str, Any]:
        fields, display, links = self._shape(request)
        shown = self._state.instance.render(
            table, row, fields=fields, display=display, links=links, base_url=self._base(request)
        )
        if self.readings.json_booleans and display == "false":
            for name in _BOOLEAN_FIELDS & shown.keys():
                if shown[name] in ("true", "false"):
                    shown[name] = shown[name] == "true"
        return shown

    def _query(self, table: str, params: Mapping[str, str]) -> encoded_query.EncodedQuery | None:
        """The request's query with unknown parts dropped; None when it must match nothing."""
        text = params.get("sysparm_query", "")
        # Name-value pairs ("&active=true") filter like "=" conditions.
        pairs = [
            f"{name}={value.replace('^', '^^')}"
            for name, value in params.items()
            if not name.startswith("sysparm_")
        ]
        parsed = encoded_query.parse("^".join(filter(None, [text, *pairs])))
        instance = self._state.instance
        unfiltered = self.readings.unfiltered_fields
        kept = parsed.keep(
            lambda path: path not in unfiltered and instance.known_field(table, path),
            operators=self.readings.operators,
        )
        if self.invalid_query_returns_no_rows and (parsed.unparsed or kept != parsed):
            return None
        return kept

    async def _list(self, request: Request, account: Account) -> Response:
        table = request.path_params["table"]
        params = request.query_params
        offset = _number(params.get("sysparm_offset"), 0)
        limit = _number(params.get("sysparm_limit"), _DEFAULT_LIMIT)
        if self.readings.max_limit is not None:
            limit = min(limit, self.readings.max_limit)
        with self._lock:
            query = self._query(table, params)
            hidden = table in self.readings.hidden_tables
            rows = [] if query is None or hidden else self._state.instance.select(table, query)
            page = [self._render(request, table, row) for row in rows[offset : offset + limit]]
        response = JSONResponse({"result": page})
        if params.get("sysparm_no_count", "false").lower() != "true":
            response.headers["X-Total-Count"] = str(len(rows))
        if params.get("sysparm_suppress_pagination_header", "false").lower() != "true":
            response.headers["Link"] = _links(request, offset, limit, len(rows))
        return response

    async def _read(self, request: Request, account: Account) -> Response:
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        with self._lock:
            row = self._state.instance.get(table, sys_id)
            shown = None if row is None else self._render(request, table, row)
        return _no_record() if shown is None else JSONResponse({"result": shown})

    async def _create(self, request: Request, account: Account) -> Response:
        table = request.path_params["table"]
        values = _payload(await request.body())
        if isinstance(values, Response):
            return values
        with self._lock:
            row = self._state.instance.insert(table, values, account.user_name)
            shown = self._render(request, table, row)
        location = f"{self._base(request)}/api/now/table/{table}/{row['sys_id']}"
        return JSONResponse({"result": shown}, status_code=201, headers={"Location": location})

    async def _update(self, request: Request, account: Account) -> Response:
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        values = _payload(await request.body())
        if isinstance(values, Response):
            return values
        with self._lock:
            row = self._state.instance.update(table, sys_id, values, account.user_name)
            shown = None if row is None else self._render(request, table, row)
        return _no_record() if shown is None else JSONResponse({"result": shown})

    async def _delete(self, request: Request, account: Account) -> Response:
        table, sys_id = request.path_params["table"], request.path_params["sys_id"]
        with self._lock:
            deleted = self._state.instance.delete(table, sys_id)
        return Response(status_code=204) if deleted else _no_record()

    # ----------------------------------------------------------------- Attachment API

    def _attachment_json(self, request: Request, row: Mapping[str, str]) -> dict[str, str]:
        shown = dict(row)
        shown["download_link"] = f"{self._base(request)}/api/now/attachment/{row['sys_id']}/file"
        return shown

    async def _upload(self, request: Request, account: Account) -> Response:
        params = request.query_params
        table, table_sys_id = params.get("table_name", ""), params.get("table_sys_id", "")
        file_name = params.get("file_name", "")
        content_type = request.headers.get("content-type", "")
        if not (table and table_sys_id and file_name and content_type):
            return _failure(
                400,
                "Missing parameters",
                "table_name, table_sys_id, file_name and a Content-Type header are required",
            )
        data = await request.body()
        with self._lock:
            instance = self._state.instance
            if instance.get(table, table_sys_id) is None:
                return _no_record()
            row = instance.insert(
                "sys_attachment",
                {
                    "file_name": file_name,
                    "content_type": content_type,
                    "size_bytes": str(len(data)),
                    "compressed": "false",
                    "table_name": table,
                    "table_sys_id": table_sys_id,
                },
                account.user_name,
            )
            self._state.files[row["sys_id"]] = data
        location = f"{self._base(request)}/api/now/attachment/{row['sys_id']}"
        return JSONResponse(
            {"result": self._attachment_json(request, row)},
            status_code=201,
            headers={"Location": location},
        )

    async def _attachments(self, request: Request, account: Account) -> Response:
        if not self.readings.attachment_listing:
            return _failure(400, "Requested URI does not represent any resource", None)
        params = request.query_params
        offset = _number(params.get("sysparm_offset"), 0)
        limit = _number(params.get("sysparm_limit"), _ATTACHMENT_LIMIT)
        with self._lock:
            query = self._query(
                "sys_attachment", {"sysparm_query": params.get("sysparm_query", "")}
            )
            rows = [] if query is None else self._state.instance.select("sys_attachment", query)
        page = [self._attachment_json(request, row) for row in rows[offset : offset + limit]]
        return JSONResponse({"result": page}, headers={"X-Total-Count": str(len(rows))})

    async def _attachment(self, request: Request, account: Account) -> Response:
        with self._lock:
            row = self._state.instance.get("sys_attachment", request.path_params["sys_id"])
        if row is None:
            return _no_record()
        return JSONResponse({"result": self._attachment_json(request, row)})

    async def _download(self, request: Request, account: Account) -> Response:
        sys_id = request.path_params["sys_id"]
        with self._lock:
            row = self._state.instance.get("sys_attachment", sys_id)
            data = self._state.files.get(sys_id)
        if row is None or data is None:
            return _no_record()
        metadata = json.dumps(self._attachment_json(request, row))
        return Response(
            data, media_type=row["content_type"], headers={"X-Attachment-Metadata": metadata}
        )

    async def _delete_attachment(self, request: Request, account: Account) -> Response:
        sys_id = request.path_params["sys_id"]
        with self._lock:
            deleted = self._state.instance.delete("sys_attachment", sys_id)
            self._state.files.pop(sys_id, None)
        return Response(status_code=204) if deleted else _no_record()


def _number(raw: str | None, default: int) -> int:
    # A missing or malformed paging parameter falls back to the default, as on an instance.
    return int(raw) if raw is not None and raw.isdigit() else default


def _payload(body: bytes) -> dict[str, Any] | Response:
    """The record a write carries, or the 400 an instance answers."""
    try:
        parsed = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return _bad_payload("The payload is not valid JSON.")
    if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
        # "If you give multiple records, only the first record gets worked on."
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        return _bad_payload("The payload is not a JSON object.")
    return parsed


def _links(request: Request, offset: int, limit: int, total: int) -> str:
    """The ``Link`` header: first, prev, next and last pages."""
    base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
    params = dict(request.query_params)

    def page(at: int, rel: str) -> str:
        query = urlencode({**params, "sysparm_offset": str(at), "sysparm_limit": str(limit)})
        return f'<{base}?{query}>;rel="{rel}"'

    last = max(0, (total - 1) // limit * limit) if limit else 0
    parts = [page(0, "first")]
    if offset > 0:
        parts.append(page(max(0, offset - limit), "prev"))
    if limit and offset + limit < total:
        parts.append(page(offset + limit, "next"))
    parts.append(page(last, "last"))
    return ",".join(parts)
