"""The demo topics on a desk whose records are incidents on the ServiceNow stand-in.

The virtual agent is given a ``ServiceNowRecords`` (the ``remote_records``
fixture); Alice's ``sys_user`` profile has her mobile number typed
``(555) 123-0001``, and she has a local account too: "My incidents" requires one
(``requires_account`` is checked on textdesk's own accounts, not on sys_user).
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.answering_repositories import SqlAnsweredConversations
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.testing.clock import AheadClock

TABLE = "/api/now/table/incident"


@pytest.fixture
def converser() -> Converser | None:
    return None  # the real virtual agent on the demo topics


@pytest.fixture
def desk_clock() -> AheadClock:
    return AheadClock()


def wake(desk: Desk, name: str) -> None:
    """Nudge the desk's loop ``name`` now, not at its next poll."""
    for loop in desk.container.loops:
        if loop.name == name:
            loop.wake()


@pytest.fixture
def remote_records(snow: FakeServiceNow, desk_clock: AheadClock) -> ServiceNowRecords:
    client = ServiceNowClient(
        snow.base_url,
        Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD),
        # The breaker's cool-down passes when the test moves the desk's time on.
        clock=lambda: desk_clock.now().timestamp(),
    )
    return ServiceNowRecords(client, UserIndex(client))  # the desk closes it when it stops


async def alice(desk: Desk) -> Phone:
    await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice Example", phone=TEXTER)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    return phone


async def test_my_incidents_lists_only_the_texters_active_incidents_on_the_instance(
    desk: Desk, snow: FakeServiceNow
) -> None:
    phone = await alice(desk)
    listed = await phone.say("my incidents")
    assert "Which incident?" in listed
    assert "INC0010001 VPN disconnects every hour" in listed
    assert "INC0010002 New monitor for desk 4B" in listed
    assert listed.index("INC0010002") < listed.index("INC0010001")  # newest first
    assert "INC0010003" not in listed  # Bob's
    assert "INC0010004" not in listed  # Alice's, resolved
    card = await phone.say("1")
    assert "INC0010002" in card
    assert "New" in card
    # Its link opens the incident on the instance: textdesk has no page for it.
    [monitor] = snow.find("incident", "number=INC0010002")
    assert f"{snow.base_url}/sp?id=ticket&table=incident&sys_id={monitor['sys_id']}" in card
    assert "Type your comment." in await phone.say("yes")
    assert "Your comment is added to INC0010002" in await phone.say("It is still missing")
    [entry] = snow.journal(monitor["sys_id"])
    assert entry["value"] == "Alice Example (by text): It is still missing"
    # Asked of the instance, and of nothing else: no incident is kept locally.
    assert await desk.scalar("SELECT count(*) FROM records") == 0


async def test_a_report_is_made_on_the_instance_once_though_it_answered_503_twice(
    desk: Desk, snow: FakeServiceNow
) -> None:
    phone = await alice(desk)
    await phone.say("report an issue")
    await phone.say("The printer on floor 2 is jammed")
    await phone.say("printer")
    assert "YES or NO" in await phone.say("skip")
    snow.fail_next(503, times=2, method="POST", path=TABLE)
    card = await phone.say("yes")
    assert "INC0010005" in card  # the instance's number, on the card and in the thanks
    [made] = snow.find("incident", "short_description=The printer on floor 2 is jammed")
    assert made["number"] == "INC0010005"
    assert made["caller_id"] == snow.find("sys_user", "user_name=alice.example")[0]["sys_id"]
    assert made["correlation_display"] == "textdesk"
    assert made["correlation_id"].startswith("textdesk-")
    assert [r.status for r in snow.requests_to("POST", TABLE)] == [503, 503, 201]
    assert await desk.scalar("SELECT count(*) FROM records") == 0


async def test_a_comment_whose_answer_was_lost_is_on_the_incident_once(
    desk: Desk, snow: FakeServiceNow
) -> None:
    """The instance adds the comment, then answers 500: the inbox loop tries the step
    again a couple of seconds later, finds the comment there and adds no second one."""
    phone = await alice(desk)
    await phone.say("my incidents")
    await phone.say("1")
    assert "Type your comment." in await phone.say("yes")
    snow.fail_next(500, method="PATCH", path=TABLE, after=True)
    assert "Your comment is added to INC0010002" in await phone.say("It is still missing")
    [monitor] = snow.find("incident", "number=INC0010002")
    assert [e["value"] for e in snow.journal(monitor["sys_id"])] == [
        "Alice Example (by text): It is still missing"
    ]
    assert [r.status for r in snow.requests_to("PATCH", f"{TABLE}/{monitor['sys_id']}")] == [500]


