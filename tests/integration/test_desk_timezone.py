"""The desk's timezone (TEXTDESK_TIMEZONE): what texters and agents read on each page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Desk
from textdesk.adapters.db import records

OPENED = datetime(2026, 12, 1, 18, 33, 29, 950259, tzinfo=UTC)  # 13:33 in New York (EST)
COMMENTED = datetime(2026, 12, 2, 1, 5, tzinfo=UTC)  # still 1 Dec, 20:05, in New York


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
