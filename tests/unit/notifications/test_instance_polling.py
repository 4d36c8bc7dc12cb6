"""Polling an instance's incidents turns their changes into the caller's texts, in memory."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from textdesk.domain.records import Record
from textdesk.domain.servicenow_events import InstanceEvent
from textdesk.notifications.instance_events import InstanceEvents, Received
from textdesk.notifications.instance_polling import InstancePolling
from textdesk.testing.admin import FakeReadingUnitOfWork
from textdesk.testing.clock import FixedClock
from textdesk.testing.effects import LinkedViews
from textdesk.testing.instance_changes import FakeIncidentChanges
from textdesk.testing.notifications import (
    FakeCallerPhones,
    FakeInstancePolling,
    FakeTemplates,
    NotificationTables,
    StoredUser,
    fake_instance_events,
    fake_instance_polling,
)

DESK = "+15550100100"
ALICE = StoredUser(1, "Alice Example", "+15551230001")
ALICE_SYS_ID = "alice"
EVERY = timedelta(seconds=60)
TEMPLATES = {
    "state_changed": "{{ record.number }} is now {{ event.to }}: {{ record.short_description }}",
    "commented": "{{ record.number }}: {{ event.author }} said {{ event.body }}",
    "assigned": "{{ record.number }} is with {{ event.to or 'the queue' }}",
}
T0 = "2026-12-02 05:00:00"
INTEGRATION = "textdesk.integration"  # who textdesk writes as on the instance


@dataclass
class InstanceRecords:
    """A ``RecordReader`` on the fake instance: its incidents, their callers named."""

    instance: FakeIncidentChanges

    async def get(self, number: str) -> Record | None:
        for incident in self.instance.incidents.values():
            if incident.number == number:
                record = InstanceEvent(
                    incident.sys_id, number, "state_changed", incident.caller_id, ""
                ).record(caller_phone=ALICE.phone, now=datetime.now(UTC))
                return replace(
                    record,
                    state=incident.state,
                    short_description=incident.short_description,
                    caller_name=ALICE.name if incident.caller_id == ALICE_SYS_ID else None,
                )
        return None


class FlakyEvents(InstanceEvents):
    """The real use case, failing (once) on the event it is told to (a crash mid-round)."""

    fail_on: str | None = None

    async def receive(self, event: InstanceEvent) -> Received:
        if event.event == self.fail_on:
            self.fail_on = None
            raise RuntimeError("the process died here")
        return await super().receive(event)


@dataclass
class Rig:
    tables: NotificationTables = field(default_factory=NotificationTables)
    clock: FixedClock = field(default_factory=FixedClock)
    instance: FakeIncidentChanges = field(default_factory=FakeIncidentChanges)
    events: FlakyEvents = field(init=False)
    polling: InstancePolling = field(init=False)
    uow: FakeReadingUnitOfWork[NotificationTables, FakeInstancePolling] = field(init=False)

    def __post_init__(self) -> None:
        self.tables.numbers.append(DESK)
        self.tables.users[ALICE.id] = ALICE
        self.tables.subscribed[ALICE.id] = True
        self.events = FlakyEvents(
            uow=fake_instance_events(self.tables),
            callers=FakeCallerPhones({ALICE_SYS_ID: str(ALICE.phone)}),
            records=InstanceRecords(self.instance),
            templates=FakeTemplates(TEMPLATES),
            views=LinkedViews(),
            clock=self.clock,
            integration_user=INTEGRATION,
        )
        self.uow = fake_instance_polling(self.tables)
        self.polling = self.poller()

    def poller(self) -> InstancePolling:
        return InstancePolling(
            uow=self.uow,
            instance=self.instance,
            events=self.events,
            clock=self.clock,
            every=EVERY,
        )

    async def round(self) -> None:
        """The next round, an interval after the last."""
        if self.tables.poll_due_at is not None:
            self.clock.set(max(self.clock.now(), self.tables.poll_due_at))
        await self.polling.run_once()

    def bodies(self) -> list[str]:
        return [t.body for t in self.tables.outbox]


def failed_rounds() -> float:
    found = REGISTRY.get_sample_value("textdesk_servicenow_polls_total", {"outcome": "failed"})
    return found or 0.0


def alices_vpn(rig: Rig, **fields: str) -> None:
    """Alice's incident on the instance, as it is when polling starts."""
    values = {
        "number": "INC0010001",
        "state": "In Progress",
        "caller_id": ALICE_SYS_ID,
        "short_description": "VPN drops",
        **fields,
    }
    rig.instance.change("vpn", T0, **values)


