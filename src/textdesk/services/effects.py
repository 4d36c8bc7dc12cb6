"""Running what the virtual agent asks for: records, media, hand-off."""

from __future__ import annotations

from typing import Any, Protocol

from textdesk.adapters.db import records as store
from textdesk.adapters.images import DEFAULT_MAX_PIXELS
from textdesk.domain.events import (
    AddComment,
    CreateRecord,
    Effect,
    EffectResult,
    FetchMedia,
    GetRecord,
    QueryRecords,
    RefusedMedia,
    Transfer,
    UpdateRecord,
)
from textdesk.domain.records import InvalidRecord, Record, belongs_to
from textdesk.services.processing import Turn
from textdesk.services.records import RecordViews, open_records_of


class Handoff(Protocol):
    """Decides whether a live agent can take a conversation (the live-agent port)."""

    async def request(self, turn: Turn, effect: Transfer) -> EffectResult: ...


def _owned_by(record: Record, turn: Turn) -> bool:
    """A texter only ever sees their own records over SMS."""
    return belongs_to(record, user_id=turn.texter.user_id, phone=turn.texter.phone)


class EffectRunner:
    def __init__(
        self,
        *,
        views: RecordViews,
        handoff: Handoff,
        max_media_bytes: int,
        max_media_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self._views = views
        self._handoff = handoff
        self._limits = {"too_large": max_media_bytes, "too_many_pixels": max_media_pixels}

    def _view(self, record: Record) -> dict[str, Any]:
        return self._views.view(record)

    async def run(self, effect: Effect, turn: Turn) -> EffectResult:
        """Carry out ``effect`` inside the turn's transaction."""
        conn, now = turn.conn, turn.now
        match effect:
            case QueryRecords(source="my_open_incidents"):
                found = await open_records_of(
                    conn, user_id=turn.texter.user_id, phone=turn.texter.phone
                )
                return EffectResult(value=[self._view(r) for r in found])
            case QueryRecords(source=source):
                return EffectResult(ok=False, error=f"unknown_source:{source}")
            case GetRecord(number=number):
                record = await store.get(conn, number)
                if record is None or not _owned_by(record, turn):
                    return EffectResult(ok=False, error="not_found")
                return EffectResult(value=self._view(record))
            case CreateRecord(fields=fields, attachments=attachments):
                try:
                    record = await store.create(
                        conn,
                        short_description=str(fields.get("short_description", "")),
                        description=str(fields.get("description", "")),
                        category=str(fields["category"]) if fields.get("category") else None,
                        urgency=fields.get("urgency", 3),
                        caller_id=turn.texter.user_id,
                        caller_phone=turn.texter.phone,
                        attachments=attachments,
                        now=now,
                    )
                except InvalidRecord as exc:
                    return EffectResult(ok=False, error=str(exc))
                return EffectResult(value=self._view(record))
            case UpdateRecord(number=number, fields=fields):
                current = await store.get(conn, number)
                if current is None or not _owned_by(current, turn):
                    return EffectResult(ok=False, error="not_found")
                try:
                    updated = await store.apply_update(conn, number, fields, now)
                except InvalidRecord as exc:
                    return EffectResult(ok=False, error=str(exc))
                assert updated is not None
                return EffectResult(value=self._view(updated))
            case AddComment(number=number, text=text):
                current = await store.get(conn, number)
                if current is None or not _owned_by(current, turn):
                    return EffectResult(ok=False, error="not_found")
                author = turn.texter.name or turn.texter.phone
                commented = await store.add_comment(conn, number, author=author, body=text, now=now)
                assert commented is not None
                return EffectResult(value=self._view(commented))
            case FetchMedia():
                return self._media(turn)
            case Transfer():
                return await self._handoff.request(turn, effect)
        return EffectResult(ok=False, error=f"unsupported:{type(effect).__name__}")

    def _media(self, turn: Turn) -> EffectResult:
        """Images were fetched and decoded before the turn (see processing); report them."""
        keys = [str(m["key"]) for m in turn.media if m.get("key")]
        refused = tuple(
            RefusedMedia(
                str(m.get("content_type", "")), str(m["error"]), self._limits.get(str(m["error"]))
            )
            for m in turn.media
            if m.get("error")
        )
        if keys:
            return EffectResult(value=keys, refused=refused)
        first = refused[0] if refused else RefusedMedia("", "fetch_failed")
        value = {"max_bytes": first.limit} if first.error == "too_large" else None
        if first.error == "too_many_pixels":
            value = {"max_pixels": first.limit}
        return EffectResult(ok=False, error=first.error, value=value)
