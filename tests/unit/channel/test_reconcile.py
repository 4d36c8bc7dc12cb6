"""The reconciler on in-memory repositories: who is asked about, when, and what moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from textdesk.channel.reconcile import Reconciler
from textdesk.ports import WorkspaceEvent
from textdesk.testing.clock import FixedClock
from textdesk.testing.reconciling import FakeReconciling, fake_reconciling
from textdesk.testing.sending import FakeGateway
from textdesk.testing.tables import FakeTables, FakeUnitOfWork, StoredText

AFTER = timedelta(minutes=10)
DESK = "+15550100100"
TEXTER = "+15551230001"


@dataclass
class Rig:
    uow: FakeUnitOfWork[FakeTables, FakeReconciling] = field(default_factory=fake_reconciling)
    gateway: FakeGateway = field(default_factory=FakeGateway)
    clock: FixedClock = field(default_factory=FixedClock)
    events: list[WorkspaceEvent] = field(default_factory=list)

    def reconciler(self) -> Reconciler:
        async def publish(event: WorkspaceEvent) -> None:
            self.events.append(event)

        return Reconciler(
            uow=self.uow,
            gateway=self.gateway,
            clock=self.clock,
            after=AFTER,
            rate=1000.0,
            publish=publish,
        )

    def sent(self, outbox_id: int, *, conversation_id: int | None = 7) -> StoredText:
        """A text Twilio accepted now, at "sent", its callbacks yet to come."""
        now = self.clock.now()
        text = StoredText(
            outbox_id,
            TEXTER,
            DESK,
            "hello",
            (),
            "reply",
            conversation_id,
            now,
            status="sent",
            next_attempt_at=now,
            twilio_sid=f"SM{outbox_id:032x}",
            sent_at=now,
            updated_at=now,
        )
        self.uow.tables.outbox.append(text)
        self.gateway.status_now(str(text.twilio_sid), "sent")
        return text


async def test_a_text_with_no_news_for_ten_minutes_is_asked_about_and_moves_on() -> None:
    rig = Rig()
    text = rig.sent(1)
    rig.gateway.status_now(str(text.twilio_sid), "delivered")
    assert await rig.reconciler().run_once() == 0  # not yet: callbacks may still come
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler().run_once() == 1
    assert text.status == "delivered"
    assert rig.events == [WorkspaceEvent("status", 7)]


async def test_a_text_asked_about_is_not_asked_again_until_its_next_check() -> None:
    """Still "sent" on Twilio: the next question waits as long as the text has been out."""
    rig = Rig()
    rig.sent(1)
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler().run_once() == 1
    assert await rig.reconciler().run_once() == 0
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler().run_once() == 1
    rig.clock.advance(
        AFTER.total_seconds()
    )  # out 20 min by the last question: the next is 20 min on
    assert await rig.reconciler().run_once() == 0
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler().run_once() == 1
    assert rig.events == []  # nothing moved, nothing to show


async def test_a_lookup_twilio_cannot_answer_changes_nothing_and_is_asked_later() -> None:
    rig = Rig()
    text = rig.sent(1)
    rig.gateway.forget(str(text.twilio_sid))  # Twilio answers 404 for it
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler().run_once() == 1
    assert text.status == "sent"
    rig.gateway.status_now(str(text.twilio_sid), "undelivered", 30005)
    rig.clock.advance(AFTER.total_seconds())
    assert await rig.reconciler().run_once() == 1
    assert (text.status, text.error_code) == ("undelivered", 30005)


async def test_an_opt_out_learned_by_asking_is_kept_like_one_from_a_callback() -> None:
    rig = Rig()
    text = rig.sent(1, conversation_id=None)
    rig.gateway.status_now(str(text.twilio_sid), "failed", 21610)
    rig.clock.advance(AFTER.total_seconds())
    await rig.reconciler().run_once()
    assert rig.uow.tables.optouts == {TEXTER: "status_callback"}
    assert rig.events == []  # a text outside any conversation has no Workspace to tell
