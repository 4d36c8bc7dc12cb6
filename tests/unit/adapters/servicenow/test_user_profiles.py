"""The user index as the texter directory reads it: profiles from memory, looked up sparingly."""

from __future__ import annotations

from typing import Any, cast

from textdesk.adapters.servicenow.client import ServiceNowClient
from textdesk.adapters.servicenow.users import UserIndex

ALICE = {
    "sys_id": "a1",
    "name": "Alice Example",
    "email": "alice@example.com",
    "mobile_phone": "(555) 123-0001",
    "active": "true",
    "sys_updated_on": "2026-12-01 10:00:00",
}
DAN = {**ALICE, "sys_id": "d4", "name": "Dan Former", "mobile_phone": "555-123-0004"}
DAN["active"] = "false"


class Instance:
    """Just enough of ``ServiceNowClient`` for the index: ``sys_user`` rows, counted."""

    base_url = "https://acme.service-now.com"

    def __init__(self, *users: dict[str, str]) -> None:
        self.users = list(users)
        self.reads = 0

    async def rows(self, table: str, *, offset: int = 0, **_: Any) -> list[dict[str, str]]:
        self.reads += 1
        return self.users[offset:]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def index(instance: Instance, clock: Clock) -> UserIndex:
    return UserIndex(cast(ServiceNowClient, instance), clock=clock)


async def test_a_profile_is_read_from_memory_with_its_link_on_the_instance() -> None:
    instance, clock = Instance(ALICE, DAN), Clock()
    users = index(instance, clock)
    assert users.profile("+15551230001") is None  # nothing read yet: never a call here
    assert instance.reads == 0
    await users.look_up(["+15551230001"])  # the first look-up reads everyone
    profile = users.profile("+15551230001")
    assert profile is not None
    assert (profile.name, profile.email, profile.account) == (
        "Alice Example",
        "alice@example.com",
        "a1",
    )
    assert profile.link == "https://acme.service-now.com/nav_to.do?uri=sys_user.do?sys_id=a1"
    assert users.profile("+15551230004") is None  # inactive: a guest


async def test_an_unknown_number_is_looked_for_at_most_once_a_minute() -> None:
    instance, clock = Instance(ALICE), Clock()
    users = index(instance, clock)
    await users.look_up([])
    assert instance.reads == 2  # everyone, to the empty page after
    clock.now = 120.0
    assert users.settled("+15551230001")
    await users.look_up(["+15551230001"])
    assert instance.reads == 2  # everyone known: no call
    assert not users.settled("+15551230009")
    await users.look_up(["+15551230009"])
    assert instance.reads == 3
    assert users.settled("+15551230009")  # a guest, for now
    clock.now = 150.0
    await users.look_up(["+15551230009"])
    assert instance.reads == 3  # throttled
    clock.now = 181.0
    assert not users.settled("+15551230009")
    await users.look_up(["+15551230009", "+15551230008"])
    assert instance.reads == 4  # both in one query


async def test_nothing_is_settled_before_the_users_are_read() -> None:
    users = index(Instance(ALICE), Clock())
    assert not users.settled("+15551230001")
    assert not users.settled("+15551230009")


async def test_an_active_field_answered_as_a_json_boolean_false_is_inactive() -> None:
    dan = {**DAN, "active": False}
    alice = {**ALICE, "active": True}
    users = index(Instance(alice, dan), Clock())  # type: ignore[arg-type]
    await users.look_up([])
    assert users.profile("+15551230001") is not None
    assert users.profile("+15551230004") is None
