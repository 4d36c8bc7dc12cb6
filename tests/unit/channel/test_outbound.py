"""The dispatcher on in-memory repositories: retries, lost answers, pacing, opt-outs, give-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from textdesk.channel.outbound import Dispatcher
from textdesk.domain.delivery import LookupFailed, SendResult
from textdesk.ports import NewMessage
from textdesk.testing.clock import FixedClock
from textdesk.testing.sending import (
    FakeGateway,
    FakeMediaLinks,
    FakePacer,
    FakeSending,
    fake_sending,
)
from textdesk.testing.tables import FakeTables, FakeUnitOfWork

DESK = "+15550100100"
OTHER_DESK = "+15550100200"
TEXTER = "+15551230001"
LEASE = timedelta(seconds=60)


@dataclass
class Rig:
    uow: FakeUnitOfWork[FakeTables, FakeSending]
    gateway: FakeGateway
    pacer: FakePacer
    clock: FixedClock

    @property
    def tables(self) -> FakeTables:
        return self.uow.tables

    def dispatcher(self, *, rate_per_number: float = 0.5, max_attempts: int = 6) -> Dispatcher:
        return Dispatcher(
            uow=self.uow,
            gateway=self.gateway,
            clock=self.clock,
            signer=FakeMediaLinks(),
            status_callback=None,
            rate_per_number=rate_per_number,
            max_attempts=max_attempts,
            # First retry after half a second (jitter 0), then doubling.
            retry_base_seconds=1.0,
            retry_max_seconds=8.0,
            give_up_after=timedelta(hours=4),
            lease=LEASE,
            pacer=self.pacer,
            jitter=lambda: 0.0,
            pauses_fresh_for=0.0,
        )

    async def enqueue(
        self, body: str, *, to: str = TEXTER, from_: str = DESK, age: timedelta = timedelta()
    ) -> int:
        async with self.uow.begin() as uow:
            [outbox_id] = await uow.outbox.enqueue(
                [NewMessage(to, from_, body)], self.clock.now() - age
            )
        return outbox_id


def rig() -> Rig:
    return Rig(fake_sending(), FakeGateway(), FakePacer(), FixedClock())


async def test_a_failed_send_is_retried_once_its_backoff_has_passed() -> None:
    """A 500 puts the text back in line; it is not tried again before its backoff ends."""
    r = rig()
    outbox_id = await r.enqueue("hello")
    r.gateway.answers.extend([SendResult(500, error_code=20500), SendResult(503)])
    dispatcher = r.dispatcher()

    assert await dispatcher.run_once() == 1
    text = r.tables.text(outbox_id)
    assert (text.status, text.next_attempt_at) == (
        "pending",
        r.clock.now() + timedelta(seconds=0.5),
    )
    assert await dispatcher.run_once() == 0  # still backing off
    r.clock.advance(0.5)
    assert await dispatcher.run_once() == 1
    # The second failure waits twice as long.
    assert r.tables.text(outbox_id).next_attempt_at == r.clock.now() + timedelta(seconds=1)
    r.clock.advance(1)
    assert await dispatcher.run_once() == 1
    assert r.tables.text(outbox_id).status == "queued"
    assert len(r.gateway.calls) == 3


async def test_a_send_whose_answer_was_lost_is_not_sent_twice() -> None:
    """A claim whose process died is asked about first; Twilio had it, so no second copy."""
    r = rig()
    outbox_id = await r.enqueue("hello")
    async with r.uow.begin() as uow:
        await uow.outbox.claim_due(now=r.clock.now(), lease=LEASE, limit=10, per_sender=1)
    r.gateway.accept_earlier(to=TEXTER, from_=DESK, body="hello", sid="SMlost")
    r.clock.advance(LEASE.total_seconds() + 1)  # the dead process's lease lapses

    assert await r.dispatcher().run_once() == 1
    assert r.gateway.lookups == [(TEXTER, DESK, "hello")]
    assert r.gateway.calls == []
    text = r.tables.text(outbox_id)
    assert (text.status, text.twilio_sid) == ("queued", "SMlost")


async def test_a_timed_out_send_is_checked_before_it_is_sent_again() -> None:
    """No answer, maybe taken: the next attempt asks Twilio, and sends only if it was not."""
    r = rig()
    outbox_id = await r.enqueue("hello")
    r.gateway.answers.append(SendResult(None, error_message="read timeout", ambiguous=True))
    dispatcher = r.dispatcher()
    await dispatcher.run_once()
    assert r.tables.text(outbox_id).status == "in_doubt"

    r.clock.advance(0.5)
    await dispatcher.run_once()
    assert r.gateway.lookups == [(TEXTER, DESK, "hello")]
    assert len(r.gateway.calls) == 2  # not found: sent again, once
    assert r.tables.text(outbox_id).status == "queued"


async def test_a_text_twilio_cannot_account_for_is_neither_resent_nor_given_up() -> None:
    """When the lookup fails, the text stays in doubt and is asked about again later."""
    r = rig()
    outbox_id = await r.enqueue("hello")
    r.gateway.answers.append(SendResult(None, error_message="read timeout", ambiguous=True))
    dispatcher = r.dispatcher()
    await dispatcher.run_once()
    r.gateway.lookup_error = LookupFailed("503 from Twilio")

    for _ in range(3):
        r.clock.advance(10)
        await dispatcher.run_once()
    text = r.tables.text(outbox_id)
    assert text.status == "in_doubt"
    assert "checking an earlier attempt" in (text.error_message or "")
    assert len(r.gateway.calls) == 1
    assert len(r.gateway.lookups) == 3


async def test_each_number_sends_at_its_own_pace() -> None:
    """A batch claims at most two seconds' worth per number; every send takes its slot."""
    r = rig()
    for i in range(4):
        await r.enqueue(f"from one {i}", to=f"+1555123100{i}", from_=DESK)
        await r.enqueue(f"from other {i}", to=f"+1555123200{i}", from_=OTHER_DESK)

    assert await r.dispatcher(rate_per_number=1.0).run_once() == 4
    assert sorted(c.from_ for c in r.gateway.calls) == [DESK, DESK, OTHER_DESK, OTHER_DESK]
    assert sorted(r.pacer.reserved) == [DESK, DESK, OTHER_DESK, OTHER_DESK]


