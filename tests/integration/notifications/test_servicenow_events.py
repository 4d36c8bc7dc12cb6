"""Record events a ServiceNow business rule posts become the caller's notifications.

The desk's records are on the ServiceNow stand-in (the ``remote_records``
fixture), whose demo users have their mobile numbers typed as people type them.
Subscriptions are textdesk's: most tests give Alice a local account by hand; the
last ones let her texted START make it, as it does for a sys_user with none.
Events are posted over HTTP, signed as the business rule in docs/servicenow.md
signs them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.notify_helpers import Handset, outbox_to, settle
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import subscriptions
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.domain.servicenow_events import signature

SECRET = "events-secret-for-the-tests-0123456789"
BOB = "+15551230002"  # Bob's sys_user number, typed "+1 555 123 0002" on the instance
STRANGER = "+15551239999"  # no sys_user has it


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServiceNow]:
    with FakeServiceNow().serve() as fake:
        yield fake


@pytest.fixture
def snow(served: FakeServiceNow) -> FakeServiceNow:
    served.reset()
    seed_demo(served)
    return served


@pytest.fixture
def remote_records(snow: FakeServiceNow) -> ServiceNowRecords:
    client = ServiceNowClient(snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
    return ServiceNowRecords(client, UserIndex(client))  # the desk closes it when it stops


@pytest.fixture
def converser() -> Converser | None:
    return None  # the real virtual agent: it answers STOP as texters send it


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    return {"TEXTDESK_SERVICENOW_EVENTS_SECRET": SECRET}


async def account(desk: Desk, name: str, phone: str, *, subscribed: bool) -> int:
    user_id = await admin_use_cases(desk.db, SystemClock()).accounts.add(name=name, phone=phone)
    if subscribed:
        async with desk.db.begin() as conn:
            await subscriptions.set_enabled(
                conn, [user_id], True, source="api", now=SystemClock().now()
            )
    return user_id


def incident_event(snow: FakeServiceNow, number: str, **change: str) -> dict[str, str]:
    """The body the business rule posts for a state change of ``number``."""
    [row] = snow.find("incident", f"number={number}")
    caller = row["caller_id"]
    return {
        "table": "incident",
        "sys_id": row["sys_id"],
        "number": number,
        "event": "state_changed",
        "state": "Resolved",
        "comment": "",
        "assigned_to": "",
        "caller_id": caller["value"] if isinstance(caller, dict) else caller,
        "sys_updated_on": "2026-12-02 05:00:00",
        **change,
    }


async def post(
    desk: Desk,
    event: dict[str, str],
    *,
    secret: str = SECRET,
    at: float | None = None,
    signed: str | None = None,
) -> httpx.Response:
    body = json.dumps(event).encode()
    stamp = str(int(time.time() if at is None else at))
    headers = {
        "Content-Type": "application/json",
        "X-Textdesk-Timestamp": stamp,
        "X-Textdesk-Signature": signed or signature(secret, stamp, body),
    }
    async with httpx.AsyncClient(base_url=desk.url) as client:
        return await client.post("/api/v1/events/servicenow", content=body, headers=headers)


async def test_a_state_change_notifies_the_subscribed_caller_once_however_often_it_is_posted(
    desk: Desk, snow: FakeServiceNow
) -> None:
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    event = incident_event(snow, "INC0010001")

    first = await post(desk, event)
    assert first.status_code == 200, first.text
    assert first.json()["queued"] == 1, first.json()
    [sent] = await desk.eventually(lambda: _async(desk.fake.messages_to(TEXTER)), what="a text")
    assert "INC0010001 is now Resolved: VPN disconnects every hour" in sent.body
    # Its link opens the incident on the instance, as the texter's cards do.
    assert f"{snow.base_url}/sp?id=ticket&table=incident&sys_id={event['sys_id']}" in sent.body

    again = await post(desk, event)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    await settle(desk)
    assert len(await outbox_to(desk, TEXTER)) == 1
    assert len(desk.fake.messages_to(TEXTER)) == 1


async def test_a_later_change_of_the_same_incident_is_notified_too(
    desk: Desk, snow: FakeServiceNow
) -> None:
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    await post(desk, incident_event(snow, "INC0010001", state="In Progress"))
    answer = await post(
        desk,
        incident_event(
            snow,
            "INC0010001",
            event="comment_added",
            comment="Pat Agent (by text): The VPN profile is renewed",
            sys_updated_on="2026-12-02 05:01:00",
        ),
    )
    assert answer.json()["queued"] == 1
    await settle(desk)
    bodies = [s.body for s in await outbox_to(desk, TEXTER)]
    assert len(bodies) == 2
    assert 'new comment from Pat Agent: "The VPN profile is renewed"' in bodies[1]


async def test_two_comments_saved_in_the_same_second_are_both_texted_and_each_once(
    desk: Desk, snow: FakeServiceNow
) -> None:
    """sys_updated_on counts whole seconds; the two comments still are two events."""
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    comment = incident_event(snow, "INC0010001", event="comment_added", author="Beth Anglin")
    first, second = {**comment, "comment": "Rebooted"}, {**comment, "comment": "Try now"}
    answers = [await post(desk, event) for event in (first, second, first)]
    assert [a.json()["status"] for a in answers] == ["queued", "queued", "duplicate"]
    await settle(desk)
    bodies = [s.body for s in await outbox_to(desk, TEXTER)]
    assert len(bodies) == 2
    assert 'new comment from Beth Anglin: "Rebooted"' in bodies[0]
    assert 'new comment from Beth Anglin: "Try now"' in bodies[1]


async def test_the_callers_own_texted_comment_is_not_echoed_back(
    desk: Desk, snow: FakeServiceNow
) -> None:
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    # As the business rule in docs/servicenow.md posts it: written by the integration user.
    answer = await post(
        desk,
        incident_event(
            snow,
            "INC0010001",
            event="comment_added",
            comment="Alice Example (by text): still down",
            author="Textdesk Integration",
            author_user_name=DEFAULT_USERNAME,
        ),
    )
    assert answer.status_code == 200
    assert answer.json()["queued"] == 0
    await settle(desk)
    assert await outbox_to(desk, TEXTER) == []


async def test_an_agents_comment_that_begins_with_the_callers_signature_is_texted_to_them(
    desk: Desk, snow: FakeServiceNow
) -> None:
    """Only the integration user signs for texters: anyone else's comment is theirs."""
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    answer = await post(
        desk,
        incident_event(
            snow,
            "INC0010001",
            event="comment_added",
            comment="Alice Example (by text): please call the desk back",
            author="Beth Anglin",
            author_user_name="beth.anglin",
        ),
    )
    assert answer.json()["queued"] == 1, answer.json()
    await settle(desk)
    [sent] = await outbox_to(desk, TEXTER)
    assert "new comment from Beth Anglin" in sent.body
    assert "please call the desk back" in sent.body