async def test_the_first_round_only_learns_and_texts_nobody_about_the_past() -> None:
    r = Rig()
    alices_vpn(r)
    r.instance.comment("vpn", "Have you tried turning it off?", author="Pat Agent", at=T0)
    await r.round()
    assert r.bodies() == []
    assert r.tables.instance_events == set()
    assert r.tables.poll_cursor == T0
    assert r.tables.snapshots["vpn"].state == "In Progress"
    await r.round()  # the same incident, unchanged: nothing is news
    assert r.bodies() == []


async def test_a_state_change_is_texted_once_and_the_next_round_texts_nothing_more() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:03:00", state="Resolved")
    await r.round()
    assert r.bodies() == ["INC0010001 is now Resolved: VPN drops"]
    assert r.tables.poll_cursor == "2026-12-02 05:03:00"
    await r.round()
    await r.round()
    assert len(r.bodies()) == 1


async def test_a_round_is_not_run_again_before_its_interval_nor_by_a_second_process() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:03:00", state="Resolved")
    r.clock.advance(EVERY.total_seconds() / 2)
    await r.polling.run_once()
    assert r.bodies() == []  # not due yet
    r.clock.advance(EVERY.total_seconds() / 2)
    other = r.poller()  # another process on the same tables
    await r.polling.run_once()
    await other.run_once()
    assert r.bodies() == ["INC0010001 is now Resolved: VPN drops"]
    assert r.instance.asked.count("changed_since") == 1


async def test_assignments_are_texted_with_the_assignees_name_and_unassigning_too() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:01:00", assigned_to="Pat Agent")
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:02:00", assigned_to="")
    await r.round()
    assert r.bodies() == ["INC0010001 is with Pat Agent", "INC0010001 is with the queue"]


async def test_new_comments_are_texted_each_with_its_author_but_not_the_callers_own() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.comment("vpn", "Renewed your profile", author="Pat Agent", at="2026-12-02 05:01:00")
    r.instance.comment(
        "vpn",
        "Alice Example (by text): still drops",
        author="Textdesk Integration",  # written for Alice: the text says so
        user_name=INTEGRATION,
        at="2026-12-02 05:01:30",
    )
    r.instance.comment(
        "vpn",
        "Alice Example (by text): not really Alice",
        author="Mallory Agent",  # someone on the instance, writing as if for her
        user_name="mallory",
        at="2026-12-02 05:01:40",
    )
    r.instance.comment("vpn", "Try now", author="Pat Agent", at="2026-12-02 05:02:00")
    await r.round()
    assert r.bodies() == [
        "INC0010001: Pat Agent said Renewed your profile",
        "INC0010001: Mallory Agent said Alice Example (by text): not really Alice",
        "INC0010001: Pat Agent said Try now",
    ]
    await r.round()
    assert len(r.bodies()) == 3


async def test_two_comments_saved_in_the_same_second_are_both_texted() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    at = "2026-12-02 05:01:00"
    r.instance.comment("vpn", "One", author="Pat Agent", user_name="pat", at=at)
    r.instance.comment("vpn", "Two", author="Pat Agent", user_name="pat", at=at)
    await r.round()
    await r.round()
    assert r.bodies() == ["INC0010001: Pat Agent said One", "INC0010001: Pat Agent said Two"]


async def test_a_change_later_in_the_cursors_own_second_is_read_and_the_rest_not_again() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    at = "2026-12-02 05:01:00"
    r.instance.comment("vpn", "First", author="Pat Agent", at=at)
    await r.round()
    r.instance.change("vpn", at, state="On Hold")  # in that same second, after the round read it
    await r.round()
    assert r.bodies() == [
        "INC0010001: Pat Agent said First",
        "INC0010001 is now On Hold: VPN drops",
    ]


async def test_a_change_both_posted_and_polled_is_texted_once() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:03:00", state="Resolved")
    posted = InstanceEvent(
        sys_id="vpn",
        number="INC0010001",
        event="state_changed",
        caller_id=ALICE_SYS_ID,
        sys_updated_on="2026-12-02 05:03:00",
        state="Resolved",
        short_description="VPN drops",
    )
    await r.events.receive(posted)
    await r.round()
    assert r.bodies() == ["INC0010001 is now Resolved: VPN drops"]


