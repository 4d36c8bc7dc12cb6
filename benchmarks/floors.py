"""The floors textdesk is measured against: the least an honest webhook can do.

* **Floor A** (:func:`floor_a`): a bare Starlette app that parses the form,
  checks ``X-Twilio-Signature`` with textdesk's own validator and answers empty
  TwiML.  Nothing is stored: the ceiling for any Python webhook on this stack.
* **Floor C** (:func:`floor_c`): floor A plus one durable SQLite insert per
  request, committed before the answer: a fresh file in WAL mode with
  ``synchronous=FULL`` (what textdesk uses), ``INSERT OR IGNORE`` on a unique
  MessageSid (the dedupe Twilio's retries require), all form fields kept as JSON.

Floor C writes through the standard library's ``sqlite3`` on one dedicated
thread, one ``run_in_executor`` hop per request, the INSERT in autocommit mode
so the statement is its own transaction and its commit fsyncs the WAL before we
answer.  That is the cheapest honest path: aiosqlite costs two thread hops
(execute, then commit) plus its own queue, an ORM costs more again, and a single
thread matches SQLite's single writer (more threads would only contend on the
write lock).  sqlite3 releases the GIL while it steps and syncs, so the event
loop keeps parsing other requests during the fsync.  There is deliberately no
group commit here: "one commit per request" is the baseline textdesk's group
commit should beat on the disk it runs on.

Run as ``uvicorn benchmarks.floors:floor_a --factory`` (or ``floor_c``) with
``BENCH_PUBLIC_URL`` (the URL the load generator signs over), ``BENCH_AUTH_TOKEN``
and, for floor C, ``BENCH_FLOOR_DB`` (the SQLite file to create).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from textdesk.adapters.twilio.signature import is_valid_signature

# The same bytes textdesk answers, so response sizes match.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WEBHOOK_PATH = "/twilio/sms"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY,
    message_sid TEXT NOT NULL UNIQUE,
    from_phone TEXT NOT NULL,
    to_phone TEXT NOT NULL,
    body TEXT NOT NULL,
    params TEXT NOT NULL,
    received_at REAL NOT NULL
)
"""
_INSERT = (
    "INSERT OR IGNORE INTO inbox (message_sid, from_phone, to_phone, body, params, received_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _signed_items(request: Request, url: str, token: str) -> list[tuple[str, str]] | None:
    """The form's fields when the signature checks out, as textdesk's webhook does it."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    if not is_valid_signature(token, url, items, request.headers.get("x-twilio-signature")):
        return None
    return items


def _settings() -> tuple[str, str]:
    url = os.environ["BENCH_PUBLIC_URL"].rstrip("/") + WEBHOOK_PATH
    return url, os.environ["BENCH_AUTH_TOKEN"]


def floor_a() -> Starlette:
    """Parse, check the signature, answer empty TwiML."""
    url, token = _settings()

    async def webhook(request: Request) -> Response:
        if await _signed_items(request, url, token) is None:
            return PlainTextResponse("invalid X-Twilio-Signature", status_code=403)
        return Response(EMPTY_TWIML, media_type="text/xml")

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, webhook, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ]
    )


class _DurableInbox:
    """One SQLite connection used only from one thread: each insert commits and syncs."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-c-sqlite")
        self._conn: sqlite3.Connection | None = None

    def _open(self) -> None:
        # isolation_level=None: autocommit, so every INSERT is a transaction of its own.
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute(_SCHEMA)
        self._conn = conn

    def _insert(self, row: tuple[str, str, str, str, str, float]) -> None:
        assert self._conn is not None
        self._conn.execute(_INSERT, row)

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open)

    async def insert(self, row: tuple[str, str, str, str, str, float]) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._insert, row)

    async def close(self) -> None:
        if self._conn is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)


def floor_c() -> Starlette:
    """Floor A plus one durable SQLite insert, committed before the answer."""
    url, token = _settings()
    store = _DurableInbox(os.environ["BENCH_FLOOR_DB"])

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await store.close()

    async def webhook(request: Request) -> Response:
        items = await _signed_items(request, url, token)
        if items is None:
            return PlainTextResponse("invalid X-Twilio-Signature", status_code=403)
        params = dict(items)
        sid = params.get("MessageSid", "")
        if not sid:
            return PlainTextResponse("MessageSid is required", status_code=400)
        await store.insert(
            (
                sid,
                params.get("From", ""),
                params.get("To", ""),
                params.get("Body", ""),
                json.dumps(params),
                time.time(),
            )
        )
        return Response(EMPTY_TWIML, media_type="text/xml")

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, webhook, methods=["POST"]),
            Route("/healthz", _healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
