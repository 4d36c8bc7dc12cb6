"""A clock that stands still until a test moves it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FixedClock:
    """A ``Clock`` that stands still until told to move; always UTC and tz-aware."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current fake time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards; use set()")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (tz-aware), in either direction."""
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        with self._lock:
            self._now = moment.astimezone(UTC)


class AheadClock:
    """A ``Clock`` that runs with real time, ahead of it by what a test moved it.

    For a running desk whose loops must go on (texts are sent, webhooks stamped) while
    a test skips the wait before a retry: ``advance`` moves it on, never back.
    """

    def __init__(self) -> None:
        self._ahead = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._ahead

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._ahead += timedelta(seconds=seconds)
        return self.now()
