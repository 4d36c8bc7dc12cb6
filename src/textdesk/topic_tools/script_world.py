"""The outside world of a conversation script, in memory: records, media, live agents.

``textdesk topics test`` runs topics with no database and no server.  The effects
the virtual agent asks for are run by production's own runner
(``channel.effects.EffectRunner``), which decides what they mean; this module
only answers its ports (``ports.EffectScope``) from memory: records are real
``Record`` objects numbered ``INC0010001``… and shown through ``Record.as_dict``;
media of an ``image/*`` type is kept and anything else refused as ``not_image``;
a live agent is free only when the script says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from textdesk.channel.effects import comment_author
from textdesk.domain.agent.messages import EffectResult, MediaRef, Texter, Transfer
from textdesk.domain.records import (
    OPEN_STATES,
    Comment,
    NewRecord,
    Record,
    belongs_to,
    changes,
    new_record,
    number_for,
    parse_state,
)
from textdesk.ports import Attachment, EffectScope

__all__ = [
    "RECORD_URL",
    "WAIT_MINUTES",
    "MemoryRecords",
    "ScriptAgents",
    "ScriptMedia",
    "ScriptWorld",
]

RECORD_URL = "https://desk.example/r/{number}"
WAIT_MINUTES = 2  # the queue estimate when agents are available


class MemoryRecords:
    """The built-in record store, in memory (``ports.RecordStore``).

    ``names``: account names by user id, as the store reads a caller's name from
    their account.
    """

    remote = False

    def __init__(self, names: Mapping[int, str] | None = None) -> None:
        self.records: list[Record] = []
        self._names = dict(names or {})

    async def get(self, number: str) -> Record | None:
        wanted = number.upper()
        return next((r for r in self.records if r.number == wanted), None)

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        mine = [
            r
            for r in reversed(self.records)
            if r.state in OPEN_STATES and belongs_to(r, user_id=user_id, phone=phone)
        ]
        return mine[:limit]

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        return self.add(record, now=now)

    def add(
        self,
        record: NewRecord,
        *,
        now: datetime,
        assigned_to: str | None = None,
        comments: Sequence[Comment] = (),
    ) -> Record:
        """Store ``record`` as opened at ``now``, numbered after the ones before it."""
        record_id = len(self.records) + 1
        stored = Record(
            id=record_id,
            number=number_for(record_id),
            short_description=record.short_description,
            description=record.description,
            category=record.category,
            state=record.state,
            urgency=record.urgency,
            priority=record.priority,
            caller_id=record.caller_id,
            caller_name=self._names.get(record.caller_id) if record.caller_id else None,
            caller_phone=record.caller_phone,
            assigned_to=assigned_to,
            opened_at=now,
            updated_at=now,
            comments=tuple(comments),
            attachments=record.attachments,
        )
        self.records.append(stored)
        return stored

    async def update(
        self, number: str, fields: Mapping[str, Any], *, now: datetime
    ) -> Record | None:
        before = await self.get(number)
        if before is None:
            return None
        changed = changes(before, dict(fields))
        if not changed:
            return before
        return self._replace(before, dataclasses.replace(before, **changed, updated_at=now))

    async def add_comment(
        self,
        number: str,
        *,
        author: str,
        body: str,
        now: datetime,
        public: bool = True,
        may_repeat: bool = False,  # in memory, in the turn: made once
    ) -> Record | None:
        before = await self.get(number)
        if before is None:
            return None
        comment = Comment(author, body, now, public)
        return self._replace(
            before,
            dataclasses.replace(before, comments=(*before.comments, comment), updated_at=now),
        )

    def _replace(self, before: Record, after: Record) -> Record:
        self.records[self.records.index(before)] = after
        return after


class ScriptMedia:
    """The attachments of the text being answered, by content type (``ports.TurnMedia``).

    Images are kept under ``att/1``, ``att/2``… in the order they are fetched; the
    rest are refused as ``not_image``.
    """

    def __init__(self) -> None:
        self.arrived: tuple[MediaRef, ...] = ()
        self._kept = 0

    async def fetch(self) -> list[Attachment]:
        out = []
        for media in self.arrived:
            if media.content_type.lower().startswith("image/"):
                self._kept += 1
                out.append(Attachment(media.content_type, key=f"att/{self._kept}"))
            else:
                out.append(Attachment(media.content_type, error="not_image"))
        return out


@dataclasses.dataclass(frozen=True)
class ScriptAgents:
    """Live agents as the script has them: free (queued, a short wait) or not."""

    available: bool = False

    async def request(self, transfer: Transfer) -> EffectResult:
        if self.available:
            return EffectResult(value={"status": "queued", "wait_minutes": WAIT_MINUTES})
        return EffectResult(value={"status": "unavailable"})


class ScriptWorld:
    """A script's texter and their world; ``now`` is set by the runner each step."""

    def __init__(
        self,
        texter: Texter,
        *,
        now: datetime,
        agents_available: bool = False,
        zone: tzinfo = UTC,
    ) -> None:
        self.texter = texter
        self.now = now
        self.zone = zone  # the desk's timezone, as records show their dates
        names = {texter.user_id: texter.name} if texter.user_id and texter.name else {}
        self.store = MemoryRecords(names)
        self.media = ScriptMedia()
        self.agents = ScriptAgents(agents_available)

    @property
    def records(self) -> list[Record]:
        """Every record of the world, oldest first."""
        return self.store.records

    # --- setting the scene ----------------------------------------------------------

    def add_record(
        self,
        *,
        short_description: str,
        description: str = "",
        category: str | None = None,
        state: str = "New",
        urgency: Any = 3,
        assigned_to: str | None = None,
        comments: tuple[str, ...] = (),
        attachments: tuple[str, ...] = (),
    ) -> Record:
        """A record the texter opened; raises ``InvalidRecord`` for a bad state or urgency."""
        opened = new_record(
            short_description=short_description,
            description=description,
            category=category or None,
            urgency=urgency,
            caller_id=self.texter.user_id,
            caller_phone=self.texter.phone,
            attachments=attachments,
        )
        author = comment_author(self.texter)
        return self.store.add(
            dataclasses.replace(opened, state=parse_state(state)),
            now=self.now,
            assigned_to=assigned_to,
            comments=[Comment(author, body, self.now) for body in comments],
        )

    # --- the ports of a turn ----------------------------------------------------------

    def view(self, record: Record) -> dict[str, Any]:
        """A record as the texter is shown it (``ports.RecordViewer``)."""
        return record.as_dict(url=RECORD_URL.format(number=record.number), zone=self.zone)

    def scope(self, media: tuple[MediaRef, ...] = ()) -> EffectScope:
        """The ports of one turn, now, for a text carrying ``media``."""
        self.media.arrived = media
        return EffectScope(
            texter=self.texter,
            now=self.now,
            records=self.store,
            media=self.media,
            agents=self.agents,
        )
