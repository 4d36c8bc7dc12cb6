"""Pacing sends per sender number."""

from __future__ import annotations

from textdesk.domain.send_pacing import TokenBucket


def test_one_per_second_spaces_sends() -> None:
    """At 1/s, three sends at once wait 0, 1 and 2 seconds."""
    bucket = TokenBucket(rate=1.0, burst=1.0, tokens=1.0, updated=100.0)
    assert [bucket.reserve(100.0) for _ in range(3)] == [0.0, 1.0, 2.0]


def test_tokens_refill_with_time_up_to_the_burst() -> None:
    """An idle number may send again at once, but never saves up more than the burst."""
    bucket = TokenBucket(rate=2.0, burst=1.0, tokens=1.0, updated=0.0)
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(10.0) == 0.0
    assert bucket.reserve(10.0) == 0.5