@pytest.mark.parametrize("how", ["wrong secret", "stale timestamp", "future timestamp", "garbage"])
async def test_an_event_not_signed_recently_with_the_secret_is_refused_and_sends_nothing(
    desk: Desk, snow: FakeServiceNow, how: str
) -> None:
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    event = incident_event(snow, "INC0010001")
    # An hour off, not a second past the 5-minute window: the server reads its clock
    # a moment after this one, and on a loaded machine a moment is seconds (the window's
    # edges are unit-tested in tests/unit/domain/test_servicenow_events.py).
    now = time.time()
    if how == "wrong secret":
        answer = await post(desk, event, secret="not-the-secret")
    elif how == "stale timestamp":
        answer = await post(desk, event, at=now - 3600)
    elif how == "future timestamp":
        answer = await post(desk, event, at=now + 3600)
    else:
        answer = await post(desk, event, signed="bm90IGEgc2lnbmF0dXJl")
    assert answer.status_code == 401
    assert "detail" in answer.json()
    # Refused before it was noted: the real one, posted next, still notifies.
    assert await desk.scalar("SELECT count(*) FROM instance_events") == 0
    assert await outbox_to(desk, TEXTER) == []
    assert (await post(desk, event)).json()["queued"] == 1


async def test_a_guest_caller_or_one_who_did_not_subscribe_gets_nothing(
    desk: Desk, snow: FakeServiceNow
) -> None:
    # Bob has no account here (a guest); Alice has one, notifications off.
    guest = await post(desk, incident_event(snow, "INC0010003"))
    assert guest.status_code == 200
    assert guest.json() == {"status": "skipped", "queued": 0, "skipped": {"unknown": 1}}
    await account(desk, "Alice Example", TEXTER, subscribed=False)
    unsubscribed = await post(desk, incident_event(snow, "INC0010001"))
    assert unsubscribed.json()["skipped"] == {"not_subscribed": 1}
    await settle(desk)
    assert await outbox_to(desk, TEXTER) == []
    assert await outbox_to(desk, BOB) == []


