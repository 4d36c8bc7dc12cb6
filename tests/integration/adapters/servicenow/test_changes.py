"""What polling asks an instance, asked of the stand-in over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from textdesk.adapters.servicenow.changes import InstanceChanges
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.domain.instance_changes import ChangedIncident, InstanceComment
from textdesk.testing.clock import FixedClock

SEEDED = "2026-12-02 10:00:00"  # when the stand-in's clock starts, and the demo is seeded


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def timed(clock: FixedClock) -> Iterator[FakeServiceNow]:
    """A stand-in on a hand-moved clock, seeded, with an agent who comments."""
    fake = FakeServiceNow(clock=clock.now)
    seed_demo(fake)
    fake.add_account("pat.agent", "pat-password", name="Pat Agent")
    with fake.serve():
        yield fake


class Interrupted(ServiceNowClient):
    """A client after whose first page of a list something happens on the instance."""

    meanwhile: Any = None

    async def rows(self, table: str, **kwargs: Any) -> list[dict[str, Any]]:
        page = await super().rows(table, **kwargs)
        if self.meanwhile is not None:
            happen, self.meanwhile = self.meanwhile, None
            happen()
        return page


@pytest.fixture
async def client(timed: FakeServiceNow) -> AsyncIterator[Interrupted]:
    client = Interrupted(timed.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
    yield client
    await client.aclose()


def incident(snow: FakeServiceNow, description: str) -> dict[str, str]:
    [row] = snow.find("incident", f"short_description={description}")
    return row


def numbers(incidents: Sequence[ChangedIncident]) -> list[str]:
    return [i.number for i in incidents]


async def test_the_newest_change_is_the_latest_sys_updated_on(
    timed: FakeServiceNow, clock: FixedClock, client: Interrupted
) -> None:
    assert await InstanceChanges(client).newest() == SEEDED
    clock.advance(90)
    timed.update("incident", incident(timed, "New monitor for desk 4B")["sys_id"], {"urgency": "1"})
    assert await InstanceChanges(client).newest() == "2026-12-02 10:01:30"


async def test_the_incidents_that_may_change_are_the_open_ones_and_those_updated_lately(
    timed: FakeServiceNow, clock: FixedClock, client: Interrupted
) -> None:
    clock.advance(3600)
    timed.update(
        "incident", incident(timed, "Cannot open shared mailbox")["sys_id"], {"state": "7"}
    )
    changes = InstanceChanges(client)
    later = await changes.current(updated_since="2026-12-02 10:30:00")
    # The printer case was resolved at seeding, before then; the mailbox was closed since.
    assert sorted(numbers(later)) == ["INC0010001", "INC0010002", "INC0010003"]
    everything = await changes.current(updated_since=SEEDED)
    assert sorted(numbers(everything)) == ["INC0010001", "INC0010002", "INC0010003", "INC0010004"]


async def test_changed_incidents_are_read_as_display_values_newest_first_once_each(
    timed: FakeServiceNow, clock: FixedClock, client: Interrupted
) -> None:
    [pat] = timed.find("sys_user", "user_name=pat.agent")
    vpn = incident(timed, "VPN disconnects every hour")
    clock.advance(60)
    timed.update("incident", vpn["sys_id"], {"state": "6", "assigned_to": pat["sys_id"]})
    changed = await InstanceChanges(client, page_size=2).changed_since("2026-12-02 10:01:00")
    assert changed == [
        ChangedIncident(
            sys_id=vpn["sys_id"],
            number="INC0010001",
            state="Resolved",
            assigned_to="Pat Agent",
            caller_id=vpn["caller_id"],
            updated_on="2026-12-02 10:01:00",
            short_description="VPN disconnects every hour",
        )
    ]
    assert len(await InstanceChanges(client, page_size=2).changed_since(SEEDED)) == 4


async def test_an_incident_changed_between_two_pages_costs_no_other_incident_its_read(
    timed: FakeServiceNow, clock: FixedClock, client: Interrupted
) -> None:
    """Newest first, a change meanwhile moves an incident not read yet to the head of
    the list: the rest move down (one is read twice), none is skipped, and the moved
    one is newer than all that were read, so the next round reads it."""
    clock.advance(60)
    for row in timed.find("incident", "ORDERBYnumber"):
        clock.advance(1)
        timed.update("incident", row["sys_id"], {"urgency": "2"})
    vpn = incident(timed, "VPN disconnects every hour")  # the oldest: on the second page

    def agent_saves() -> None:
        clock.advance(60)
        timed.update("incident", vpn["sys_id"], {"state": "3"})

    client.meanwhile = agent_saves
    changed = await InstanceChanges(client, page_size=2).changed_since("2026-12-02 10:01:00")
    assert sorted(numbers(changed)) == ["INC0010002", "INC0010003", "INC0010004"]
    moved = await InstanceChanges(client).changed_since(max(i.updated_on for i in changed))
    # (With the newest of the first read again, in the cursor's own second.)
    assert [(i.number, i.state) for i in moved] == [
        ("INC0010001", "On Hold"),
        ("INC0010004", "Resolved"),
    ]


async def test_comments_since_each_incidents_own_time_with_their_authors_names(
    timed: FakeServiceNow, clock: FixedClock, client: Interrupted
) -> None:
    vpn = incident(timed, "VPN disconnects every hour")["sys_id"]
    monitor = incident(timed, "New monitor for desk 4B")["sys_id"]
    clock.advance(60)
    timed.update("incident", vpn, {"comments": "Old news"}, user_name="pat.agent")
    timed.update("incident", monitor, {"work_notes": "internal"}, user_name="pat.agent")
    clock.advance(60)
    timed.update("incident", vpn, {"comments": "Renewed your profile"}, user_name="pat.agent")
    clock.advance(1)
    # Written by the integration user for Alice: the text says whose it is.
    alices = {"comments": "Alice Example (by text): when?"}
    timed.update("incident", monitor, alices, user_name=DEFAULT_USERNAME)
    found = await InstanceChanges(client, ids_per_query=1).comments(
        {vpn: "2026-12-02 10:01:00", monitor: SEEDED}
    )
    assert found == [
        InstanceComment(
            vpn, "Renewed your profile", "Pat Agent", "2026-12-02 10:02:00", "pat.agent"
        ),
        InstanceComment(
            monitor,
            "Alice Example (by text): when?",
            "Textdesk Integration",
            "2026-12-02 10:02:01",
            DEFAULT_USERNAME,
        ),
    ]
