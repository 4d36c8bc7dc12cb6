"""A text's turn waiting on a record system in another service (ServiceNow, …).

A remote record store is not called inside the transaction that writes a turn: a
slow instance would hold SQLite's only writer, or PostgreSQL's locks on the
conversation, and the webhook would wait with it.  So the turn stops before such an
effect: its replies so far and its state commit, and the effect, with its place in
the turn, is kept on the inbox row as an :class:`Awaiting`.  The inbox loop runs
the effect with no transaction open, then resumes the turn in a new one.

``number`` is the effect's place among the turn's effects (1 for the first).  With
the text's MessageSid it makes the effect's key: a call retried after a crash carries
the same key, so the remote store can find what the first call already did (a
record created once, not twice).  The MessageSid, not the inbox row's id: ids start
again in a restored or second database pointed at the same instance, sids do not.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from textdesk.domain.agent.messages import (
    AddComment,
    CreateRecord,
    Effect,
    EffectResult,
    GetRecord,
    QueryRecords,
    UpdateRecord,
)

# What a record store is asked; the only effects that can wait on another service.
RECORD_EFFECTS: tuple[type[Effect], ...] = (
    QueryRecords,
    GetRecord,
    CreateRecord,
    UpdateRecord,
    AddComment,
)
_BY_NAME = {cls.__name__: cls for cls in RECORD_EFFECTS}

# A failing remote call is tried again after 2, 4, 8 … seconds, this many times in
# all; then the turn goes on with the failure, and the topic says what it says when a
# record cannot be reached (a texter is not left waiting for minutes).
MAX_ATTEMPTS = 4
# A waiting row is claimed by one process for this long before it calls the remote
# store: longer than a call with its own retries takes (about 16 s at worst), so two
# processes never make the same call at once; a process that dies frees it after this.
CLAIM_SECONDS = 60
UNAVAILABLE = "unavailable"
# A new record the store never answered for is not given up: it is kept and made
# once the store is back (``records/backlog.py``); the topic says so and ends.
PENDING = "pending"


@dataclass(frozen=True)
class Awaiting:
    """A remote effect a turn stopped before, as kept on its inbox row."""

    effect: Effect
    number: int
    attempts: int = 0  # failed calls so far
    retry_at: datetime | None = None

    def key(self, message_sid: str) -> str:
        """This effect's key: the same for every try of the same effect of the same text."""
        return f"textdesk-{message_sid}-{self.number}"

    def due(self, now: datetime) -> bool:
        return self.retry_at is None or self.retry_at <= now

    def failed(self, now: datetime) -> Awaiting | None:
        """After a failed call: when to try again, or None when the turn should go on."""
        attempts = self.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            return None
        return Awaiting(self.effect, self.number, attempts, now + timedelta(seconds=2**attempts))

    def to_dict(self) -> dict[str, Any]:
        effect = {f.name: getattr(self.effect, f.name) for f in fields(self.effect)}
        return {
            "effect": type(self.effect).__name__,
            "args": {k: list(v) if isinstance(v, tuple) else v for k, v in effect.items()},
            "number": self.number,
            "attempts": self.attempts,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Awaiting:
        kind = _BY_NAME[data["effect"]]
        args = {
            f.name: tuple(data["args"][f.name])
            if isinstance(data["args"].get(f.name), list)
            else data["args"][f.name]
            for f in fields(kind)
            if f.name in data["args"]
        }
        retry_at = data.get("retry_at")
        return cls(
            kind(**args),
            int(data["number"]),
            int(data.get("attempts", 0)),
            datetime.fromisoformat(retry_at) if retry_at else None,
        )


def gave_up() -> EffectResult:
    """What the turn resumes with when the remote store could not be reached."""
    return EffectResult(ok=False, error=UNAVAILABLE)


def kept_for_later() -> EffectResult:
    """What a turn resumes with when its new record is kept to be made later."""
    return EffectResult(ok=False, error=PENDING)
