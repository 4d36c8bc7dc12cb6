"""Delivery rules: what is retried, how long we wait, which way statuses move."""

from __future__ import annotations

import pytest

from textdesk.domain.delivery import (
    Outcome,
    SendResult,
    backoff_seconds,
    classify,
    describe_error,
    moves_forward,
)


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (SendResult(201, sid="SM1", status="queued"), Outcome.ACCEPTED),
        (SendResult(500, error_code=20500), Outcome.RETRY),
        (SendResult(503), Outcome.RETRY),
        (SendResult(None, error_message="timed out"), Outcome.RETRY),
        (SendResult(429, error_code=20429), Outcome.RETRY),
        (SendResult(400, error_code=21211), Outcome.FAILED),
        (SendResult(400, error_code=21614), Outcome.FAILED),
        (SendResult(400, error_code=21610), Outcome.OPTED_OUT),
        (SendResult(400, error_code=21611), Outcome.RETRY),
        (SendResult(401, error_code=20003), Outcome.FAILED),
    ],
)
def test_classify(result: SendResult, outcome: Outcome) -> None:
    """Server errors, timeouts and throttling are retried; invalid numbers are not."""
    assert classify(result) is outcome


def test_backoff_grows_and_is_capped() -> None:
    """Each attempt waits about twice as long, never more than the cap."""
    waits = [backoff_seconds(n, base=1.0, cap=30.0, jitter=1.0) for n in range(1, 8)]
    assert waits[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert waits[-1] == 30.0


def test_backoff_jitter_spreads_retries() -> None:
    """Jitter keeps a wait between half and all of the exponential ceiling."""
    assert backoff_seconds(3, base=1.0, jitter=0.0) == 2.0
    assert backoff_seconds(3, base=1.0, jitter=0.999) == pytest.approx(4.0, rel=0.01)


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
