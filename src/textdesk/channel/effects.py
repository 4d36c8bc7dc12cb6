"""Running what the virtual agent asks for: records, media, hand-off.

One runner for production and for ``textdesk topics test``: it decides what an
effect means (whose record the texter may see, what a new record starts as, what
a refused image tells the texter) and reaches the world only through the ports of
the turn (:class:`textdesk.ports.EffectScope`).  Production binds those to the
turn's transaction (``channel.virtual_agent``); the script world binds them to
memory (``script_world``).  So a topic script passes exactly when production
would answer the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from textdesk.domain.agent.engine import MAX_EFFECTS, Engine, Step
from textdesk.domain.agent.messages import (
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
    InvalidRecord,
    NewRecord,
    Record,
    belongs_to,
    requested_record,
)
from textdesk.ports import Attachment, EffectScope, RecordStore, RecordViewer

# A Dynamic Choice of the texter's open records offers at most the newest this many.
OPEN_RECORDS_LISTED = 50


def comment_author(texter: Texter) -> str:
    """How a texter's comment on a record is signed: their name, else their number."""
    return texter.name or texter.phone


class EffectRunner:
    """Carries out one effect of the engine against the ports of a turn.

    ``max_media_bytes``/``max_media_pixels``: the caps a refused image passed, told
    to the texter; None where nothing is capped (the script world refuses only
    what is not an image).
    """

    def __init__(
        self,
        *,
        views: RecordViewer,
        max_media_bytes: int | None = None,
        max_media_pixels: int | None = None,
    ) -> None:
        self._views = views
        self._limits = {"too_large": max_media_bytes, "too_many_pixels": max_media_pixels}

    def _view(self, record: Record) -> dict[str, Any]:
        return self._views.view(record)

    async def run(self, effect: Effect, scope: EffectScope) -> EffectResult:
        """Carry out ``effect`` for ``scope.texter``; a texter only reaches their own records."""
        records, texter, now = scope.records, scope.texter, scope.now
        match effect:
            case QueryRecords(source="my_open_incidents"):
                found = await records.open_records_of(
                    user_id=texter.user_id, phone=texter.phone, limit=OPEN_RECORDS_LISTED
                )
                return EffectResult(value=[self._view(r) for r in found])
            case QueryRecords(source=source):
                return EffectResult(ok=False, error=f"unknown_source:{source}")
            case GetRecord(number=number):
                record = await _texters(records, number, texter)
                if record is None:
                    return EffectResult(ok=False, error="not_found")
                return EffectResult(value=self._view(record))
            case CreateRecord():
                try:
                    new = new_record_of(effect, texter, scope.key)
                except InvalidRecord as exc:
                    return EffectResult(ok=False, error=str(exc))
                return EffectResult(value=self._view(await records.create(new, now=now)))
            case UpdateRecord(number=number, fields=fields):
                if await _texters(records, number, texter) is None:
                    return EffectResult(ok=False, error="not_found")
                try:
                    updated = await records.update(number, fields, now=now)
                except InvalidRecord as exc:
                    return EffectResult(ok=False, error=str(exc))
                assert updated is not None
                return EffectResult(value=self._view(updated))
            case AddComment(number=number, text=text):
                if await _texters(records, number, texter) is None:
                    return EffectResult(ok=False, error="not_found")
                commented = await records.add_comment(
                    number,
                    author=comment_author(texter),
                    body=text,
                    now=now,
                    # Run by the inbox loop, which may make the same call twice.
                    may_repeat=scope.key is not None,
                )
                assert commented is not None
                return EffectResult(value=self._view(commented))
            case FetchMedia():
                return self._media(await scope.media.fetch())
            case Transfer():
                return await scope.agents.request(effect)
        return EffectResult(ok=False, error=f"unsupported:{type(effect).__name__}")

    def _media(self, attachments: Sequence[Attachment]) -> EffectResult:
        """The kept attachments' keys; those refused, with the cap they passed.

        Every attachment of the text counts, as fetched before the turn, not only
        the topic's ``max_files`` first ones the effect names: production has always
        kept them all, though docs/topics.md promises at most ``max_files``; keeping
        to that changes what texters see, so it is a change of its own.
        """
        keys = [a.key for a in attachments if a.key]
        refused = tuple(
            RefusedMedia(a.content_type, a.error, self._limits.get(a.error))
            for a in attachments
            if a.error
        )
        if keys:
            return EffectResult(value=keys, refused=refused)
        first = refused[0] if refused else RefusedMedia("", "fetch_failed")
        value = {"max_bytes": first.limit} if first.error == "too_large" else None
        if first.error == "too_many_pixels":
            value = {"max_pixels": first.limit}
        return EffectResult(ok=False, error=first.error, value=value)


def new_record_of(effect: CreateRecord, texter: Texter, key: str | None = None) -> NewRecord:
    """The record ``effect`` opens for ``texter`` (raises ``InvalidRecord``); ``key``:
    the effect's, when a remote store makes it, so a retried create finds the first."""
    new = requested_record(effect.fields, texter=texter, attachments=effect.attachments)
    return new if key is None else replace(new, key=key)


async def _texters(records: RecordStore, number: str, texter: Texter) -> Record | None:
    """Record ``number`` if it is the texter's; someone else's is as good as absent."""
    record = await records.get(number)
    if record is None or not belongs_to(record, user_id=texter.user_id, phone=texter.phone):
        return None
    return record


@dataclass(frozen=True)
class Settled:
    """Where :func:`settle` left a turn: its step, and how many effects it ran in all."""

    step: Step
    effects: int


def never(effect: Effect) -> bool:
    return False


async def settle(
    engine: Engine,
    step: Step,
    runner: EffectRunner,
    scope: EffectScope,
    *,
    on_step: Callable[[Step], None] = lambda step: None,
    stop_before: Callable[[Effect], bool] = never,
    done: int = 0,
) -> Settled:
    """Run the effects ``step`` asks for, resuming the engine after each, until it rests.

    One Step with every reply and problem in order, and ``ended`` if any step ended;
    its ``effect`` is None, unless ``stop_before`` said to stop before it (an effect
    on another service, run outside the turn's transaction: ``domain/agent/awaiting.py``).
    ``on_step`` sees each step as it comes (the first included).  ``done``: effects
    the turn ran before (a resumed turn): the budget of :data:`MAX_EFFECTS` is the
    turn's.  Raises ``RuntimeError`` past it: the topic loops.
    """
    replies, problems, ended = list(step.replies), list(step.problems), step.ended
    on_step(step)
    for ran in range(done, MAX_EFFECTS):
        if step.effect is None or stop_before(step.effect):
            return Settled(
                Step(step.state, tuple(replies), step.effect, ended, tuple(problems)), ran
            )
        result = await runner.run(step.effect, scope)
        step = engine.resume(step.state, result, scope.texter, scope.now)
        on_step(step)
        replies.extend(step.replies)
        problems.extend(step.problems)
        ended = ended or step.ended
    raise RuntimeError(f"more than {MAX_EFFECTS} effects for one text: a topic loops")
