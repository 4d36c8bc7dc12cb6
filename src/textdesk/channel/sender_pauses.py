"""The dispatcher's side of sender pauses: what it holds, probes, pauses and resumes.

The rule is ``domain/sender_pauses.py``; the pauses live in the database
(``ports.SenderPauseRepository``) so every dispatcher holds the same numbers.  Failures in
a row are counted per process: each sees its own answers, and a few per process
are enough to tell an outage from a bad moment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from textdesk.domain.delivery import gave_up_reason
from textdesk.domain.sender_pauses import Gate, Pause, Streak, after_send, extend, gate
from textdesk.ports import SendingRepositories

log = logging.getLogger(__name__)


class SenderPauses:
    """One dispatcher's view of paused numbers, and its own failure streaks."""

    def __init__(
        self,
        *,
        retry_base_seconds: float,
        retry_max_seconds: float,
        give_up_after: timedelta,
        lease: timedelta,
        jitter: Callable[[], float],
        fresh_for: float,
    ) -> None:
        self._base = retry_base_seconds
        self._cap = retry_max_seconds
        self._give_up_after = give_up_after
        self._lease = lease
        self._jitter = jitter
        self._fresh_for = fresh_for
        self._streaks: dict[str, Streak] = {}
        self._known: dict[str, Pause] = {}
        self._read_at = -float("inf")
        # Per batch: the numbers probed, and those that failed during it.
        self._probing: set[str] = set()
        self._failed_now: set[str] = set()

    async def start_batch(
        self, uow: SendingRepositories, now: datetime
    ) -> tuple[set[str], set[str]]:
        """Numbers to hold this round, and those whose probe this dispatcher has taken.

        The pauses are read at most every ``fresh_for`` seconds: one small query
        less per batch on the hot path, for at most that long a delay in seeing
        another process's pause.
        """
        self._probing, self._failed_now = set(), set()
        if time.monotonic() - self._read_at >= self._fresh_for:
            self._known = await uow.pauses.load()
            self._read_at = time.monotonic()
        held: set[str] = set()
        for number, pause in self._known.items():
            if gate(pause, now) is Gate.PROBE and await uow.pauses.take_probe(
                number, now=now, hold_until=now + self._lease
            ):
                self._probing.add(number)
            else:
                held.add(number)
        return held, set(self._probing)

    async def return_unused(
        self, uow: SendingRepositories, claimed: set[str], now: datetime
    ) -> None:
        """Give back probes for which no text was due."""
        for number in self._probing - claimed:
            await uow.pauses.return_probe(number, now)
        self._probing &= claimed

    def note(self, number: str, *, failed: bool, now: datetime, error: str | None) -> None:
        """One send's answer: a transient failure extends the number's streak."""
        streak = after_send(self._streaks.get(number), failed=failed, now=now, error=error)
        if streak is None:
            self._streaks.pop(number, None)
        else:
            self._streaks[number] = streak
            self._failed_now.add(number)

    def holds(self, number: str) -> bool:
        """Whether ``number`` kept failing during this batch: its later sends wait.

        Only failures seen in this batch count, so a streak left from before a
        colleague process's successful probe holds nothing; a probe always goes.
        """
        streak = self._streaks.get(number)
        return (
            streak is not None
            and streak.pauses
            and number in self._failed_now
            and number not in self._probing
        )

    async def settle(self, uow: SendingRepositories, numbers: set[str], now: datetime) -> None:
        """After a batch: pause the numbers that kept failing, resume those that answered.

        Written only when a number's state changes (rare): a healthy batch adds no
        statement.
        """
        for number in numbers:
            streak = self._streaks.get(number)
            if streak is None:
                if number in self._known or number in self._probing:
                    if await uow.pauses.resume(number, now):
                        log.info("sends from %s resume: Twilio answers again", number)
                    self._known.pop(number, None)
            elif number in self._failed_now and (streak.pauses or number in self._probing):
                # A failed probe extends the pause whoever counted the streak before it.
                await self._pause(uow, number, streak, now)

    async def _pause(
        self, uow: SendingRepositories, number: str, streak: Streak, now: datetime
    ) -> None:
        pause = extend(
            self._known.get(number),
            number=number,
            streak=streak,
            now=now,
            base=self._base,
            cap=self._cap,
            jitter=self._jitter(),
        )
        await uow.pauses.save(pause, now)
        self._known[number] = pause
        log.warning(
            "sends from %s paused until %s: Twilio failing since %s (%s)",
            number,
            pause.until.isoformat(timespec="seconds"),
            pause.failing_since.isoformat(timespec="seconds"),
            pause.last_error,
        )
        # Held texts are never attempted, so the give-up window reaches them here.
        expired = await uow.outbox.fail_expired(
            number,
            queued_before=now - self._give_up_after,
            message=gave_up_reason(self._give_up_after, pause.last_error),
            now=now,
        )
        if expired:
            log.warning("%d texts from %s given up: queued too long ago", expired, number)
