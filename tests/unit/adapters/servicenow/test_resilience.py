"""How long a ServiceNow call is retried, and when calls stop for a while."""

from __future__ import annotations

from datetime import UTC, datetime

from textdesk.adapters.servicenow.resilience import Breaker, RetryPolicy, parse_retry_after

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("3", NOW) == 3.0
    assert parse_retry_after("Wed, 02 Dec 2026 05:00:02 GMT", NOW) == 2.0
    assert parse_retry_after("Wed, 02 Dec 2026 04:59:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_waits_double_between_tries_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=5, base=0.25, cap=0.6, budget=10)
    waits = [policy.delay(tries=n, waited=0, retry_after=None) for n in (1, 2, 3, 4)]
    assert waits == [0.25, 0.5, 0.6, 0.6]


def test_no_try_beyond_the_last() -> None:
    assert RetryPolicy(attempts=3).delay(tries=3, waited=0, retry_after=None) is None


def test_a_retry_after_is_obeyed_as_given() -> None:
    assert RetryPolicy(cap=0.5, budget=4).delay(tries=1, waited=0, retry_after=2) == 2


def test_a_wait_past_the_budget_gives_up_instead_of_holding_the_texter() -> None:
    policy = RetryPolicy(attempts=10, budget=4)
    assert policy.delay(tries=1, waited=0, retry_after=30) is None
    assert policy.delay(tries=2, waited=3.9, retry_after=None) is None


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_consecutive_failures_only() -> None:
    breaker = Breaker(Ticks(), threshold=3, cool_down=30)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()  # a success in between: the count starts again
    breaker.failed()
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert breaker.is_open
    assert not breaker.allow()


def test_after_the_cool_down_one_probe_goes_out_and_its_success_closes() -> None:
    clock = Ticks()
    breaker = Breaker(clock, threshold=1, cool_down=30)
    breaker.failed()
    clock.now += 29
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()
    assert not breaker.allow()  # only one probe at a time
    breaker.succeeded()
    assert breaker.allow()
    assert breaker.allow()


def test_a_failed_probe_opens_the_breaker_for_another_cool_down() -> None:
    clock = Ticks()
    breaker = Breaker(clock, threshold=5, cool_down=30)
    for _ in range(5):
        breaker.failed()
    clock.now += 30
    assert breaker.allow()
    breaker.failed()
    clock.now += 29
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()
