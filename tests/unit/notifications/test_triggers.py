"""Record events and API requests turned into notifications, on in-memory repositories."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

from textdesk.domain.records import Record
from textdesk.notifications.triggers import (
    NotificationRequests,
    Notifier,
    NotifyError,
    Request,
)
from textdesk.ports import RecordEvent
from textdesk.testing.clock import FixedClock
from textdesk.testing.effects import LinkedViews
from textdesk.testing.notifications import (
    FakeNotifying,
    FakeTemplates,
    NotificationTables,
    StoredEvent,
    StoredUser,
    fake_notifying,
)
from textdesk.testing.sending import FakeOutbox
from textdesk.testing.tables import FakeUnitOfWork

DESK = "+15550100100"
ALICE = StoredUser(1, "Alice", "+15551230001")
TEMPLATES = {
    "state_changed": "{{ record.number }} is now {{ event.to }}, {{ user.name }}",
    "commented": "New comment on {{ record.number }}: {{ event.body }}",
    "costly": "{% for i in range(4000) %}{{ 'y' * 50 }}{% endfor %}",
}


@dataclass
class Rig:
    uow: FakeUnitOfWork[NotificationTables, FakeNotifying] = field(default_factory=fake_notifying)
    clock: FixedClock = field(default_factory=FixedClock)
    templates: FakeTemplates = field(default_factory=lambda: FakeTemplates(TEMPLATES))
    wakes: int = 0

    def __post_init__(self) -> None:
        self.tables.numbers.append(DESK)
        self.tables.users[ALICE.id] = ALICE
        self.tables.subscribed[ALICE.id] = True

    @property
    def tables(self) -> NotificationTables:
        return self.uow.tables

    def record(self, record_id: int = 10, **extra: Any) -> Record:
        now = self.clock.now()
        base = Record(
            id=record_id,
            number=f"INC{record_id:07d}",
            short_description="Printer jams",
            description="",
            category=None,
            state="new",
            urgency=3,
            priority=4,
            caller_id=ALICE.id,
            caller_name=ALICE.name,
            caller_phone=ALICE.phone,
            assigned_to=None,
            opened_at=now,
            updated_at=now,
        )
        record = replace(base, **extra)
        self.tables.records[record_id] = record
        return record

    def event(self, kind: str, record_id: int = 10, **data: Any) -> int:
        event_id = len(self.tables.events) + 1
        self.tables.events.append(
            StoredEvent(RecordEvent(event_id, record_id, kind, data, self.clock.now()))
        )
        return event_id

    def notifier(self) -> Notifier:
        def woken() -> None:
            self.wakes += 1

        return Notifier(
            uow=self.uow,
            clock=self.clock,
            templates=self.templates,
            views=LinkedViews(),
            on_enqueued=woken,
        )

    def requests(self) -> NotificationRequests:
        return NotificationRequests(
            uow=self.uow, templates=self.templates, views=LinkedViews(), clock=self.clock
        )

    def bodies(self) -> list[str]:
        return [t.body for t in self.tables.outbox]


async def test_a_record_change_notifies_its_caller_once() -> None:
    r = Rig()
    r.record()
    r.event("state_changed", to="resolved")
    notifier = r.notifier()

    assert await notifier.run_once() == 1
    assert r.bodies() == ["INC0000010 is now resolved, Alice"]
    assert r.wakes == 1
    r.clock.advance(5)
    assert await notifier.run_once() == 0  # handled in the transaction that queued it
    assert len(r.tables.outbox) == 1
    [decision] = [n.decision for n in r.tables.notifications]
    assert (decision.source, decision.template, decision.event_id) == ("event", "state_changed", 1)


async def test_an_event_kind_without_a_template_is_handled_without_a_text() -> None:
    """``created`` ships without a template: the texter who opened it has its card."""
    r = Rig()
    r.record()
    r.event("created")
    assert await r.notifier().run_once() == 1
    assert r.tables.outbox == []
    assert r.tables.events[0].handled_at == r.clock.now()
    assert r.wakes == 0


async def test_the_texter_is_not_notified_of_their_own_comment() -> None:
    r = Rig()
    r.record()
    r.event("commented", author=ALICE.name, body="still broken")
    r.event("commented", author="Ann (service desk)", body="on my way")
    await r.notifier().run_once()
    assert r.bodies() == ["New comment on INC0000010: on my way"]


async def test_a_record_naming_only_a_phone_notifies_the_account_with_that_phone() -> None:
    r = Rig()
    r.record(caller_id=None)
    r.record(11, caller_id=None, caller_phone="+15551239999")  # a guest
    r.event("state_changed", to="resolved")
    r.event("state_changed", 11, to="resolved")
    assert await r.notifier().run_once() == 2
    assert [t.to_phone for t in r.tables.outbox] == [ALICE.phone]


async def test_an_event_template_stopped_by_its_budget_sends_nothing() -> None:
    r = Rig()
    r.templates.sources["state_changed"] = TEMPLATES["costly"]
    r.record()
    r.event("state_changed", to="resolved")
    assert await r.notifier().run_once() == 1
    assert r.tables.outbox == []
    [decision] = [n.decision for n in r.tables.notifications]
    assert (decision.status, decision.reason) == ("skipped", "empty")


async def test_events_stay_pending_when_their_batch_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing is marked handled unless its texts are queued in the same transaction."""
    r = Rig()
    r.record()
    r.event("state_changed", to="resolved")

    async def lost(*args: object) -> list[int]:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(FakeOutbox, "enqueue", lost)
    with pytest.raises(ConnectionError):
        await r.notifier().run_once()
    assert r.tables.events[0].handled_at is None
    assert r.tables.outbox == []


