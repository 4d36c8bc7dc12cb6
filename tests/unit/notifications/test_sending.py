"""Queueing notifications on in-memory repositories: who gets one, from which number,
how a bulk send reaches the dispatcher, and what the history explains."""

from __future__ import annotations

from dataclasses import dataclass, field

from textdesk.channel.outbound import Dispatcher
from textdesk.notifications.sending import (
    MAX_SEGMENTS,
    Draft,
    NotificationHistory,
    Report,
    deliver,
    render_body,
)
from textdesk.ports import NOTIFICATION_KIND
from textdesk.testing.clock import FixedClock
from textdesk.testing.notifications import (
    FakeDelivery,
    NotificationTables,
    StoredUser,
    fake_delivery,
)
from textdesk.testing.sending import FakeGateway, FakeMediaLinks, FakePacer, FakeSending
from textdesk.testing.tables import FakeUnitOfWork

DESK = "+15550100100"
OTHER_DESK = "+15550100200"


@dataclass
class Rig:
    uow: FakeUnitOfWork[NotificationTables, FakeDelivery] = field(default_factory=fake_delivery)
    clock: FixedClock = field(default_factory=FixedClock)

    def __post_init__(self) -> None:
        self.tables.numbers.append(DESK)

    @property
    def tables(self) -> NotificationTables:
        return self.uow.tables

    def account(self, user_id: int, *, subscribed: bool = True, phone: str | None = "") -> int:
        number = f"+1555123{user_id:04d}" if phone == "" else phone
        self.tables.users[user_id] = StoredUser(user_id, f"User {user_id}", number)
        self.tables.subscribed[user_id] = subscribed
        return user_id

    async def send(self, *user_ids: int, body: str = "Your incident changed") -> Report:
        drafts = [Draft(user_id=u, body=body, source="api") for u in user_ids]
        async with self.uow.begin() as repos:
            return await deliver(repos, drafts, self.clock.now())


async def test_a_bulk_send_queues_the_subscribed_and_counts_the_others_by_reason() -> None:
    r = Rig()
    ids = [r.account(i) for i in range(1, 6)]
    r.account(6, subscribed=False)
    r.account(7, phone=None)
    r.account(8)
    r.tables.optouts["+15551230008"] = "keyword"

    report = await r.send(*ids, 6, 7, 8, 99)

    assert report.queued == 5
    assert report.skipped == {"not_subscribed": 1, "no_phone": 1, "opted_out": 1, "unknown": 1}
    assert sorted(t.to_phone for t in r.tables.outbox) == [f"+1555123{i:04d}" for i in ids]
    decisions = {n.decision.user_id: n.decision for n in r.tables.notifications}
    assert sorted(decisions) == [1, 2, 3, 4, 5, 6, 7, 8]  # an unknown id has no history
    assert (decisions[6].status, decisions[6].reason) == ("skipped", "not_subscribed")
    assert decisions[1].outbox_id == r.tables.outbox[0].id


async def test_a_bulk_send_goes_through_the_outbox_so_the_dispatcher_paces_it() -> None:
    """None is sent on the spot: each is a notification text the dispatcher takes in
    turn, reserving one slot of the sending number per text."""
    r = Rig()
    ids = [r.account(i) for i in range(1, 11)]
    await r.send(*ids)
    assert {(t.kind, t.from_phone, t.status) for t in r.tables.outbox} == {
        (NOTIFICATION_KIND, DESK, "pending")
    }

    gateway, pacer = FakeGateway(), FakePacer()
    dispatcher = Dispatcher(
        uow=FakeUnitOfWork(r.tables, FakeSending),
        gateway=gateway,
        clock=r.clock,
        signer=FakeMediaLinks(),
        status_callback=None,
        rate_per_number=1.0,
        max_attempts=6,
        retry_base_seconds=1.0,
        pacer=pacer,
        jitter=lambda: 0.0,
        pauses_fresh_for=0.0,
    )
    batches = []
    while sent := await dispatcher.run_once():
        batches.append(sent)
    assert max(batches) == 2  # the pace: no more claimed per number than it allows
    assert pacer.reserved == [DESK] * 10
    assert len(gateway.calls) == 10


async def test_a_notification_comes_from_the_number_the_texter_last_talked_to() -> None:
    r = Rig()
    r.account(1)
    r.account(2)
    r.tables.latest_number["+15551230002"] = OTHER_DESK
    await r.send(1, 2)
    assert {t.to_phone: t.from_phone for t in r.tables.outbox} == {
        "+15551230001": DESK,
        "+15551230002": OTHER_DESK,
    }


async def test_without_a_conversational_number_nothing_is_queued() -> None:
    r = Rig()
    r.tables.numbers.clear()
    r.account(1)
    report = await r.send(1)
    assert report.skipped == {"no_number": 1}
    assert r.tables.outbox == []


async def test_a_body_that_renders_empty_is_skipped_not_sent() -> None:
    r = Rig()
    r.account(1)
    assert (await r.send(1, body="")).skipped == {"empty": 1}
    assert r.tables.outbox == []


def test_a_body_is_made_gsm_safe_and_cut_to_twilios_limit() -> None:
    body = render_body("“{{ params.word }}” " + "more " * 400, {"params": {"word": "hi"}})
    assert body.startswith('"hi" more')
    assert len(body) <= 153 * MAX_SEGMENTS


async def test_the_history_explains_why_a_notification_was_not_sent() -> None:
    r = Rig()
    r.account(1, subscribed=False)
    await r.send(1)
    r.tables.subscribed[1] = True
    await r.send(1, body="second")
    r.tables.outbox[0].status, r.tables.outbox[0].error_code = "undelivered", 30003

    entries = await NotificationHistory(uow=r.uow).of(1, limit=50, offset=0)

    assert entries is not None
    assert [(e.body, e.status) for e in entries] == [
        ("second", "undelivered"),
        ("Your incident changed", "skipped"),
    ]
    assert entries[1].explanation == "notifications are off for this account"
    assert entries[0].explanation  # the carrier's error, in words


async def test_the_history_of_an_unknown_account_is_none() -> None:
    assert await NotificationHistory(uow=Rig().uow).of(5, limit=50, offset=0) is None
