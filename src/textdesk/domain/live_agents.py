"""Live-agent rules: opening hours, who gets the next chat, how long a texter waits.

An agent's *presence* is what they chose (available, away, offline); whether they are
*reachable* is whether a Workspace of theirs is connected: a live-updates stream
seen within the grace period.  Only an agent who is both is offered chats or counted
in a wait estimate, so closing the tab without signing out does not leave texters
waiting for nobody.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRESENCES = ("available", "away", "offline")
# A hand-off in one of these is the conversation's current one.
OPEN_STATUSES = ("waiting", "offered", "active")


class InvalidHours(ValueError):
    pass


def parse_hours(spec: dict[str, list[str]] | None) -> dict[str, tuple[time, time]] | None:
    """``{"mon": ["09:00", "17:00"], …}`` to times; None means always open."""
    if spec is None:
        return None
    parsed: dict[str, tuple[time, time]] = {}
    for day, window in spec.items():
        if day not in DAYS:
            raise InvalidHours(f"unknown day {day!r}; use {', '.join(DAYS)}")
        if len(window) != 2:
            raise InvalidHours(f"{day}: give [open, close] like ['09:00', '17:00']")
        try:
            start, end = (time.fromisoformat(w) for w in window)
        except ValueError as exc:
            raise InvalidHours(f"{day}: {exc}") from exc
        if end <= start:
            raise InvalidHours(f"{day}: closes before it opens")
        parsed[day] = (start, end)
    return parsed


def is_open(spec: dict[str, list[str]] | None, timezone: str, now: datetime) -> bool:
    """Whether a queue with these hours is open at ``now`` (hours are local to the queue)."""
    hours = parse_hours(spec)
    if hours is None:
        return True
    local = now.astimezone(ZoneInfo(timezone))
    window = hours.get(DAYS[local.weekday()])
    return window is not None and window[0] <= local.time() < window[1]


@dataclass(frozen=True)
class AgentLoad:
    """An agent as the assigner sees them."""

    id: int
    presence: str
    capacity: int
    active: int
    last_assigned_at: datetime | None
    reachable: bool = True

    @property
    def on_duty(self) -> bool:
        """Chose to be available, and has a Workspace connected."""
        return self.presence == "available" and self.reachable

    @property
    def has_room(self) -> bool:
        return self.on_duty and self.active < self.capacity


def pick_agent(agents: Sequence[AgentLoad], *, exclude: frozenset[int] = frozenset()) -> int | None:
    """The available agent with room and the fewest active chats; ties: idle longest."""
    eligible = [a for a in agents if a.has_room and a.id not in exclude]
    if not eligible:
        return None
    # Never assigned sorts first; then the oldest last assignment; id keeps it stable.
    best = min(
        eligible,
        key=lambda a: (
            a.active,
            a.last_assigned_at is not None,
            a.last_assigned_at.timestamp() if a.last_assigned_at else 0.0,
            a.id,
        ),
    )
    return best.id


def wait_minutes(position: int, free_slots: int, *, minutes_per_chat: float = 4.0) -> int:
    """A rough wait estimate for the texter at ``position`` (1 = next) in line.

    With free capacity the next texter is offered at once; otherwise each chat ahead
    takes about ``minutes_per_chat`` spread over the agents on duty.
    """
    if position <= free_slots:
        return 1
    ahead = position - free_slots
    return max(1, math.ceil(ahead * minutes_per_chat / max(1, free_slots or 1)))


def hours_from_text(text: str) -> dict[str, list[str]] | None:
    """``"mon-fri 09:00-17:00; sat 10:00-14:00"`` to the stored form; "always" → None."""
    if text.strip().lower() in ("", "always", "24/7"):
        return None
    result: dict[str, list[str]] = {}
    for part in text.split(";"):
        days, _, window = part.strip().partition(" ")
        start, _, end = window.strip().partition("-")
        first, _, last = days.lower().partition("-")
        if first not in DAYS or (last and last not in DAYS) or not start or not end:
            raise InvalidHours(f"cannot read {part.strip()!r}; write e.g. 'mon-fri 09:00-17:00'")
        i, j = DAYS.index(first), DAYS.index(last or first)
        for day in DAYS[i : j + 1]:
            result[day] = [start.strip(), end.strip()]
    parse_hours(result)
    return result
