"""The desk's timezone (TEXTDESK_TIMEZONE): what texters and agents read on each page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, new_agent
from textdesk.adapters.db import records

OPENED = datetime(2026, 12, 1, 18, 33, 29, 950259, tzinfo=UTC)  # 13:33 in New York (EST)
COMMENTED = datetime(2026, 12, 2, 1, 5, tzinfo=UTC)  # still 1 Dec, 20:05, in New York


_TIME = re.compile(r'<time datetime="([^"]+)">([^<]*)</time>')


@pytest.fixture
async def admin(desk: Desk) -> AsyncIterator[AgentBrowser]:
    await new_agent(desk.db, "Ada Admin", role="admin")
    browser = AgentBrowser(desk.url)
    assert (await browser.sign_in("ada@example.com")).status_code == 303
    yield browser
    await browser.close()


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    return {"TEXTDESK_TIMEZONE": "America/New_York"}


async def test_the_record_page_shows_dates_in_the_desks_timezone(desk: Desk) -> None:
    """The texted link's page reads "1 Dec 2026, 13:33 EST", the exact moment in datetime=."""
    async with desk.db.begin() as conn:
        await records.create(
            conn, short_description="Printer jams", caller_id=None, caller_phone=None, now=OPENED
        )
        await records.add_comment(
            conn, "INC0010001", author="Dana", body="On our way.", now=COMMENTED
        )
    url = desk.container.record_links.url_for("INC0010001")
    async with httpx.AsyncClient() as client:
        page = await client.get(url)
    assert page.status_code == 200
    assert (
        '<time datetime="2026-12-01T18:33:29.950259+00:00">1 Dec 2026, 13:33 EST</time>'
        in page.text
    )
    assert "1 Dec 2026, 20:05 EST" in page.text
    assert "2026-12-01T18:33" not in page.text.replace('datetime="2026-12-01T18:33', "")


async def test_the_workspace_shows_times_in_the_desks_timezone(
    desk: Desk, admin: AgentBrowser
) -> None:
    """A transcript's times are the desk's clock; datetime= keeps the exact UTC moment."""
    await Phone(desk, TEXTER).say("hi")
    cid = await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER)
    page = await admin.http.get(f"/workspace/conversations/{cid}")
    assert page.status_code == 200
    shown = _TIME.findall(page.text)
    assert shown, "the transcript shows no times"
    new_york = ZoneInfo("America/New_York")
    for exact, clock in shown:
        moment = datetime.fromisoformat(exact)
        assert moment.utcoffset() == timedelta(0)  # ISO in UTC
        assert clock == moment.astimezone(new_york).strftime("%H:%M")
