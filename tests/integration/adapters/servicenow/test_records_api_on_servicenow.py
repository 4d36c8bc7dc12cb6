"""The REST API, the record page and the Workspace's cards on the instance's incidents.

With records on ServiceNow, ``/api/v1/records`` and ``/r/<token>`` read and write
the incidents there through the same use case as the built-in store's; a staff
comment is the integration user's, signed with its author's name.  The demo's
incidents: INC0010001 and INC0010002 are Alice's open ones, INC0010003 Bob's,
INC0010004 Alice's resolved one.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from tests.integration.workspace_helpers import AgentBrowser, new_agent
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser


@pytest.fixture
def converser() -> Converser | None:
    return None  # the real virtual agent on the demo topics


@pytest.fixture
def remote_records(snow: FakeServiceNow) -> ServiceNowRecords:
    client = ServiceNowClient(snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
    return ServiceNowRecords(client, UserIndex(client))  # the desk closes it when it stops


@pytest.fixture
async def api(desk: Desk, remote_records: ServiceNowRecords) -> AsyncIterator[httpx.AsyncClient]:
    async def loaded() -> bool:
        return remote_records.users.loaded

    await desk.eventually(loaded, what="the first read of sys_user")
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def sys_id(snow: FakeServiceNow, table: str, query: str) -> str:
    [row] = snow.find(table, query)
    return row["sys_id"]


async def test_the_api_lists_and_reads_the_instances_incidents(api: httpx.AsyncClient) -> None:
    everyone = (await api.get("/records")).json()
    assert {r["number"] for r in everyone} == {
        "INC0010001",
        "INC0010002",
        "INC0010003",
        "INC0010004",
    }
    alices = (
        await api.get("/records", params={"caller_phone": TEXTER, "open_only": "true"})
    ).json()
    assert [r["number"] for r in alices] == ["INC0010002", "INC0010001"]  # newest first
    page = await api.get("/records", params={"caller_phone": TEXTER, "limit": 1, "offset": 1})
    assert len(page.json()) == 1
    # Nobody on the instance has this phone: no incidents, not everyone's.
    assert (await api.get("/records", params={"caller_phone": "+15559990000"})).json() == []
    bobs = (await api.get("/records/inc0010003")).json()
    assert bobs["short_description"] == "Cannot open shared mailbox"
    assert bobs["caller_phone"] == "+15551230002"
    assert bobs["state"] == "New"  # as the instance shows its state 1
    assert bobs["priority"] == 4  # the instance's, from urgency 2 and its default impact 3
    assert (await api.get("/records/INC0099999")).status_code == 404


async def test_the_api_opens_changes_and_comments_on_incidents_there(
    api: httpx.AsyncClient, desk: Desk, snow: FakeServiceNow
) -> None:
    alice = await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )
    created = await api.post(
        "/records",
        json={"short_description": "Badge reader broken", "urgency": 2, "caller_id": alice},
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["number"] == "INC0010005"
    assert record["url"].startswith(f"{desk.url}/r/INC0010005.")
    [made] = snow.find("incident", "number=INC0010005")
    # The account is the instance's user with its phone: that user is the caller.
    assert made["caller_id"] == sys_id(snow, "sys_user", "user_name=alice.example")
    assert made["urgency"] == "2"

    changed = await api.patch("/records/INC0010005", json={"state": "In Progress"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["state"] == "In Progress"
    assert snow.find("incident", "number=INC0010005")[0]["state"] == "2"

    commented = await api.post(
        "/records/INC0010005/comments", json={"author": "Dana Agent", "body": "On our way."}
    )
    assert commented.status_code == 201, commented.text
    assert [(c["author"], c["body"]) for c in commented.json()["comments"]] == [
        ("Dana Agent", "On our way.")
    ]
    noted = await api.post(
        "/records/INC0010005/comments",
        json={"author": "Dana Agent", "body": "Reader 4 needs a new board.", "public": False},
    )
    assert noted.status_code == 201
    [comment] = snow.journal(made["sys_id"], "comments")
    assert comment["value"] == "Dana Agent (textdesk): On our way."
    [note] = snow.journal(made["sys_id"], "work_notes")
    assert note["value"] == "Dana Agent (textdesk): Reader 4 needs a new board."
    # Nothing of it is kept here.
    assert await desk.scalar("SELECT count(*) FROM records") == 0

    # The record page a texted link opens reads it from the instance.
    page = await api.get(record["url"])
    assert page.status_code == 200
    assert "Badge reader broken" in html.unescape(page.text)
    assert "On our way." in html.unescape(page.text)


async def test_an_agent_sends_an_incident_from_the_instance_as_a_card(
    desk: Desk, snow: FakeServiceNow, api: httpx.AsyncClient
) -> None:
    await new_agent(desk.db, "Dana Agent")
    browser = AgentBrowser(desk.url)
    try:
        assert (await browser.sign_in("dana@example.com")).status_code == 303
        phone = Phone(desk, TEXTER)
        await phone.say("hi")
        assert "Please stand by" in await phone.say("agent")
        cid = await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER)
        assert (await browser.act(f"/workspace/conversations/{cid}/accept")).status_code == 200
        await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER)
        phone.seen += 1
        sent = await browser.act(f"/workspace/conversations/{cid}/card", {"number": "INC0010001"})
        assert sent.status_code == 200, sent.text
        card = (await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER))[-1].body
        assert "INC0010001" in card
        assert "VPN disconnects every hour" in card
        vpn = sys_id(snow, "incident", "number=INC0010001")
        assert f"{snow.base_url}/sp?id=ticket&table=incident&sys_id={vpn}" in card
        # Bob's incident is not Alice's to be sent.
        refused = await browser.act(
            f"/workspace/conversations/{cid}/card", {"number": "INC0010003"}
        )
        assert "not one of this texter's records" in refused.text
        # Dana's comment and work note are the integration user's, signed with her name.
        for visibility, body in (("comment", "A new token is on its way."), ("work_note", "RSA")):
            added = await browser.act(
                f"/workspace/conversations/{cid}/comment",
                {"number": "INC0010001", "body": body, "visibility": visibility},
            )
            assert added.status_code == 200, added.text
        [comment] = snow.journal(vpn, "comments")
        assert comment["value"] == "Dana Agent (textdesk): A new token is on its way."
        assert comment["sys_created_by"] == DEFAULT_USERNAME
        [note] = snow.journal(vpn, "work_notes")
        assert note["value"] == "Dana Agent (textdesk): RSA"
        bobs = await browser.act(
            f"/workspace/conversations/{cid}/comment",
            {"number": "INC0010003", "body": "Hi Bob", "visibility": "comment"},
        )
        assert "not one of this texter's records" in bobs.text
        assert snow.journal(sys_id(snow, "incident", "number=INC0010003"), "comments") == []
    finally:
        await browser.close()
