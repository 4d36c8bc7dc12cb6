"""Fakes of what the phone simulator reads (``ports.SimulatorRepositories``).

The accounts and numbers are ``testing.admin``'s fakes on an ``AdminTables`` of its own;
the threads keep the SQL's order (by id, the newest ``limit`` shown oldest first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textdesk.ports import ReceivedText, SentText, StoredMedia
from textdesk.testing.admin import AdminTables, FakeNumbers, FakeReadingUnitOfWork, FakeUsers


@dataclass
class SimulatorTables:
    """What the simulator's fakes store; a test reads and arranges it directly."""

    admin: AdminTables = field(default_factory=AdminTables)
    # Rows in id order, each with the phones it is between.
    received: list[tuple[str, str, ReceivedText]] = field(default_factory=list)  # phone, number
    sent: list[tuple[str, SentText]] = field(default_factory=list)  # to phone
    images: dict[str, StoredMedia] = field(default_factory=dict)


class FakePhoneThreads:
    """``ports.PhoneThreads`` on ``SimulatorTables``."""

    def __init__(self, tables: SimulatorTables) -> None:
        self._t = tables

    async def received_from(self, *, phone: str, number: str, limit: int) -> list[ReceivedText]:
        mine = [text for p, n, text in self._t.received if (p, n) == (phone, number)]
        return mine[-limit:]

    async def sent_to(self, *, phone: str, limit: int) -> list[SentText]:
        return [text for to, text in self._t.sent if to == phone][-limit:]

    async def delivered_to(self, *, phone: str, after: int, limit: int) -> list[SentText]:
        return [
            text
            for to, text in self._t.sent
            if to == phone and text.id > after and text.twilio_sid is not None
        ][:limit]

    async def last_delivered_id(self, *, phone: str) -> int:
        ids = [t.id for to, t in self._t.sent if to == phone and t.twilio_sid is not None]
        return max(ids, default=0)

    async def media_of(self, message_sid: str) -> list[dict[str, Any]] | None:
        found = [t for _, _, t in self._t.received if t.message_sid == message_sid]
        return list(found[0].media) if found else None


class FakeImages:
    """``ports.ImageRepository`` on ``SimulatorTables.images``."""

    def __init__(self, tables: SimulatorTables) -> None:
        self._t = tables

    async def load(self, key: str) -> StoredMedia | None:
        return self._t.images.get(key)


class FakeSimulatorRepositories:
    """``ports.SimulatorRepositories`` on ``SimulatorTables``."""

    def __init__(self, tables: SimulatorTables) -> None:
        self.threads = FakePhoneThreads(tables)
        self.numbers = FakeNumbers(tables.admin)
        self.users = FakeUsers(tables.admin)
        self.images = FakeImages(tables)


def fake_simulator(
    tables: SimulatorTables | None = None,
) -> FakeReadingUnitOfWork[SimulatorTables, FakeSimulatorRepositories]:
    return FakeReadingUnitOfWork(tables or SimulatorTables(), FakeSimulatorRepositories)
