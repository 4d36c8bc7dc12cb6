"""Our Twilio numbers and what each is for."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db import directory
from textdesk.domain.phones import to_e164
from textdesk.ports import Clock

PURPOSES = ("conversational", "notify")


class NumberConflict(ValueError):
    """A number would serve two integrations."""


async def add_number(*, db: AsyncEngine, clock: Clock, phone: str, purpose: str) -> str:
    """Configure ``phone`` for ``purpose``; refuse a second purpose for any number."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}")
    e164 = to_e164(phone)
    async with db.begin() as conn:
        existing = await directory.get_number(conn, e164)
        if existing is not None:
            if existing.purpose == purpose:
                return e164
            raise NumberConflict(
                f"{e164} is already configured for {existing.purpose}; a number used by the "
                "conversational channel must not be shared with another integration. "
                "Use a separate number."
            )
        await directory.add_number(conn, e164, purpose, clock.now())
    return e164


class NumberDirectory:
    """Which numbers the conversational channel answers on, cached briefly.

    The webhook checks every request; a few seconds of staleness after
    ``numbers add`` is a fair price for not querying on the hot path.
    """

    def __init__(self, db: AsyncEngine, *, ttl_seconds: float = 5.0) -> None:
        self._db = db
        self._ttl = ttl_seconds
        self._loaded_at = float("-inf")
        self._conversational: frozenset[str] = frozenset()
        self._all: dict[str, str] = {}
        self._reloading = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._db.connect() as conn:
            rows = await directory.list_numbers(conn)
        self._all = {r.phone: r.purpose for r in rows}
        self._conversational = frozenset(
            p for p, purpose in self._all.items() if purpose == "conversational"
        )
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        """Reload once the cache is stale: one query, however many requests wait on it."""
        if time.monotonic() - self._loaded_at <= self._ttl:
            return
        async with self._reloading:
            if time.monotonic() - self._loaded_at > self._ttl:  # not done while we waited
                await self.refresh()

    async def is_conversational(self, phone: str) -> bool:
        await self._fresh()
        return phone in self._conversational

    async def purpose_of(self, phone: str) -> str | None:
        await self._fresh()
        return self._all.get(phone)
