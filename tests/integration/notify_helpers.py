"""Helpers for the notification tests: a texter's handset, record changes, waiting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.integration.conftest import Desk
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import records
from textdesk.bootstrap import admin_use_cases
from textdesk.domain.records import Record

# Outbox statuses after which nothing more happens on our side.
SETTLED = ("queued", "sent", "delivered", "undelivered", "failed", "canceled")


@dataclass(frozen=True)
class Sent:
    """One outbox row: what we tried to send and what became of it."""

    id: int
    kind: str
    body: str
    status: str
    error_code: int | None
    from_phone: str


async def outbox_to(desk: Desk, phone: str, *, after: int = 0) -> list[Sent]:
    rows = await desk.rows(
        "SELECT id, kind, body, status, error_code, from_phone FROM outbox "
        "WHERE to_phone = :p AND id > :a ORDER BY id",
        p=phone,
        a=after,
    )
    return [Sent(r.id, r.kind, r.body, r.status, r.error_code, r.from_phone) for r in rows]


async def settle(desk: Desk) -> None:
    """Wait until every text, record event and outbox row has been dealt with."""

    async def quiet() -> bool:
        inbox = await desk.scalar("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
        events = await desk.scalar("SELECT count(*) FROM record_events WHERE handled_at IS NULL")
        unsent = await desk.scalar(
            "SELECT count(*) FROM outbox WHERE status IN ('pending', 'claimed')"
        )
        return inbox == 0 and events == 0 and unsent == 0

    await desk.eventually(quiet, what="inbox, record events and outbox to settle")


class Handset:
    """A texter's phone: texts us and reads back what we tried to send in answer."""

    def __init__(self, desk: Desk, phone: str) -> None:
        self.desk = desk
        self.phone = phone

    async def last_id(self) -> int:
        found = await self.desk.scalar(
            "SELECT max(id) FROM outbox WHERE to_phone = :p", p=self.phone
        )
        return int(found or 0)

    async def say(self, body: str) -> list[Sent]:
        """Text ``body``; return the texts we queued in answer, once settled."""
        before = await self.last_id()
        await self.desk.text(body, from_=self.phone)
        await settle(self.desk)
        return await outbox_to(self.desk, self.phone, after=before)

    async def reply_to(self, body: str) -> str:
        """Text ``body``; the one answer's body."""
        answers = await self.say(body)
        assert len(answers) == 1, answers
        return answers[0].body


async def open_record(desk: Desk, *, caller_id: int | None, phone: str) -> Record:
    """An incident for ``caller_id`` (its ``created`` event is not notified)."""
    async with desk.db.begin() as conn:
        return await records.create(
            conn,
            short_description="VPN drops every hour",
            caller_id=caller_id,
            caller_phone=phone,
            now=SystemClock().now(),
        )


async def update_record(desk: Desk, number: str, **fields: Any) -> None:
    """Change a record the way the REST API and agents do (writes record events)."""
    async with desk.db.begin() as conn:
        await records.apply_update(conn, number, fields, SystemClock().now())


@contextlib.asynccontextmanager
async def api_client(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    """The REST API (``/api/v1``) with a fresh token, as another system would use it."""
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client
