"""Texters are the instance's sys_user profiles: known without an account of ours.

Alice's profile has her mobile number typed ``(555) 123-0001`` and she has no local
account; Dan's profile (``555-123-0004``) is inactive.  The desk's records are
incidents on the ServiceNow stand-in (the ``remote_records`` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, new_agent
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex
from textdesk.channel.answering import Converser

DAN = "+15551230004"  # inactive on the instance
USERS = "/api/now/table/sys_user"


@pytest.fixture
def converser() -> Converser | None:
    return None  # the real virtual agent on the demo topics


@pytest.fixture
def remote_records(snow: FakeServiceNow) -> ServiceNowRecords:
    client = ServiceNowClient(snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
    return ServiceNowRecords(client, UserIndex(client))  # the desk closes it when it stops


@pytest.fixture
async def users_read(desk: Desk, remote_records: ServiceNowRecords) -> None:
    """The desk has read the instance's users, as it does when it starts."""

    async def loaded() -> bool:
        return remote_records.users.loaded

    await desk.eventually(loaded, what="the first read of sys_user")


@pytest.fixture
def users_refused_at_start(snow: FakeServiceNow) -> FakeServiceNow:
    """The instance answers 503 to every try of the desk's first read of its users.

    Asked for before ``desk``, so the fault is in place when the desk starts.
    """
    snow.fail_next(503, times=3, method="GET", path=USERS)
    return snow


async def first_read_refused(desk: Desk, snow: FakeServiceNow) -> None:
    async def refused() -> bool:
        return [r.status for r in snow.requests_to("GET", USERS)] == [503, 503, 503]

    await desk.eventually(refused, what="the first read of sys_user, refused")


@pytest.fixture
async def admin(desk: Desk) -> AsyncIterator[AgentBrowser]:
    await new_agent(desk.db, "Ada Admin", role="admin")
    browser = AgentBrowser(desk.url)
    assert (await browser.sign_in("ada@example.com")).status_code == 303
    yield browser
    await browser.close()


@pytest.mark.usefixtures("users_read")
async def test_a_sys_user_without_an_account_is_greeted_and_sees_only_their_active_incidents(
    desk: Desk,
) -> None:
    assert await desk.scalar("SELECT count(*) FROM users") == 0
    phone = Phone(desk, TEXTER)
    greeting = await phone.say("hi")
    assert greeting.startswith("Hi Alice Example!")
    assert "My incidents" in greeting
    listed = await phone.say("my incidents")
    assert "Which incident?" in listed
    assert "INC0010001 VPN disconnects every hour" in listed
    assert "INC0010002 New monitor for desk 4B" in listed
    assert "INC0010003" not in listed  # Bob's
    assert "INC0010004" not in listed  # Alice's, resolved
    # Known by their profile there: the conversation names no account here.
    assert await desk.scalar("SELECT user_id FROM conversations WHERE phone = :p", p=TEXTER) is None


@pytest.mark.usefixtures("users_read")
async def test_an_inactive_sys_user_is_a_guest(desk: Desk) -> None:
    phone = Phone(desk, DAN)
    greeting = await phone.say("hi")
    assert greeting.startswith("Hi! ")
    assert "My incidents" not in greeting
    assert "Sorry, that needs a service desk account" in await phone.say("my incidents")


@pytest.mark.usefixtures("users_read")
async def test_a_sys_user_added_after_the_desk_started_is_known_at_their_first_text(
    desk: Desk, snow: FakeServiceNow
) -> None:
    snow.insert(
        "sys_user", {"user_name": "erin.new", "name": "Erin New", "mobile_phone": "555.123.0007"}
    )
    phone = Phone(desk, "+15551230007")
    assert (await phone.say("hi")).startswith("Hi Erin New!")
    assert "You have no open incidents" in await phone.say("my incidents")


async def test_a_desk_that_could_not_read_the_users_at_start_knows_a_texter_at_once(
    users_refused_at_start: FakeServiceNow, desk: Desk
) -> None:
    await first_read_refused(desk, users_refused_at_start)
    greeting = await Phone(desk, TEXTER).say("hi")
    assert greeting.startswith("Hi Alice Example!")


async def test_a_refused_first_read_of_the_users_is_tried_again_soon(
    users_refused_at_start: FakeServiceNow, desk: Desk, remote_records: ServiceNowRecords
) -> None:
    """Not a whole round (5 minutes) later: no text needs to come in first."""
    await first_read_refused(desk, users_refused_at_start)

    async def loaded() -> bool:
        return remote_records.users.loaded

    await desk.eventually(loaded, what="the users read again")


@pytest.mark.usefixtures("users_read")
async def test_the_workspace_shows_the_sys_users_profile_and_incidents_from_the_instance(
    desk: Desk, snow: FakeServiceNow, admin: AgentBrowser
) -> None:
    await Phone(desk, TEXTER).say("hi")
    cid = await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER)
    page = await admin.http.get(f"/workspace/conversations/{cid}")
    assert page.status_code == 200
    [alice] = snow.find("sys_user", "user_name=alice.example")
    assert "<h1>Alice Example</h1>" in page.text
    assert "alice@example.com" in page.text
    assert f"{snow.base_url}/nav_to.do?uri=sys_user.do?sys_id={alice['sys_id']}" in page.text
    # The Records panel lists her open incidents on the instance, each to its form there.
    [vpn] = snow.find("incident", "number=INC0010001")
    assert f"{snow.base_url}/nav_to.do?uri=incident.do?sys_id={vpn['sys_id']}" in page.text
    assert "INC0010002" in page.text
    assert "INC0010003" not in page.text
    assert "Guest" not in page.text


@pytest.mark.usefixtures("users_read")
async def test_a_sys_user_who_texted_start_has_the_workspaces_notification_switch(
    desk: Desk, admin: AgentBrowser
) -> None:
    """Their START made them an account: the conversation shows its setting at once."""
    await Phone(desk, TEXTER).say("hi")
    cid = await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER)
    before = (await admin.http.get(f"/workspace/conversations/{cid}")).text
    assert 'class="sub-change"' not in before  # no account yet, so no setting
    await Phone(desk, TEXTER).say("START")
    page = (await admin.http.get(f"/workspace/conversations/{cid}")).text
    assert "turned on" in page
    assert "by the texter (SMS)" in page
    assert 'class="sub-change"' in page
    assert "On the instance" in page  # still their profile there too
    path = f"/workspace/conversations/{cid}/subscription"
    done = await admin.act(path, {"enabled": "false", "reason": "asked on the phone"})
    assert done.status_code == 200
    assert await desk.scalar("SELECT enabled FROM subscriptions") in (False, 0)
