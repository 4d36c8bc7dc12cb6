"""Login throttling rules (pure): how many tries, how long to wait."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class LoginThrottle:
    """At most ``limit`` failed logins per key (email or address) in ``window`` seconds."""

    limit: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked_for(self, key: str, now: float, limit: int | None = None) -> float:
        """Seconds until ``key`` may try again (0 when it may try now)."""
        times = self._recent(key, now)
        if len(times) < (limit or self.limit):
            return 0.0
        return self.window - (now - times[0])

    def failed(self, key: str, now: float) -> None:
        self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