async def test_a_posted_change_is_not_texted_again_when_the_incident_changed_since() -> None:
    """The round reads the incident after a later edit (another sys_updated_on): the
    posted state change is what the round compares with, not news."""
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:03:00", state="Resolved")
    await r.events.receive(
        InstanceEvent(
            sys_id="vpn",
            number="INC0010001",
            event="state_changed",
            caller_id=ALICE_SYS_ID,
            sys_updated_on="2026-12-02 05:03:00",
            state="Resolved",
        )
    )
    r.instance.change("vpn", "2026-12-02 05:04:00", short_description="VPN drops (floor 2)")
    await r.round()
    assert len(r.bodies()) == 1


async def test_an_instance_that_is_down_loses_nothing_the_next_good_round_texts_it() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:03:00", state="Resolved")
    r.instance.down = True
    failed = failed_rounds()
    await r.round()
    assert failed_rounds() == failed + 1  # on /metrics
    assert r.bodies() == []
    assert r.tables.poll_cursor == T0  # not moved
    assert r.tables.poll_due_at == r.clock.now() + EVERY  # tried again next round
    r.instance.down = False
    await r.round()
    assert r.bodies() == ["INC0010001 is now Resolved: VPN drops"]


async def test_an_instance_down_at_the_first_round_is_asked_again_next_round() -> None:
    r = Rig()
    alices_vpn(r)
    r.instance.down = True
    await r.round()
    assert r.tables.poll_cursor is None
    r.instance.down = False
    await r.round()
    assert r.tables.poll_cursor == T0
    assert r.bodies() == []


async def test_a_round_that_dies_midway_is_read_again_and_texts_each_change_once() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change("vpn", "2026-12-02 05:03:00", state="Resolved")
    r.instance.comment("vpn", "Fixed, I think", author="Pat Agent", at="2026-12-02 05:04:00")
    r.events.fail_on = "comment_added"  # after the state change was texted
    await r.round()
    assert r.bodies() == ["INC0010001 is now Resolved: VPN drops"]
    assert r.tables.poll_cursor == T0
    await r.round()
    assert r.bodies() == [
        "INC0010001 is now Resolved: VPN drops",
        "INC0010001: Pat Agent said Fixed, I think",
    ]


async def test_an_incident_first_seen_later_is_learnt_and_only_its_comments_are_news() -> None:
    r = Rig()
    alices_vpn(r)
    await r.round()
    r.instance.change(
        "mouse",
        "2026-12-02 05:02:00",
        number="INC0010002",
        state="New",
        caller_id=ALICE_SYS_ID,
        short_description="Mouse",
    )
    r.instance.comment("mouse", "On its way", author="Pat Agent", at="2026-12-02 05:02:30")
    await r.round()
    assert r.bodies() == ["INC0010002: Pat Agent said On its way"]
    r.instance.change("mouse", "2026-12-02 05:05:00", state="Resolved")
    await r.round()
    assert r.bodies()[-1] == "INC0010002 is now Resolved: Mouse"


async def test_recently_closed_incidents_are_learnt_first_so_reopening_one_is_news() -> None:
    r = Rig()
    alices_vpn(r, state="Closed")
    r.instance.change("old", "2026-10-01 08:00:00", number="INC0010002", state="Closed")
    r.instance.closed |= {"vpn", "old"}
    r.clock.set(r.clock.now().replace(year=2026, month=12, day=10))
    await r.round()
    assert set(r.tables.snapshots) == {"vpn"}  # closed for over 30 days: not kept
    r.instance.change("vpn", "2026-12-10 09:30:00", state="In Progress")
    await r.round()
    assert r.bodies() == ["INC0010001 is now In Progress: VPN drops"]


async def test_an_incident_without_a_caller_is_followed_but_nobody_is_asked_about() -> None:
    r = Rig()
    r.instance.change("guest", T0, number="INC0010009", state="New")
    await r.round()
    r.instance.change("guest", "2026-12-02 05:01:00", state="Resolved")
    await r.round()
    assert r.tables.instance_events == set()
    assert r.tables.snapshots["guest"].state == "Resolved"
