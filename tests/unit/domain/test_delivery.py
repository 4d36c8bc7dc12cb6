"""Delivery rules: what is retried, how long we wait, which way statuses move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from textdesk.domain.delivery import (
    SendOutcome,
    SendResult,
    backoff_seconds,
    classify,
    describe_error,
    gave_up_reason,
    gives_up,
    is_opt_out,
    moves_forward,
    next_status_check,
)


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (SendResult(201, sid="SM1", status="queued"), SendOutcome.ACCEPTED),
        (SendResult(500, error_code=20500), SendOutcome.RETRY),
        (SendResult(503), SendOutcome.RETRY),
        (SendResult(None, error_message="timed out"), SendOutcome.RETRY),
        (SendResult(429, error_code=20429), SendOutcome.RETRY),
        (SendResult(400, error_code=21211), SendOutcome.FAILED),
        (SendResult(400, error_code=21614), SendOutcome.FAILED),
        (SendResult(400, error_code=21610), SendOutcome.OPTED_OUT),
        (SendResult(400, error_code=21611), SendOutcome.RETRY),
        (SendResult(429, error_code=30001), SendOutcome.RETRY),
        (SendResult(400, error_code=30008), SendOutcome.UNKNOWN),
        (SendResult(401, error_code=20003), SendOutcome.FAILED),
    ],
)
def test_twilio_busy_or_unreachable_is_retried_a_refused_number_is_not(
    result: SendResult, outcome: SendOutcome
) -> None:
    """Server errors, timeouts and throttling are retried; invalid numbers are not."""
    assert classify(result) is outcome


def test_only_21610_counts_as_an_opt_out() -> None:
    """A STOP refusal marks the number; other refusals, or none, do not."""
    assert is_opt_out(21610)
    assert not is_opt_out(21614)
    assert not is_opt_out(None)


def test_backoff_grows_and_is_capped() -> None:
    """Each attempt waits about twice as long, never more than the cap."""
    waits = [backoff_seconds(n, base=1.0, cap=30.0, jitter=1.0) for n in range(1, 8)]
    assert waits[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert waits[-1] == 30.0


def test_backoff_jitter_spreads_retries() -> None:
    """Jitter keeps a wait between half and all of the exponential ceiling."""
    assert backoff_seconds(3, base=1.0, jitter=0.0) == 2.0
    assert backoff_seconds(3, base=1.0, jitter=0.999) == pytest.approx(4.0, rel=0.01)


def test_backoff_cap_is_the_operators_setting() -> None:
    """The cap (TEXTDESK_RETRY_MAX_SECONDS) bounds every wait, however many attempts."""
    assert backoff_seconds(40, base=0.05, cap=0.4, jitter=0.999) < 0.4
    assert backoff_seconds(40, base=1.0, cap=300.0, jitter=0.0) == 150.0


def test_transient_failures_are_retried_until_the_window_closes() -> None:
    """The give-up window counts from when the text was queued, not from attempts."""
    queued = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    window = timedelta(hours=4)
    assert not gives_up(queued, queued + timedelta(hours=3, minutes=59), window)
    assert gives_up(queued, queued + timedelta(hours=4), window)


def test_a_given_up_text_says_why() -> None:
    """Staff read how long Twilio failed and its last answer."""
    reason = gave_up_reason(timedelta(hours=4), "Internal Server Error")
    assert reason == (
        "gave up: Twilio kept failing for 4 h 00 min after the text was queued "
        "(last: Internal Server Error)"
    )
    assert "for 0 min 02 s" in gave_up_reason(timedelta(seconds=2), None)


def test_status_checks_space_out_as_a_message_ages() -> None:
    """Asked after the setting at first, then after as long as the message has been out."""
    sent = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    after = timedelta(minutes=10)
    soon = sent + timedelta(minutes=10)
    assert next_status_check(sent, soon, after) == soon + after
    later = sent + timedelta(hours=3)
    assert next_status_check(sent, later, after) == later + timedelta(hours=3)


@pytest.mark.parametrize(
    ("current", "new", "forward"),
    [
        ("queued", "sent", True),
        ("sent", "delivered", True),
        ("delivered", "sent", False),
        ("delivered", "delivered", False),
        ("undelivered", "sent", False),
        ("claimed", "queued", True),
        ("delivered", "read", True),
    ],
)
def test_status_only_moves_forward(current: str, new: str, forward: bool) -> None:
    """A late callback cannot move a message back in its life."""
    assert moves_forward(current, new) is forward


def test_error_codes_are_explained() -> None:
    """Staff see what a Twilio error code means."""
    assert describe_error(21610) == "recipient opted out (texted STOP)"
    assert describe_error(99999) == "Twilio error 99999"
    assert describe_error(None) is None
