"""Texters found among the instance's sys_user profiles by mobile number, however typed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex

USERS = "/api/now/table/sys_user"


class Dates:
    """The stand-in's clock: its rows' sys_updated_on move only when the test says."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(snow: FakeServiceNow) -> AsyncIterator[ServiceNowClient]:
    client = ServiceNowClient(snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
    yield client
    await client.aclose()


def asked(snow: FakeServiceNow) -> list[str]:
    return [r.params["sysparm_query"] for r in snow.requests_to("GET", USERS)]


@pytest.mark.parametrize(
    ("phone", "name"),
    [
        ("+15551230001", "Alice Example"),  # typed "(555) 123-0001"
        ("+15551230002", "Bob Example"),  # typed "+1 555 123 0002"
        ("+15551230003", "Carol Example"),  # typed "5551230003"
    ],
)
async def test_a_mobile_number_in_any_typed_form_finds_its_user(
    client: ServiceNowClient, phone: str, name: str
) -> None:
    user = await UserIndex(client).find(phone)
    assert user is not None
    assert user.name == name
    assert user.phone == phone


async def test_an_inactive_user_is_a_guest(client: ServiceNowClient) -> None:
    assert await UserIndex(client).find("+15551230004") is None  # Dan Former


async def test_the_first_look_up_pages_through_active_users_with_a_mobile_number(
    snow: FakeServiceNow, client: ServiceNowClient
) -> None:
    index = UserIndex(client, page_size=2)
    assert await index.find("+15551230003") is not None
    queries = asked(snow)
    assert queries[0].startswith("active=true^mobile_phoneISNOTEMPTY")
    # Three users with a mobile number, two a page, then the empty page that ends it.
    offsets = [r.params["sysparm_offset"] for r in snow.requests_to("GET", USERS)]
    assert offsets == ["0", "2", "3"]


async def test_an_unknown_number_is_looked_for_on_the_instance_at_most_once_a_minute(
    snow: FakeServiceNow, client: ServiceNowClient
) -> None:
    clock = Ticks()
    index = UserIndex(client, clock=clock, unknown_every=60, refresh_every=300)
    assert await index.find("+15559990000") is None
    assert await index.find("+15559990000") is None
    assert len(asked(snow)) == 3  # everyone (to the empty page), then that number
    snow.insert(
        "sys_user", {"user_name": "erin", "name": "Erin New", "mobile_phone": "555.999.0000"}
    )
    clock.now += 59
    assert await index.find("+15559990000") is None
    clock.now += 1
    erin = await index.find("+15559990000")
    assert erin is not None
    assert erin.name == "Erin New"
    # Her number's last digits were asked for, not the whole directory's changes.
    assert asked(snow)[2:] == ["active=true^mobile_phoneLIKE0000"] * 2
    clock.now += 30
    assert await index.find("+15558880000") is None
    assert await index.find("+15558880000") is None
    assert len(asked(snow)) == 5  # another number: looked for once


async def test_a_refresh_drops_users_made_inactive_and_follows_a_changed_number(
    snow: FakeServiceNow, client: ServiceNowClient
) -> None:
    clock = Ticks()
    index = UserIndex(client, clock=clock, refresh_every=300)
    assert await index.find("+15551230001") is not None
    [alice] = snow.find("sys_user", "user_name=alice.example")
    [bob] = snow.find("sys_user", "user_name=bob.example")
    snow.update("sys_user", alice["sys_id"], {"active": "false"})
    snow.update("sys_user", bob["sys_id"], {"mobile_phone": "(555) 123-0009"})
    clock.now += 300
    assert await index.find("+15551230001") is None
    assert await index.find("+15551230002") is None
    moved = await index.find("+15551230009")
    assert moved is not None
    assert moved.sys_id == bob["sys_id"]


async def test_a_number_looked_for_does_not_make_the_next_refresh_skip_earlier_changes() -> None:
    dates, clock = Dates(), Ticks()
    with FakeServiceNow(clock=dates).serve() as snow:
        seed_demo(snow)
        client = ServiceNowClient(snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
        try:
            index = UserIndex(client, clock=clock, unknown_every=60, refresh_every=300)
            await index.look_up([])
            [bob] = snow.find("sys_user", "user_name=bob.example")
            dates.now += timedelta(seconds=10)
            snow.update("sys_user", bob["sys_id"], {"mobile_phone": "(555) 123-0009"})
            dates.now += timedelta(seconds=10)
            snow.insert(
                "sys_user",
                {"user_name": "erin", "name": "Erin New", "mobile_phone": "555.999.0000"},
            )
            clock.now += 61
            await index.look_up(["+15559990000"])  # Erin, changed after Bob
            assert index.profile("+15559990000") is not None
            await index.refresh()
            # Bob's change, older than Erin's row, was still read: his old number is free.
            assert index.profile("+15551230002") is None
            moved = index.profile("+15551230009")
            assert moved is not None
            assert moved.account == bob["sys_id"]
        finally:
            await client.aclose()


async def test_every_user_is_read_from_an_instance_that_serves_fewer_rows_a_page_than_asked(
    snow: FakeServiceNow, client: ServiceNowClient
) -> None:
    snow.readings.max_limit = 2  # three users with a mobile number; 500 asked a page
    index = UserIndex(client)
    await index.look_up([])
    for phone in ("+15551230001", "+15551230002", "+15551230003"):
        assert index.profile(phone) is not None, phone


async def test_an_instance_without_isnotempty_still_gives_the_active_users_with_a_number(
    snow: FakeServiceNow, client: ServiceNowClient
) -> None:
    """It answers no rows for the query part it does not take: asked again, plainer."""
    snow.invalid_query_returns_no_rows = True
    snow.readings.operators = frozenset({"=", "!=", "IN", "LIKE", "STARTSWITH", ">="})
    try:
        index = UserIndex(client)
        await index.look_up([])
    finally:
        snow.invalid_query_returns_no_rows = False
    assert index.profile("+15551230001") is not None
    assert index.profile("+15551230003") is not None
    assert index.profile("+15551230004") is None  # Dan Former, inactive
    assert asked(snow)[-2].startswith("active=true^ORDERBY")


async def test_a_user_whose_active_field_is_the_json_boolean_false_is_a_guest(
    snow: FakeServiceNow, client: ServiceNowClient
) -> None:
    snow.readings.json_booleans = True
    [alice] = snow.find("sys_user", "user_name=alice.example")
    index = UserIndex(client)
    await index.look_up([])
    assert index.profile("+15551230001") is not None
    snow.update("sys_user", alice["sys_id"], {"active": "false"})
    await index.refresh()  # her change: the JSON boolean false
    assert index.profile("+15551230001") is None
