"""The outbox gauges /metrics serves: set from the backlog, kept when it cannot be read."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from textdesk.domain.sender_pauses import Pause
from textdesk.ops.outbox_gauges import OutboxGauges
from textdesk.ports import Backlog
from textdesk.testing.clock import FixedClock
from textdesk.testing.ops import FixedBacklog


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def backlog(clock: FixedClock, *, age: float | None, retrying: int = 0) -> Backlog:
    oldest = None if age is None else clock.now() - timedelta(seconds=age)
    return Backlog({"pending": 3, "claimed": 1, "in_doubt": 0}, oldest, retrying, [])


async def test_the_gauges_say_what_waits_by_state_and_for_how_long() -> None:
    clock = FixedClock()
    paused = Pause("+15550100100", clock.now(), clock.now() + timedelta(minutes=1), failures=3)
    waiting = backlog(clock, age=90, retrying=2)
    waiting.paused.append(paused)
    await OutboxGauges(FixedBacklog(waiting), clock).refresh()
    assert gauge("textdesk_outbox_waiting", state="pending") == 3
    assert gauge("textdesk_outbox_waiting", state="claimed") == 1
    assert gauge("textdesk_outbox_waiting", state="in_doubt") == 0
    assert gauge("textdesk_outbox_oldest_waiting_seconds") == 90
    assert gauge("textdesk_outbox_retrying") == 2
    assert gauge("textdesk_senders_paused") == 1


async def test_nothing_waiting_is_no_age_and_a_text_from_a_clock_ahead_is_not_negative() -> None:
    clock = FixedClock()
    await OutboxGauges(FixedBacklog(backlog(clock, age=None)), clock).refresh()
    assert gauge("textdesk_outbox_oldest_waiting_seconds") == 0
    await OutboxGauges(FixedBacklog(backlog(clock, age=-5)), clock).refresh()
    assert gauge("textdesk_outbox_oldest_waiting_seconds") == 0


async def test_a_database_that_does_not_answer_leaves_the_gauges_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FixedClock()
    await OutboxGauges(FixedBacklog(backlog(clock, age=30, retrying=4)), clock).refresh()
    with caplog.at_level(logging.WARNING):
        await OutboxGauges(FixedBacklog(None), clock).refresh()
    assert gauge("textdesk_outbox_retrying") == 4
    assert "outbox backlog for /metrics: database is locked" in caplog.text
