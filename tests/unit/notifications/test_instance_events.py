"""Record events a ServiceNow instance posts, turned into notifications in memory."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from textdesk.domain.records import REMOTE_ID, Record
from textdesk.domain.servicenow_events import InstanceEvent
from textdesk.notifications.instance_events import InstanceEvents
from textdesk.testing.clock import FixedClock
from textdesk.testing.effects import LinkedViews
from textdesk.testing.notifications import (
    FakeCallerPhones,
    FakeInstanceEventRepositories,
    FakeTemplates,
    NotificationTables,
    StoredUser,
    fake_instance_events,
)
from textdesk.testing.tables import FakeUnitOfWork

DESK = "+15550100100"
ALICE = StoredUser(1, "Alice Example", "+15551230001")
ALICE_SYS_ID = "a1"
INTEGRATION_USER = "textdesk.integration"
TEMPLATES = {
    "state_changed": "${number} is now {{ event.to }}: {{ record.short_description }}",
    "commented": "{{ record.number }}: {{ event.author }} said {{ event.body }}",
}


class Records:
    """A ``RecordReader`` standing for the instance: one incident, or no answer."""

    def __init__(self, record: Record | None, *, down: bool = False) -> None:
        self.record = record
        self.down = down
        self.asked = 0

    async def get(self, number: str) -> Record | None:
        self.asked += 1
        if self.down:
            raise ConnectionError("the instance did not answer")
        return self.record if self.record and self.record.number == number else None


def incident(clock: FixedClock) -> Record:
    return Record(
        id=REMOTE_ID,
        external_id="inc1",
        number="INC0010001",
        short_description="VPN disconnects every hour",
        description="",
        category="network",
        state="Resolved",
        urgency=2,
        priority=3,
        caller_id=None,
        caller_name=ALICE.name,
        caller_phone=ALICE.phone,
        assigned_to=None,
        opened_at=clock.now(),
        updated_at=clock.now(),
    )


@dataclass
class Rig:
    uow: FakeUnitOfWork[NotificationTables, FakeInstanceEventRepositories] = field(
        default_factory=fake_instance_events
    )
    clock: FixedClock = field(default_factory=FixedClock)
    callers: FakeCallerPhones = field(
        default_factory=lambda: FakeCallerPhones({ALICE_SYS_ID: str(ALICE.phone)})
    )
    wakes: int = 0

    def __post_init__(self) -> None:
        self.uow.tables.numbers.append(DESK)
        self.uow.tables.users[ALICE.id] = ALICE
        self.uow.tables.subscribed[ALICE.id] = True

    def events(self, records: Records) -> InstanceEvents:
        def woken() -> None:
            self.wakes += 1

        return InstanceEvents(
            uow=self.uow,
            callers=self.callers,
            records=records,
            templates=FakeTemplates(TEMPLATES),
            views=LinkedViews(),
            clock=self.clock,
            integration_user=INTEGRATION_USER,
            on_enqueued=woken,
        )

    def bodies(self) -> list[str]:
        return [t.body for t in self.uow.tables.outbox]


STATE = InstanceEvent(
    sys_id="inc1",
    number="INC0010001",
    event="state_changed",
    caller_id=ALICE_SYS_ID,
    sys_updated_on="2026-12-02 05:00:00",
    state="Resolved",
)


async def test_a_state_change_texts_the_subscribed_caller_once() -> None:
    r = Rig()
    events = r.events(Records(incident(r.clock)))
    first = await events.receive(STATE)
    assert (first.duplicate, first.report.queued) == (False, 1)
    assert r.bodies() == ["INC0010001 is now Resolved: VPN disconnects every hour"]
    assert r.wakes == 1
    again = await events.receive(STATE)
    assert again.duplicate
    assert len(r.bodies()) == 1
    [decision] = [n.decision for n in r.uow.tables.notifications]
    assert (decision.source, decision.template, decision.record_id) == (
        "event",
        "state_changed",
        None,
    )


async def test_a_later_change_of_the_same_incident_is_another_event() -> None:
    r = Rig()
    events = r.events(Records(incident(r.clock)))
    await events.receive(STATE)
    await events.receive(replace(STATE, sys_updated_on="2026-12-02 05:01:00", state="Closed"))
    assert len(r.bodies()) == 2


async def test_two_comments_saved_in_the_same_second_both_notify_and_each_only_once() -> None:
    """sys_updated_on counts whole seconds: what the event says tells the two apart."""
    r = Rig()
    events = r.events(Records(incident(r.clock)))
    comment = replace(STATE, event="comment_added", state="", author="Beth Anglin")
    first, second = replace(comment, comment="Rebooted"), replace(comment, comment="Try now")
    for event in (first, second, first, second):
        await events.receive(event)
    assert r.bodies() == [
        "INC0010001: Beth Anglin said Rebooted",
        "INC0010001: Beth Anglin said Try now",
    ]


async def test_when_the_instance_cannot_be_read_the_text_is_made_from_the_event() -> None:
    r = Rig()
    report = await r.events(Records(None, down=True)).receive(
        replace(STATE, short_description="VPN drops")
    )
    assert report.report.queued == 1
    assert r.bodies() == ["INC0010001 is now Resolved: VPN drops"]


async def test_a_guest_or_an_unknown_user_gets_nothing_and_the_instance_is_not_asked() -> None:
    r = Rig()
    records = Records(incident(r.clock))
    unknown = await r.events(records).receive(replace(STATE, caller_id="nobody"))
    assert unknown.report.skipped == {"unknown": 1}
    r.callers.phones["guest"] = "+15559990000"  # on the instance, no account here
    guest = await r.events(records).receive(replace(STATE, caller_id="guest", sys_id="inc2"))
    assert guest.report.skipped == {"unknown": 1}
    assert r.bodies() == []
    assert records.asked == 1  # only for the guest, whose number was known


async def test_an_unsubscribed_caller_is_noted_as_skipped() -> None:
    r = Rig()
    r.uow.tables.subscribed[ALICE.id] = False
    received = await r.events(Records(incident(r.clock))).receive(STATE)
    assert received.report.skipped == {"not_subscribed": 1}
    assert r.bodies() == []
    assert r.wakes == 0


async def test_comments_name_their_author_and_the_callers_own_is_not_echoed() -> None:
    r = Rig()
    events = r.events(Records(incident(r.clock)))
    comment = replace(STATE, event="comment_added", state="", comment="")
    await events.receive(replace(comment, comment="Pat Agent (by text): Fixed"))
    own = await events.receive(
        replace(comment, comment="Alice Example (by text): still down", sys_updated_on="later")
    )
    assert own.report.skipped == {"own_comment": 1}
    assert r.bodies() == ["INC0010001: Pat Agent said Fixed"]


async def test_a_comment_someone_on_the_instance_signed_as_the_callers_reaches_the_caller() -> None:
    """Only what the integration user wrote for the caller is theirs; an agent's comment
    that begins with the caller's signature is the agent's, and is texted."""
    r = Rig()
    events = r.events(Records(incident(r.clock)))
    comment = replace(
        STATE, event="comment_added", state="", comment="Alice Example (by text): call me"
    )
    own = await events.receive(
        replace(comment, author="Textdesk Integration", author_user_name=INTEGRATION_USER)
    )
    assert own.report.skipped == {"own_comment": 1}
    agents = await events.receive(
        replace(comment, author="Fred Luddy", author_user_name="fred.luddy")
    )
    assert agents.report.queued == 1
    assert r.bodies() == ["INC0010001: Fred Luddy said Alice Example (by text): call me"]
