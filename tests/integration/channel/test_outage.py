"""A Twilio outage end to end: every reply goes once afterwards, and staff see what waits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.conftest import Desk
from tests.integration.workspace_helpers import AgentBrowser, new_agent

TEXTERS = [f"+1555200{i:04d}" for i in range(30)]


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    """Time compressed: retries from 50 ms, never more than a second apart."""
    return {
        "TEXTDESK_RETRY_BASE_SECONDS": 0.05,
        "TEXTDESK_RETRY_MAX_SECONDS": 1.0,
    }


async def _statuses(desk: Desk) -> list[str]:
    return [r.status for r in await desk.rows("SELECT status FROM outbox ORDER BY id")]


async def test_an_outage_longer_than_six_attempts_loses_no_reply(desk: Desk) -> None:
    """Twilio answers 500 for 6 s after the last text: every reply still goes, once.

    Six attempts (the old limit) last under 4 s here, with the dispatcher's idle poll.
    """
    desk.fake.start_outage(600)
    for texter in TEXTERS:
        assert (await desk.text("hello", from_=texter)).status_code == 200
    desk.fake.start_outage(6.0)
    await desk.fake.wait_for_messages(len(TEXTERS), timeout=40)

    async def all_delivered() -> bool:
        return set(await _statuses(desk)) == {"delivered"}

    await desk.eventually(all_delivered, within=20, what="every reply delivered")
    for texter in TEXTERS:
        assert [m.body for m in desk.fake.messages_to(texter)] == ["echo: hello"]
    # The number was paused and probed: far fewer calls than texts times retries (the
    # old dispatcher made six failed attempts of every text, 180 here).
    failed = [a for a in desk.fake.attempts if a.status == 500]
    assert 0 < len(failed) < len(TEXTERS)


async def test_staff_and_metrics_see_what_waits_during_an_outage(desk: Desk) -> None:
    """While Twilio fails, /metrics and the Workspace say how many texts wait and since when."""
    await new_agent(desk.db, "Ada Lovelace")
    browser = AgentBrowser(desk.url)
    try:
        assert (await browser.sign_in("ada@example.com")).status_code == 303
        page = await browser.http.get("/workspace")
        assert 'hx-get="/workspace/outbound"' in page.text
        quiet = await browser.http.get("/workspace/outbound")
        assert quiet.status_code == 200
        assert "waiting to be sent" not in quiet.text
        desk.fake.start_outage(120)
        for texter in TEXTERS[:5]:
            await desk.text("hello", from_=texter)

        # Both at once: on a loaded machine a send can still be on its way (in doubt,
        # not pending) when the number is paused, and is counted pending once it fails.
        async def paused() -> str | None:
            metrics = await desk.metrics()
            both = ("textdesk_senders_paused 1.0", 'textdesk_outbox_waiting{state="pending"} 5.0')
            return metrics if all(line in metrics for line in both) else None

        metrics = await desk.eventually(paused, what="the number paused, five texts pending")
        assert "textdesk_outbox_oldest_waiting_seconds" in metrics
        banner = (await browser.http.get("/workspace/outbound")).text
        assert "5 texts waiting to be sent" in banner
        assert "Twilio failing since" in banner
        assert "retrying until" in banner
        desk.fake.end_outage()
        await desk.fake.wait_for_messages(5, timeout=20)

        async def cleared() -> bool:
            answer = await browser.http.get("/workspace/outbound")
            return "waiting to be sent" not in answer.text

        await desk.eventually(cleared, what="the banner gone")
    finally:
        await browser.close()


async def test_the_outbound_banner_needs_a_signed_in_agent(desk: Desk) -> None:
    """Nobody signed out learns what the desk is waiting to send."""
    async with httpx.AsyncClient(base_url=desk.url) as client:
        answer = await client.get("/workspace/outbound")
    assert answer.status_code == 401
