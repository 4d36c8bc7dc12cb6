"""Our Twilio numbers and what each is for."""

from __future__ import annotations

import asyncio
import time

from textdesk.domain.phones import to_e164
from textdesk.ports import Clock, NumberRepositories, NumberRow, ReadingUnitOfWork

PURPOSES = ("conversational", "notify")


class NumberConflict(ValueError):
    """A number would serve two integrations."""


class Numbers:
    """Configures, lists and removes our numbers: one purpose per number."""

    def __init__(self, uow: ReadingUnitOfWork[NumberRepositories], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def add(self, *, phone: str, purpose: str) -> str:
        """Configure ``phone`` for ``purpose``; refuse a second purpose for any number."""
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}")
        e164 = to_e164(phone)
        async with self._uow.begin() as repos:
            existing = await repos.numbers.get(e164)
            if existing is not None:
                if existing.purpose == purpose:
                    return e164
                raise NumberConflict(
                    f"{e164} is already configured for {existing.purpose}; a number used by "
                    "the conversational channel must not be shared with another integration. "
                    "Use a separate number."
                )
            await repos.numbers.add(e164, purpose, self._clock.now())
        return e164

    async def all(self) -> list[NumberRow]:
        """Every configured number, in the order they were added."""
        async with self._uow.read() as repos:
            return await repos.numbers.all()

    async def remove(self, e164: str) -> bool:
        """Stop using a number (E.164); whether it was configured."""
        async with self._uow.begin() as repos:
            return await repos.numbers.remove(e164)


class NumberDirectory:
    """Which numbers the conversational channel answers on, cached briefly.

    The webhook checks every request; a few seconds of staleness after
    ``numbers add`` is a fair price for not querying on the hot path.
    """

    def __init__(
        self, uow: ReadingUnitOfWork[NumberRepositories], *, ttl_seconds: float = 5.0
    ) -> None:
        self._uow = uow
        self._ttl = ttl_seconds
        self._loaded_at = float("-inf")
        self._conversational: frozenset[str] = frozenset()
        self._all: dict[str, str] = {}
        self._reloading = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._uow.read() as repos:
            rows = await repos.numbers.all()
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
