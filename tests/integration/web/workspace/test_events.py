"""A browser that leaves the live-updates stream mid-check leaves the database usable."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.integration.conftest import desk_settings
from tests.integration.workspace_helpers import new_agent
from textdesk.adapters.db import workspace_views as workspace_views_sql
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import build
from textdesk.ports import WorkspaceEvent
from textdesk.web.workspace import events

# About a second of work for the database, so the browser can leave in the middle of it.
SLOW = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) "
    "SELECT count(*) FROM c"
)


async def test_leaving_while_an_event_is_checked_does_not_lock_the_database(
    database_url: str, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build(desk_settings("http://127.0.0.1:9", database_url, fake_twilio))
    agent_id = await new_agent(container.db, "Dana Agent")
    checking = asyncio.Event()

    async def slow_visibility(conn: AsyncConnection, *args: Any) -> list[int]:
        checking.set()
        await conn.execute(text(SLOW))  # the browser leaves during this statement
        return []

    # The read model's query, as the stream's check runs it on its reading connection.
    monkeypatch.setattr(workspace_views_sql, "visible_among", slow_visibility)
    stream = events._stream(container, agent_id, asyncio.Event())
    other = create_engine(database_url)
    try:
        assert "connected" in await anext(stream)
        reading = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.05)  # subscribed and waiting
        container.bus.publish_nowait(WorkspaceEvent("conversation", 1))
        await asyncio.wait_for(checking.wait(), 5)
        await asyncio.sleep(0.1)
        reading.cancel()  # what Starlette does when the browser disconnects
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        # Anyone else can write again within moments (SQLite: BEGIN IMMEDIATE).
        async with asyncio.timeout(5), other.begin() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await stream.aclose()
        await other.dispose()
        await container.db.dispose()
