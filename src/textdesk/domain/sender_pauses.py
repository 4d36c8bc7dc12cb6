"""When a sender number's sends pause: a Twilio that keeps failing is not hammered.

After ``PAUSE_AFTER_FAILURES`` transient failures in a row from one number, every
due text of that number is held until the pause ends; then one text goes first, as
a probe.  A probe that fails pauses the number again, for longer (the same capped
backoff as a text's own retries); any answer that shows Twilio working ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from textdesk.domain.delivery import backoff_seconds

# Few enough that an outage costs a handful of calls, enough that one unlucky 500
# (Twilio has those on good days) does not hold a number's texts up.
PAUSE_AFTER_FAILURES = 3


@dataclass(frozen=True)
class Streak:
    """Transient failures in a row from one number, as one process has seen them."""

    failures: int
    since: datetime
    last_error: str | None = None

    @property
    def pauses(self) -> bool:
        return self.failures >= PAUSE_AFTER_FAILURES


def after_send(
    streak: Streak | None, *, failed: bool, now: datetime, error: str | None = None
) -> Streak | None:
    """The streak after one more answer: a failure extends it, anything else ends it."""
    if not failed:
        return None
    if streak is None:
        return Streak(1, now, error)
    return Streak(streak.failures + 1, streak.since, error or streak.last_error)


@dataclass(frozen=True)
class Pause:
    """A number whose sends are held (shared by every dispatcher through the database)."""

    number: str
    failing_since: datetime
    until: datetime
    # Failures that set or extended the pause: the exponent of the next wait.
    failures: int
    last_error: str | None = None


class Gate(Enum):
    SEND = "send"  # not paused: paced as usual
    HOLD = "hold"  # paused: nothing goes
    PROBE = "probe"  # the pause is over: one text goes, to see whether Twilio is back


def gate(pause: Pause | None, now: datetime) -> Gate:
    """What a number's due texts may do now."""
    if pause is None:
        return Gate.SEND
    return Gate.HOLD if now < pause.until else Gate.PROBE


def extend(
    pause: Pause | None,
    *,
    number: str,
    streak: Streak,
    now: datetime,
    base: float,
    cap: float,
    jitter: float,
) -> Pause:
    """The pause after a streak reached the limit, or after a failed probe."""
    if pause is None:
        failures, since = streak.failures, streak.since
    else:
        failures, since = pause.failures + 1, min(pause.failing_since, streak.since)
    # The first pause waits as long as the text's first retry; each failed probe doubles it.
    wait = backoff_seconds(failures - PAUSE_AFTER_FAILURES + 1, base=base, cap=cap, jitter=jitter)
    return Pause(
        number=number,
        failing_since=since,
        until=now + timedelta(seconds=wait),
        failures=failures,
        last_error=streak.last_error or (pause.last_error if pause else None),
    )
