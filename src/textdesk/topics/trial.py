"""Trying a topic's draft as a texter would, before anyone else sees it.

The designer's phone pane sends the draft's source, a texter's number and every text
typed so far; the whole conversation is played again from the start on each text
(so the pane holds no state on the server) through the real engine and production's
effect runner, with the draft in place of the published version among the other
published topics.  Nothing is sent and nothing is written: record actions run on a
scratch copy of the texter's records, read through the record port (the built-in
store or the instance) and never written back; a live agent is never free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from textdesk.channel.effects import EffectRunner, settle
from textdesk.domain.agent.engine import Engine
from textdesk.domain.agent.messages import InboundText, Texter
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.records import Comment, NewRecord, Record, number_for
from textdesk.domain.sms import sms_cost
from textdesk.domain.topics.schema import TopicSet
from textdesk.ports import Clock, Engines
from textdesk.topic_tools.script_world import MemoryRecords, ScriptWorld
from textdesk.topic_tools.topic_files import Document, SourceError, read_documents
from textdesk.topics.library import TopicLibrary, document_name, id_of

# A pane replays at most this many texts: a designer's try, not a load test.
MAX_TEXTS = 50
RECORDS_COPIED = 100
_GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class TrialReply:
    """One reply as the texter would get it, with what it costs."""

    body: str
    media: tuple[str, ...]
    encoding: str
    segments: int


@dataclass(frozen=True)
class TrialStep:
    """One text of the try and what it brought: replies, and the variables after it."""

    text: str
    replies: list[TrialReply]
    vars: dict[str, Any]
    topic_id: str | None
    node_id: str | None


@dataclass(frozen=True)
class TrialRun:
    """A try: its steps, or the draft's errors when it cannot run; who it was played as
    and how many of their records it had, so a mistyped number shows as a guest."""

    steps: list[TrialStep] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    texter: Texter | None = None
    records: int = 0


class TopicTrial:
    """Plays a draft for a texter, in memory."""

    def __init__(
        self,
        *,
        library: TopicLibrary,
        engines: Engines,
        texter_of: Callable[[str], Awaitable[Texter]],
        records_of: Callable[[Texter], Awaitable[Sequence[Record]]],
        clock: Clock,
        zone: tzinfo = UTC,
    ) -> None:
        """``texter_of``: who a phone is (account, profile or guest); ``records_of``:
        their records newest first, read through the record port; ``zone``: the desk's
        timezone."""
        self._zone = zone
        self._library = library
        self._engines = engines
        self._texter_of = texter_of
        self._records_of = records_of
        self._clock = clock

    async def run(self, topic_id: str, source: str, phone: str, texts: Sequence[str]) -> TrialRun:
        errors, _ = await self._library.check(topic_id, source)
        if errors:
            return TrialRun(errors=errors)
        topics = await self._with_draft(topic_id, source)
        texter = await self._texter_of(phone)
        now = self._clock.now()
        world = ScriptWorld(texter, now=now, zone=self._zone)
        names = {texter.user_id: texter.name} if texter.user_id and texter.name else {}
        world.store = scratch = ScratchRecords(await self._records_of(texter), names)
        copied = len(scratch.records)
        engine = Engine(topics)
        runner = EffectRunner(views=world)
        state: ConversationState | None = None
        steps: list[TrialStep] = []
        for text in list(texts)[:MAX_TEXTS]:
            now += _GAP
            world.now = now
            first = engine.handle(state, InboundText(text, received_at=now), texter, now)
            settled = (await settle(engine, first, runner, world.scope())).step
            state = settled.state
            steps.append(
                TrialStep(
                    text=text,
                    replies=[_reply(r.body, r.media) for r in settled.replies],
                    vars=dict(state.vars),
                    topic_id=state.topic_id,
                    node_id=state.node_id,
                )
            )
        return TrialRun(steps=steps, texter=texter, records=copied)

    async def _with_draft(self, topic_id: str, source: str) -> TopicSet:
        published = self._engines.engine.topics
        documents = [d for d in await self._library.published_documents() if id_of(d) != topic_id]
        mine = Document(document_name(topic_id), source)
        found, _, _ = read_documents([*documents, mine], strict=False)
        assert found is not None  # not strict: what parses, whatever else is wrong
        found.versions = dict(published.versions)
        return found


def _reply(body: str, media: tuple[str, ...]) -> TrialReply:
    cost = sms_cost(body)
    return TrialReply(body, media, cost.encoding, cost.segments)


class ScratchRecords(MemoryRecords):
    """A copy of the texter's records to try topics on: changes stay here."""

    def __init__(self, records: Sequence[Record], names: Mapping[int, str]) -> None:
        """``records``: newest first, as the record port lists them."""
        super().__init__(names)
        # Kept oldest first, as the memory store adds them, so a dynamic choice numbers
        # them newest first like the desk's own listing: "2" in the pane is "2" live.
        self.records = list(reversed(list(records)[:RECORDS_COPIED]))

    def add(
        self,
        record: NewRecord,
        *,
        now: datetime,
        assigned_to: str | None = None,
        comments: Sequence[Comment] = (),
    ) -> Record:
        made = super().add(record, now=now, assigned_to=assigned_to, comments=comments)
        # Numbered after the copied ones, so a new record never takes a copy's number.
        highest = max((r.id for r in self.records[:-1]), default=0) + 1
        numbered = dataclasses.replace(made, id=highest, number=number_for(highest))
        self.records[-1] = numbered
        return numbered