async def test_a_caller_who_texted_stop_gets_nothing(desk: Desk, snow: FakeServiceNow) -> None:
    await account(desk, "Alice Example", TEXTER, subscribed=True)
    await desk.text("STOP")
    await settle(desk)
    before = len(await outbox_to(desk, TEXTER))
    answer = await post(desk, incident_event(snow, "INC0010001"))
    assert answer.json()["queued"] == 0
    await settle(desk)
    assert len(await outbox_to(desk, TEXTER)) == before


async def test_a_body_that_is_not_an_event_is_refused_with_what_is_wrong(
    desk: Desk, snow: FakeServiceNow
) -> None:
    answer = await post(desk, {"table": "incident", "event": "state_changed"})
    assert answer.status_code == 422
    assert "missing sys_id" in answer.json()["detail"]


async def test_an_oversized_body_is_refused_before_it_is_read(desk: Desk) -> None:
    body = b"{" + b" " * (65 * 1024) + b"}"
    async with httpx.AsyncClient(base_url=desk.url) as client:
        answer = await client.post("/api/v1/events/servicenow", content=body)
    assert answer.status_code == 413


async def _async(value: Any) -> Any:
    return value


async def test_the_endpoint_and_its_signature_headers_are_in_the_api_docs(desk: Desk) -> None:
    async with httpx.AsyncClient() as client:
        spec = (await client.get(f"{desk.url}/api/v1/openapi.json")).json()
    operation = spec["paths"]["/api/v1/events/servicenow"]["post"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"X-Textdesk-Timestamp", "X-Textdesk-Signature"} <= names


@pytest.fixture
async def users_read(desk: Desk, remote_records: ServiceNowRecords) -> None:
    """The desk has read the instance's users, as it does when it starts."""

    async def loaded() -> bool:
        return remote_records.users.loaded

    await desk.eventually(loaded, what="the first read of sys_user")


async def notifications_to(desk: Desk, phone: str) -> list[str]:
    return [s.body for s in await outbox_to(desk, phone) if s.kind == "notification"]


@pytest.mark.usefixtures("users_read")
async def test_a_sys_user_who_texted_start_is_notified_once_of_a_signed_state_change(
    desk: Desk, snow: FakeServiceNow
) -> None:
    """Alice is a sys_user, "(555) 123-0001" on the instance, with no account here."""
    assert await desk.scalar("SELECT count(*) FROM users") == 0
    confirmed = await Handset(desk, TEXTER).reply_to("START")
    assert confirmed.startswith("SMS notifications are now ON"), confirmed
    # Her account is made from her profile there.
    [made] = await desk.rows("SELECT name, email, phone FROM users")
    assert (made.name, made.email, made.phone) == ("Alice Example", "alice@example.com", TEXTER)
    event = incident_event(snow, "INC0010001")

    forged = await post(desk, event, secret="not-the-secret")
    assert forged.status_code == 401
    await settle(desk)
    assert await notifications_to(desk, TEXTER) == []

    answer = await post(desk, event)
    assert answer.status_code == 200, answer.text
    assert answer.json()["queued"] == 1, answer.json()
    await settle(desk)
    [sent] = await notifications_to(desk, TEXTER)
    assert "INC0010001 is now Resolved: VPN disconnects every hour" in sent
    # Her later texts are that account, still with her profile there: one account.
    setting = await Handset(desk, TEXTER).reply_to("Notification")
    assert setting.startswith("SMS notifications are ON"), setting
    assert await desk.scalar("SELECT count(*) FROM users") == 1


@pytest.mark.usefixtures("users_read")
async def test_a_sys_users_stop_or_status_query_makes_no_account(desk: Desk) -> None:
    phone = Handset(desk, TEXTER)
    assert (await phone.reply_to("notification")).startswith("SMS notifications are OFF")
    assert (await phone.reply_to("stop")).startswith("SMS notifications are now OFF")
    assert await desk.scalar("SELECT count(*) FROM users") == 0


@pytest.mark.usefixtures("users_read")
async def test_a_texter_the_instance_does_not_know_is_still_told_guests_cannot_subscribe(
    desk: Desk,
) -> None:
    refused = await Handset(desk, STRANGER).reply_to("START")
    assert refused.startswith("SMS notifications are for registered users only."), refused
    assert await desk.scalar("SELECT count(*) FROM users") == 0
    assert await desk.scalar("SELECT count(*) FROM subscriptions") == 0
