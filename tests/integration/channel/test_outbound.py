"""The dispatcher through a Twilio outage, on its own clock: retried, paused, probed, given up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, NUMBER
from textdesk.adapters.db import outbox as outbox_store
from textdesk.adapters.db import repositories
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.send_pacing import LocalPacer
from textdesk.adapters.signed_urls import MediaUrlSigner
from textdesk.adapters.twilio.rest import TwilioRestGateway
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.channel.outbound import Dispatcher
from textdesk.domain.sender_pauses import PAUSE_AFTER_FAILURES
from textdesk.testing.clock import FixedClock

BASE = 1.0  # first retry after half a second (jitter 0), doubling
CAP = 8.0
TEXTERS = [f"+1555123{i:04d}" for i in range(8)]


@dataclass
class Rig:
    db: AsyncEngine
    fake: FakeTwilio
    clock: FixedClock
    gateway: TwilioRestGateway

    def dispatcher(self, **extra: object) -> Dispatcher:
        options: dict[str, object] = {
            # 0.5/s: one text per number per batch, so each run_once is one attempt.
            "rate_per_number": 0.5,
            "max_attempts": 6,
            "retry_base_seconds": BASE,
            "retry_max_seconds": CAP,
            "give_up_after": timedelta(hours=4),
            "pauses_fresh_for": 0.0,
            **extra,
        }
        return Dispatcher(
            uow=repositories.sending(self.db),
            gateway=self.gateway,
            clock=self.clock,
            signer=MediaUrlSigner(
                secret_key="k" * 40, public_url="http://127.0.0.1:9", ttl_seconds=3600
            ),
            status_callback=None,
            pacer=LocalPacer(1000.0),
            jitter=lambda: 0.0,
            **options,  # type: ignore[arg-type]  # the keyword arguments above, typed there
        )

    async def enqueue(self, to: str, body: str, *, age: timedelta = timedelta()) -> int:
        async with self.db.begin() as conn:
            [outbox_id] = await outbox_store.enqueue(
                conn, [outbox_store.NewMessage(to, NUMBER, body)], self.clock.now() - age
            )
        return outbox_id

    async def rows(self) -> list[tuple[int, str, str | None]]:
        async with self.db.connect() as conn:
            found = await conn.execute(
                text("SELECT id, status, error_message FROM outbox ORDER BY id")
            )
            return [(r.id, r.status, r.error_message) for r in found]

    def failed_attempts(self) -> int:
        return len([a for a in self.fake.attempts if a.status == 500])


@pytest.fixture
async def rig(database_url: str, fake_twilio: FakeTwilio) -> AsyncIterator[Rig]:
    db = create_engine(database_url)
    async with httpx.AsyncClient(timeout=5) as client:
        gateway = TwilioRestGateway(
            client, api_url=fake_twilio.base_url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
        )
        yield Rig(db, fake_twilio, FixedClock(), gateway)
    await db.dispose()


async def test_an_outage_pauses_the_number_then_one_probe_at_a_time(rig: Rig) -> None:
    """After three failures in a row nothing more is sent until the pause ends; then one."""
    for texter in TEXTERS:
        await rig.enqueue(texter, f"reply to {texter}")
    rig.fake.start_outage(3600)
    dispatcher = rig.dispatcher()
    for _ in range(PAUSE_AFTER_FAILURES):
        assert await dispatcher.run_once() == 1
    # Paused: every other text is due, yet none goes, however often the loop runs.
    for _ in range(5):
        assert await dispatcher.run_once() == 0
    assert rig.failed_attempts() == PAUSE_AFTER_FAILURES
    # The first pause lasts as long as a first retry (half of BASE with this jitter).
    rig.clock.advance(BASE / 2)
    assert await dispatcher.run_once() == 1
    assert await dispatcher.run_once() == 0
    assert rig.failed_attempts() == PAUSE_AFTER_FAILURES + 1
    # The failed probe doubled the pause: half a base more is not enough.
    rig.clock.advance(BASE / 2)
    assert await dispatcher.run_once() == 0
    rig.clock.advance(BASE / 2)
    assert await dispatcher.run_once() == 1
    assert rig.failed_attempts() == PAUSE_AFTER_FAILURES + 2


async def test_every_text_goes_once_after_an_outage_longer_than_six_attempts(rig: Rig) -> None:
    """Hours of 500s: nothing fails, and each texter gets their reply once when Twilio is back."""
    for texter in TEXTERS:
        await rig.enqueue(texter, f"reply to {texter}")
    rig.fake.start_outage(3600)
    dispatcher = rig.dispatcher()
    # Five minutes in steps of the cap: far past six attempts of any text (15 s).
    for _ in range(int(5 * 60 / CAP)):
        await dispatcher.run_once()
        rig.clock.advance(CAP)
    assert {status for _, status, _ in await rig.rows()} == {"pending"}
    rig.fake.end_outage()
    for _ in range(3 * len(TEXTERS)):
        await dispatcher.run_once()
        rig.clock.advance(BASE)
    for texter in TEXTERS:
        assert [m.body for m in rig.fake.messages_to(texter)] == [f"reply to {texter}"]
    assert {status for _, status, _ in await rig.rows()} == {"queued"}


async def test_texts_resume_at_once_when_the_probe_succeeds(rig: Rig) -> None:
    """Backed-off texts do not sit out their own backoff once Twilio answers again."""
    for texter in TEXTERS[:4]:
        await rig.enqueue(texter, "hi")
    rig.fake.start_outage(3600)
    dispatcher = rig.dispatcher()
    for _ in range(PAUSE_AFTER_FAILURES):
        await dispatcher.run_once()
    rig.fake.end_outage()
    rig.clock.advance(BASE / 2)  # the pause is over; the failed texts wait until later
    for _ in range(4):
        await dispatcher.run_once()
    assert len(rig.fake.messages) == 4


async def test_a_text_queued_longer_ago_than_the_window_fails_with_the_reason(rig: Rig) -> None:
    """A transient failure of a text older than the give-up window is final, and says why."""
    old = await rig.enqueue(TEXTERS[0], "too late", age=timedelta(hours=4, minutes=1))
    fresh = await rig.enqueue(TEXTERS[1], "still worth it")
    rig.fake.start_outage(3600)
    dispatcher = rig.dispatcher(rate_per_number=5)
    await dispatcher.run_once()
    rows = {outbox_id: (status, error) for outbox_id, status, error in await rig.rows()}
    assert rows[old][0] == "failed"
    assert rows[old][1] == (
        "gave up: Twilio kept failing for 4 h 00 min after the text was queued "
        "(last: Internal Server Error)"
    )
    assert rows[fresh][0] == "pending"


async def test_texts_held_by_a_pause_are_given_up_after_the_window(rig: Rig) -> None:
    """A held text is never attempted, yet it does not wait past the window either."""
    for texter in TEXTERS[:4]:
        await rig.enqueue(texter, "hi")
    rig.fake.start_outage(3600)
    dispatcher = rig.dispatcher(give_up_after=timedelta(minutes=2))
    for _ in range(int(3 * 60 / CAP)):
        await dispatcher.run_once()
        rig.clock.advance(CAP)
    rows = await rig.rows()
    assert {status for _, status, _ in rows} == {"failed"}
    assert all(error and error.startswith("gave up: Twilio kept failing") for _, _, error in rows)
    assert not rig.fake.messages


async def test_a_permanent_error_fails_at_once_and_pauses_nothing(rig: Rig) -> None:
    """21211 is final on the first answer, and Twilio answering it is no outage."""
    for texter in TEXTERS[:4]:
        rig.fake.fail_next(texter, status=400, code=21211)
        await rig.enqueue(texter, "hi")
    dispatcher = rig.dispatcher()
    for _ in range(4):
        assert await dispatcher.run_once() == 1
    assert [status for _, status, _ in await rig.rows()] == ["failed"] * 4
    await rig.enqueue(TEXTERS[5], "still sent")
    assert await dispatcher.run_once() == 1
    assert [m.body for m in rig.fake.messages] == ["still sent"]


async def test_unknown_error_30008_is_tried_max_attempts_times(rig: Rig) -> None:
    """30008 keeps its bounded count (TEXTDESK_SEND_MAX_ATTEMPTS), not the window."""
    rig.fake.fail_next(TEXTERS[0], status=400, code=30008, times=10)
    await rig.enqueue(TEXTERS[0], "hi")
    dispatcher = rig.dispatcher(max_attempts=3)
    for _ in range(5):
        await dispatcher.run_once()
        rig.clock.advance(CAP)
    [(_, status, _)] = await rig.rows()
    assert status == "failed"
    assert len(rig.fake.attempts) == 3


async def test_a_pause_holds_every_dispatcher(rig: Rig) -> None:
    """The pause is in the database: another process's dispatcher sends nothing either."""
    for texter in TEXTERS:
        await rig.enqueue(texter, "hi")
    rig.fake.start_outage(3600)
    first, second = rig.dispatcher(), rig.dispatcher()
    for _ in range(PAUSE_AFTER_FAILURES):
        await first.run_once()
    assert await second.run_once() == 0
    rig.clock.advance(BASE / 2)
    # One probe between them: whoever takes it first.
    assert await second.run_once() + await first.run_once() == 1
    assert rig.failed_attempts() == PAUSE_AFTER_FAILURES + 1