async def test_the_api_sends_a_named_template_to_a_records_caller() -> None:
    r = Rig()
    r.record()
    report = await r.requests().send(
        Request(record_number="inc0000010", template="state_changed", params={"to": "closed"})
    )
    assert report.queued == 1
    assert r.bodies() == ["INC0000010 is now closed, Alice"]


async def test_the_api_counts_a_guest_caller_as_unknown() -> None:
    r = Rig()
    r.record(caller_id=None, caller_phone="+15551239999")
    report = await r.requests().send(Request(record_number="INC0000010", body="hi"))
    assert (report.queued, report.skipped) == (0, {"unknown": 1})


async def test_the_api_sends_once_to_an_account_named_twice() -> None:
    r = Rig()
    report = await r.requests().send(Request(user_ids=[1, 1], body="Hello {{ user.name }}"))
    assert report.queued == 1
    assert r.bodies() == ["Hello Alice"]


@pytest.mark.parametrize(
    ("request_", "field_"),
    [
        (Request(user_ids=[1], template="nope"), "template"),
        (Request(user_ids=[1]), "body"),
        (Request(user_ids=[1], body="{% if %}"), "body"),
        (Request(user_ids=[1], template="costly"), "template"),
        (Request(record_number="INC9", body="hi"), "record_number"),
    ],
)
async def test_the_api_refuses_a_request_it_cannot_send_and_queues_nothing(
    request_: Request, field_: str
) -> None:
    r = Rig()
    with pytest.raises(NotifyError) as refused:
        await r.requests().send(request_)
    assert refused.value.field == field_
    assert r.tables.outbox == []
    assert r.tables.notifications == []


async def test_a_batch_takes_at_most_its_size_and_the_rest_waits() -> None:
    r = Rig()
    r.record()
    for _ in range(3):
        r.event("state_changed", to="resolved")
    notifier = Notifier(
        uow=r.uow, clock=r.clock, templates=r.templates, views=LinkedViews(), batch_size=2
    )
    assert await notifier.run_once() == 2
    r.clock.advance(timedelta(seconds=1).total_seconds())
    assert await notifier.run_once() == 1