async def test_later_texts_to_one_person_wait_for_the_earlier_one() -> None:
    """Texts to one texter leave in order: the second is not claimed while the first retries."""
    r = rig()
    first = await r.enqueue("first")
    await r.enqueue("second")
    r.gateway.answers.append(SendResult(500, error_code=20500))
    dispatcher = r.dispatcher(rate_per_number=5.0)

    assert await dispatcher.run_once() == 1
    r.clock.advance(0.5)
    assert await dispatcher.run_once() == 1
    assert [c.body for c in r.gateway.calls] == ["first", "first"]
    assert r.tables.text(first).status == "queued"
    assert await dispatcher.run_once() == 1
    assert [c.body for c in r.gateway.calls][-1] == "second"


async def test_a_21610_fails_the_text_and_records_the_opt_out() -> None:
    """Twilio's "unsubscribed recipient" is final: no retry, and the number is noted opted out."""
    r = rig()
    outbox_id = await r.enqueue("hello")
    r.gateway.answers.append(SendResult(400, error_code=21610, error_message="unsubscribed"))
    dispatcher = r.dispatcher()

    await dispatcher.run_once()
    r.clock.advance(3600)
    assert await dispatcher.run_once() == 0
    assert r.tables.text(outbox_id).status == "failed"
    assert r.tables.optouts == {TEXTER: "21610"}


async def test_a_text_the_send_check_refuses_is_canceled_not_sent() -> None:
    """A notification whose texter opted out after it was queued is canceled with the reason."""
    r = rig()
    refused = await r.enqueue("your ticket was updated", to=TEXTER)
    kept = await r.enqueue("hello", to="+15551230002")
    r.tables.blocked[refused] = "opted_out"

    assert await r.dispatcher(rate_per_number=5.0).run_once() == 1
    assert [c.to for c in r.gateway.calls] == ["+15551230002"]
    assert (r.tables.text(refused).status, r.tables.text(refused).error_message) == (
        "canceled",
        "opted_out",
    )
    assert r.tables.text(kept).status == "queued"


async def test_a_text_queued_too_long_ago_is_given_up_on_its_next_failure() -> None:
    """Past the give-up window a transient failure is final, with the reason staff read."""
    r = rig()
    outbox_id = await r.enqueue("hello", age=timedelta(hours=4))
    r.gateway.answers.append(SendResult(500, error_code=20500, error_message="Internal"))

    await r.dispatcher().run_once()
    text = r.tables.text(outbox_id)
    assert text.status == "failed"
    assert (text.error_message or "").startswith("gave up: Twilio kept failing for 4 h 00 min")


async def test_a_failing_number_is_paused_and_its_old_texts_given_up() -> None:
    """Three failures in a row pause the number; texts held past the window are given up."""
    r = rig()
    old = await r.enqueue("old", to="+15551230009", age=timedelta(hours=5))
    for i in range(3):
        await r.enqueue(f"text {i}", to=f"+1555123000{i}")
    r.gateway.answers.extend(SendResult(500, error_code=20500) for _ in range(3))
    r.tables.text(old).next_attempt_at = r.clock.now() + timedelta(hours=1)  # backing off
    dispatcher = r.dispatcher()

    for _ in range(3):
        await dispatcher.run_once()
    assert DESK in r.tables.pauses
    assert r.tables.text(old).status == "failed"
    # Paused: nothing more is attempted while the pause lasts.
    assert await dispatcher.run_once() == 0
    assert len(r.gateway.calls) == 3
