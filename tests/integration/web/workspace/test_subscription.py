"""The texter's notification state in the Workspace: STOP shown plainly; admins change it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, new_agent, signed_in
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent and its STOP/START handling."""
    return None


@pytest.fixture
async def staff(desk: Desk) -> AsyncIterator[dict[str, AgentBrowser]]:
    await new_agent(desk.db, "Dana Agent")
    await new_agent(desk.db, "Sam Admin", role="admin", available=False)
    async with signed_in(desk.url, "dana", "sam") as browsers:
        yield browsers


async def _alice(desk: Desk) -> tuple[int, int]:
    alice = await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )
    await Phone(desk, TEXTER).say("hi")
    cid = int(await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER))
    return alice, cid


async def test_a_number_that_texted_stop_is_shown_as_blocked(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """After STOP the page says Twilio blocks the number and replies are canceled."""
    _, cid = await _alice(desk)
    page = await staff["dana"].http.get(f"/workspace/conversations/{cid}")
    assert "This number texted STOP" not in page.text
    assert "Never changed: off by default." in page.text
    await desk.text("STOP")

    async def blocked() -> bool:
        return bool(await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active"))

    await desk.eventually(blocked, what="the opt-out")
    page = await staff["dana"].http.get(f"/workspace/conversations/{cid}")
    assert "This number texted STOP" in page.text
    assert "replies written meanwhile" in page.text
    assert "are canceled, not queued" in page.text
    assert "Blocked by STOP" in page.text


async def test_an_admin_changes_notifications_with_a_reason_kept_in_the_audit_trail(
    desk: Desk, staff: dict[str, AgentBrowser]
) -> None:
    """Only an admin, only with a reason; the change shows who, how and why."""
    alice, cid = await _alice(desk)
    path = f"/workspace/conversations/{cid}/subscription"
    assert (
        await staff["dana"].act(path, {"enabled": "true", "reason": "asked"})
    ).status_code == 403
    assert (await staff["sam"].act(path, {"enabled": "true", "reason": "  "})).status_code == 422
    assert await desk.scalar("SELECT count(*) FROM subscription_changes") == 0

    done = await staff["sam"].act(path, {"enabled": "true", "reason": "asked on the phone"})
    assert done.status_code == 200
    page = (await staff["dana"].http.get(f"/workspace/conversations/{cid}")).text
    assert "in the Workspace by Sam Admin" in page
    assert "asked on the phone" in page
    assert 'class="sub-change"' not in page  # agents see the setting, not the switch
    assert (
        'class="sub-change"'
        in (await staff["sam"].http.get(f"/workspace/conversations/{cid}")).text
    )
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as api:
        view = (await api.get(f"{desk.url}/api/v1/users/{alice}/subscription")).json()
    assert view["enabled"] is True
    assert view["changes"][0] | {"at": None} == {
        "enabled": True,
        "source": "workspace",
        "at": None,
        "reason": "asked on the phone",
        "actor": "Sam Admin",
    }
