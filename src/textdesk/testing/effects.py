"""Fakes of what ``channel.effects.EffectRunner`` reaches through ``ports.EffectScope``.

The record store's in-memory twin is ``topic_tools.script_world.MemoryRecords``, the one
``textdesk topics test`` runs on, so it is not repeated here.
"""

from __future__ import annotations

from collections.abc import (
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any

from textdesk.domain.agent.messages import EffectResult, Transfer
from textdesk.domain.records import Record
from textdesk.ports import (
    Attachment,
)


class LinkedViews:
    """A ``RecordViewer``: records as texters see them, linked by their number."""

    def view(self, record: Record) -> dict[str, Any]:
        return record.as_dict(url=f"https://desk.example/r/{record.number}")


@dataclass
class FixedMedia:
    """A ``TurnMedia``: the text's attachments, as fetched before its turn."""

    attachments: Sequence[Attachment] = ()

    async def fetch(self) -> Sequence[Attachment]:
        return self.attachments


@dataclass
class RecordingTransferDesk:
    """A ``TransferDesk`` that answers ``status`` and keeps every transfer asked of it."""

    status: str = "queued"
    asked: list[Transfer] = field(default_factory=list)

    async def request(self, transfer: Transfer) -> EffectResult:
        self.asked.append(transfer)
        return EffectResult(value={"status": self.status})
