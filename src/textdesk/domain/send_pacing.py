"""Pacing sends per sender number (Twilio: a US long code sends about 1 segment/s)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """A token bucket driven by the caller's clock (monotonic seconds)."""

    rate: float  # tokens per second
    burst: float = 1.0
    tokens: float = 1.0
    updated: float = 0.0

    def reserve(self, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; return how long to wait before using them (0 if none)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= cost
        if self.tokens >= 0:
            return 0.0
        return -self.tokens / self.rate