async def test_a_comment_whose_answer_could_not_be_used_at_once_is_on_the_incident_once(
    desk: Desk, snow: FakeServiceNow
) -> None:
    """The comment was added, but another transaction held the conversation when the
    answer came: the inbox loop makes the call again, and finds the comment there."""
    if desk.db.dialect.name != "postgresql":
        pytest.skip("SQLite's one writer serialises transactions: no lock to find taken")
    phone = await alice(desk)
    await phone.say("my incidents")
    await phone.say("1")
    assert "Type your comment." in await phone.say("yes")
    [monitor] = snow.find("incident", "number=INC0010002")
    path = f"{TABLE}/{monitor['sys_id']}"
    snow.slow_next(2.0, method="PATCH", path=path, after=True)  # added now, answered later

    async def sent() -> bool:
        return bool(snow.requests_to("PATCH", path))

    async def made_again() -> bool:
        # It looks for the integration user's newest comment (or, unheeding, adds it).
        return len(snow.requests_to("PATCH", path)) > 1 or any(
            "sys_created_by=" in r.params.get("sysparm_query", "")
            for r in snow.requests_to("GET", "/api/now/table/sys_journal_field")
        )

    await desk.text("It is still missing")
    await desk.eventually(sent, what="the comment's PATCH")
    async with desk.db.begin() as conn:
        assert await SqlAnsweredConversations(conn).try_lock([(TEXTER, desk.number)])
        await desk.eventually(made_again, what="the call to be made again")
    replies = await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER)
    assert "Your comment is added to INC0010002" in replies[-1].body
    assert [e["value"] for e in snow.journal(monitor["sys_id"])] == [
        "Alice Example (by text): It is still missing"
    ]
    assert len(snow.requests_to("PATCH", path)) == 1


async def test_the_instances_users_are_read_when_the_desk_starts_before_anyone_texts(
    desk: Desk, snow: FakeServiceNow
) -> None:
    async def read() -> bool:
        return bool(snow.requests_to("GET", "/api/now/table/sys_user"))

    await desk.eventually(read, what="the first read of sys_user")
    first = snow.requests_to("GET", "/api/now/table/sys_user")[0]
    assert first.params["sysparm_query"].startswith("active=true^mobile_phoneISNOTEMPTY")
    assert await desk.scalar("SELECT count(*) FROM inbox") == 0


async def test_a_report_made_while_the_instance_is_down_is_logged_once_it_is_back(
    desk: Desk, snow: FakeServiceNow, desk_clock: AheadClock
) -> None:
    phone = await alice(desk)
    await phone.say("report an issue")
    await phone.say("The printer on floor 2 is jammed")
    await phone.say("printer")
    assert "YES or NO" in await phone.say("skip")
    snow.fail_next(503, times=10_000, path=TABLE)  # down, for every call to incidents
    await desk.text("yes")

    async def answered() -> bool:
        # Skip the waits between the turn's tries: 2, 4 and 8 seconds.
        desk_clock.advance(10)
        wake(desk, "inbox")
        pending = await desk.scalar("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
        return bool(pending == 0)

    await desk.eventually(answered, within=30, what="the turn to give up waiting")
    told = (await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER))[-1]
    assert "your report is being logged" in told.body.lower()
    assert "text you its number" in told.body
    assert not snow.find("incident", "short_description=The printer on floor 2 is jammed")
    assert await desk.scalar("SELECT count(*) FROM record_backlog WHERE made_at IS NULL") == 1

    snow.heal()

    async def logged() -> bool:
        desk_clock.advance(60)
        wake(desk, "record-backlog")
        return bool(
            await desk.scalar("SELECT count(*) FROM record_backlog WHERE made_at IS NULL") == 0
        )

    await desk.eventually(logged, within=30, what="the kept report to be made")
    [made] = snow.find("incident", "short_description=The printer on floor 2 is jammed")
    assert made["caller_id"] == snow.find("sys_user", "user_name=alice.example")[0]["sys_id"]
    assert made["correlation_id"].startswith("textdesk-")
    messages = await desk.fake.wait_for_messages(phone.seen + 2, to=TEXTER)
    assert messages[-1].body == (
        f'Your report "The printer on floor 2 is jammed" is logged as {made["number"]}.'
    )
    # Made once: the next rounds find nothing to do.
    desk_clock.advance(3600)
    wake(desk, "record-backlog")
    assert len(snow.find("incident", "short_description=The printer on floor 2 is jammed")) == 1
    # The Workspace's transcript has the line too.
    lines = await desk.rows("SELECT body FROM transcript WHERE body LIKE :b", b="%is logged as%")
    assert len(lines) == 1
    assert 'textdesk_record_backlog_total{outcome="made"}' in await desk.metrics()
