"""The outside world of a conversation script, in memory: records, media, live agents.

``textdesk topics test`` runs topics with no database and no server, so the effects
the virtual agent asks for are answered here, the way the real services answer them
(``services.effects``): records are real ``Record`` objects numbered ``INC0010001``…
and shown through ``Record.as_dict`` so their shape cannot drift from production; the
texter only sees their own records; media of an ``image/*`` type is accepted and
anything else refused as ``not_image``; a live agent is free only when the script
says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from textdesk.domain.events import (
    AddComment,
    CreateRecord,
    Effect,
    EffectResult,
    FetchMedia,
    GetRecord,
    QueryRecords,
    RefusedMedia,
    Texter,
    Transfer,
    UpdateRecord,
)
from textdesk.domain.records import (
    Comment,
    InvalidRecord,
    Record,
    belongs_to,
    changes,
    new_record,
    number_for,
    parse_state,
)

__all__ = ["RECORD_URL", "WAIT_MINUTES", "ScriptWorld"]

RECORD_URL = "https://desk.example/r/{number}"
WAIT_MINUTES = 2  # the queue estimate when agents are available


class ScriptWorld:
    """Answers a script's effects in memory; ``now`` is set by the runner each step."""

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
        self.agents_available = agents_available
        self.records: list[Record] = []
        self.effects: list[Effect] = []  # every effect asked for, in order
        self._media_count = 0

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
        new = new_record(
            short_description=short_description,
            description=description,
            category=category or None,
            urgency=urgency,
            caller_id=self.texter.user_id,
            caller_phone=self.texter.phone,
            attachments=attachments,
        )
        record_id = len(self.records) + 1
        record = Record(
            id=record_id,
            number=number_for(record_id),
            short_description=new.short_description,
            description=new.description,
            category=new.category,
            state=parse_state(state),
            urgency=new.urgency,
            priority=new.priority,
            caller_id=new.caller_id,
            caller_name=self.texter.name,
            caller_phone=new.caller_phone,
            assigned_to=assigned_to,
            opened_at=self.now,
            updated_at=self.now,
            comments=tuple(Comment(self._author, body, self.now) for body in comments),
            attachments=new.attachments,
        )
        self.records.append(record)
        return record

    def find(self, number: str) -> Record | None:
        """The record with ``number`` (any case), whoever owns it."""
        wanted = number.strip().upper()
        return next((r for r in self.records if r.number == wanted), None)

    # --- answering effects ----------------------------------------------------------

    def __call__(self, effect: Effect) -> EffectResult:
        """Run one effect, as ``run_to_rest`` expects of a synchronous runner."""
        self.effects.append(effect)
        match effect:
            case QueryRecords(source="my_open_incidents"):
                # Newest first, as the built-in record store lists them.
                mine = [r for r in reversed(self.records) if self._owns(r) and r.is_open]
                return EffectResult(value=[self._view(r) for r in mine])
            case QueryRecords(source=source):
                return EffectResult(ok=False, error=f"unknown_source:{source}")
            case GetRecord(number=number):
                return self._found(number, lambda r: r)
            case CreateRecord(fields=fields, attachments=attachments):
                return self._create(fields, attachments)
            case UpdateRecord(number=number, fields=fields):
                return self._found(number, lambda r: _updated(r, fields))
            case AddComment(number=number, text=text):
                comment = Comment(self._author, text, self.now)
                return self._found(
                    number, lambda r: dataclasses.replace(r, comments=(*r.comments, comment))
                )
            case FetchMedia(media=media):
                return self._fetch(tuple(m.content_type for m in media))
            case Transfer():
                if self.agents_available:
                    return EffectResult(value={"status": "queued", "wait_minutes": WAIT_MINUTES})
                return EffectResult(value={"status": "unavailable"})
        return EffectResult(ok=False, error=f"unsupported:{type(effect).__name__}")

    @property
    def _author(self) -> str:
        return self.texter.name or self.texter.phone

    def _owns(self, record: Record) -> bool:
        """A texter only ever sees their own records over SMS (the production rule)."""
        return belongs_to(record, user_id=self.texter.user_id, phone=self.texter.phone)

    def _view(self, record: Record) -> dict[str, Any]:
        return record.as_dict(url=RECORD_URL.format(number=record.number), zone=self.zone)

    def _found(self, number: str, change: Callable[[Record], Record]) -> EffectResult:
        """Apply ``change`` (Record -> Record) to the texter's record ``number``."""
        record = self.find(number)
        if record is None or not self._owns(record):
            return EffectResult(ok=False, error="not_found")
        try:
            updated = change(record)
        except InvalidRecord as exc:
            return EffectResult(ok=False, error=str(exc))
        if updated is not record:
            updated = dataclasses.replace(updated, updated_at=self.now)
            self.records[self.records.index(record)] = updated
        return EffectResult(value=self._view(updated))

    def _create(self, fields: dict[str, Any], attachments: tuple[str, ...]) -> EffectResult:
        # Like the built-in store: the caller is the texter, whatever the fields say.
        try:
            record = self.add_record(
                short_description=str(fields.get("short_description", "")),
                description=str(fields.get("description", "")),
                category=str(fields["category"]) if fields.get("category") else None,
                urgency=fields.get("urgency", 3),
                attachments=attachments,
            )
        except InvalidRecord as exc:
            return EffectResult(ok=False, error=str(exc))
        return EffectResult(value=self._view(record))

    def _fetch(self, content_types: tuple[str, ...]) -> EffectResult:
        """Images are kept (as ``att/N`` keys), the rest refused; with no image, ``not_image``."""
        keys = []
        refused = []
        for content_type in content_types:
            if content_type.lower().startswith("image/"):
                self._media_count += 1
                keys.append(f"att/{self._media_count}")
            else:
                refused.append(RefusedMedia(content_type, "not_image"))
        if not keys:
            return EffectResult(ok=False, error="not_image")
        return EffectResult(value=keys, refused=tuple(refused))


def _updated(record: Record, fields: dict[str, Any]) -> Record:
    """``record`` with ``fields`` applied (validated); itself when nothing changes."""
    changed = changes(record, fields)
    return dataclasses.replace(record, **changed) if changed else record
