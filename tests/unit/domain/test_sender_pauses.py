"""Sender pauses: when a number's sends are held, probed and resumed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.domain.sender_pauses import (
    PAUSE_AFTER_FAILURES,
    Gate,
    Pause,
    Streak,
    after_send,
    extend,
    gate,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NUMBER = "+15550100100"


def _streak(failures: int) -> Streak:
    streak = None
    for i in range(failures):
        streak = after_send(streak, failed=True, now=T0 + timedelta(seconds=i), error="HTTP 500")
    assert streak is not None
    return streak


def test_failures_in_a_row_make_a_streak_that_pauses() -> None:
    """Only the limit's worth of failures in a row pauses a number."""
    assert not _streak(PAUSE_AFTER_FAILURES - 1).pauses
    streak = _streak(PAUSE_AFTER_FAILURES)
    assert streak.pauses
    assert streak.since == T0
    assert streak.last_error == "HTTP 500"


def test_any_answer_that_is_not_a_transient_failure_ends_the_streak() -> None:
    """A success (or a permanent error: Twilio answered) starts the count again."""
    assert after_send(_streak(2), failed=False, now=T0) is None


def test_a_paused_number_is_held_then_probed() -> None:
    """Until the pause ends nothing goes; then one probe."""
    pause = Pause(NUMBER, T0, until=T0 + timedelta(seconds=10), failures=3)
    assert gate(None, T0) is Gate.SEND
    assert gate(pause, T0 + timedelta(seconds=9)) is Gate.HOLD
    assert gate(pause, T0 + timedelta(seconds=10)) is Gate.PROBE


def test_each_failed_probe_doubles_the_pause_up_to_the_cap() -> None:
    """The first pause waits like a first retry; failed probes wait longer, never past the cap."""
    streak = _streak(PAUSE_AFTER_FAILURES)
    pause = extend(None, number=NUMBER, streak=streak, now=T0, base=1.0, cap=8.0, jitter=0.999)
    waits = []
    for _ in range(6):
        waits.append(round((pause.until - T0).total_seconds()))
        pause = extend(pause, number=NUMBER, streak=streak, now=T0, base=1.0, cap=8.0, jitter=0.999)
    assert waits == [1, 2, 4, 8, 8, 8]
    assert pause.failing_since == T0
    assert pause.last_error == "HTTP 500"
