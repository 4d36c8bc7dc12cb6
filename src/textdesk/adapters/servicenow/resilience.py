"""When to try a ServiceNow call again, and when to stop calling for a while.

Pure rules, no I/O: :class:`RetryPolicy` says whether an answer is worth another
try and how long to wait first (``Retry-After`` honoured); :class:`Breaker` stops
calls to an instance that keeps failing, so each texter is told at once that the
record system is unavailable instead of waiting out every timeout.

The bounds are a texter's: a turn waits on the call (``domain/agent/awaiting.py``),
and that loop tries the whole effect again after 2, 4, 8 seconds itself, so one
call gives up after a few seconds in all rather than holding the turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Worth another try: the instance is busy, rate-limiting, or a proxy before it is.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# The answers that say the instance did not carry the request out, so that even a
# call that is not idempotent (a create, an upload, a journal comment) may be sent
# again.  429: the rate limit rules and the semaphore queue turn a request away
# before its transaction starts.  503: what a node out of service answers (starting,
# upgrading, hibernating) and what the load balancer answers with no node to hand
# the request to, in both cases before anything runs; it is the one judgment call
# here (an instance that answered 503 after a commit would get a create twice), made
# because a node that is down answers 503 far more often than anything else does.
# A 500, 502 or 504, like a timeout, may come after the commit: such a call is not
# sent again here, and its caller looks before trying again (``record_store``).
NOT_CARRIED_OUT = frozenset({429, 503})


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date); None if absent or bad."""
    if value is None or not (text := value.strip()):
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` tries of one call, waiting ``base``·2ⁿ between them (at
    most ``cap``), and never more than ``budget`` seconds of waiting in all."""

    attempts: int = 3
    base: float = 0.25
    cap: float = 2.0
    budget: float = 4.0

    def delay(self, *, tries: int, waited: float, retry_after: float | None) -> float | None:
        """The wait before try ``tries + 1``, after ``tries`` failed ones and ``waited``
        seconds of waiting so far; None: give up now.

        A ``Retry-After`` is obeyed as given (waiting less would only earn another
        429), so one longer than the budget left means giving up, not trying early.
        """
        if tries >= self.attempts:
            return None
        wait = (
            retry_after if retry_after is not None else min(self.cap, self.base * 2 ** (tries - 1))
        )
        if waited + wait > self.budget:
            return None
        return wait


@dataclass
class Breaker:
    """Opens after ``threshold`` failures in a row; while open, calls fail at once.

    After ``cool_down`` seconds one call is let through (half open): its success
    closes the breaker, its failure opens it for another ``cool_down``.  ``clock``
    gives monotonic seconds.
    """

    clock: Callable[[], float]
    threshold: int = 5
    cool_down: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    _probing: bool = False

    def allow(self) -> bool:
        """Whether a call may go out now."""
        if self.opened_at is None:
            return True
        if self._probing or self.clock() - self.opened_at < self.cool_down:
            return False
        self._probing = True  # the one probe of a half-open breaker
        return True

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._probing = False

    def failed(self) -> None:
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None
