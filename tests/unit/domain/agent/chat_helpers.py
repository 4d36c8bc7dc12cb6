"""A scripted texter for engine tests: sends texts, runs effects in memory, keeps state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from textdesk.domain.agent.engine import Engine, Step, run_to_rest
from textdesk.domain.agent.messages import (
    AddComment,
    CreateRecord,
    Effect,
    EffectResult,
    FetchMedia,
    GetRecord,
    InboundText,
    MediaRef,
    QueryRecords,
    Texter,
    Transfer,
    UpdateRecord,
)
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.topics.schema import Topic, TopicSet, TopicSettings

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
MEMBER = Texter("+15551230001", user_id=7, name="Ana")
GUEST = Texter("+15551239999")
PHOTO = MediaRef("https://api.twilio.com/media/ME1", "image/jpeg")


def record(number: str, **fields: Any) -> dict[str, Any]:
    """A record as a record store returns it."""
    return {
        "number": number,
        "short_description": f"Issue {number}",
        "state": "New",
        "priority": "3 - Moderate",
        "assigned_to": {"display_value": "Bob Agent", "value": "u2"},
        "url": f"https://desk.example/records/{number}",
        **fields,
    }


def topic(topic_id: str, *nodes: dict[str, Any], **fields: Any) -> Topic:
    """A topic from plain dicts, as a YAML file would give it."""
    return Topic.model_validate(
        {"id": topic_id, "title": fields.pop("title", topic_id.title()), "nodes": list(nodes)}
        | fields
    )


def topic_set(*topics: Topic, **settings: Any) -> TopicSet:
    """``topics`` plus a one-line greeting and fallback."""
    base = [
        topic("greeting", {"type": "message", "text": "Hello!"}, show_in_menu=False),
        topic("fallback", {"type": "message", "text": "Sorry?"}, show_in_menu=False),
    ]
    return TopicSet(topics=base + list(topics), settings=TopicSettings.model_validate(settings))


class Effects:
    """In-memory answers to effects; tests override ``answers`` per effect type."""

    def __init__(self) -> None:
        self.records = [record("INC0000001"), record("INC0000002")]
        self.seen: list[Effect] = []
        self.answers: dict[type[Effect], Callable[[Any], EffectResult]] = {
            QueryRecords: lambda e: EffectResult(value=self.records),
            GetRecord: lambda e: EffectResult(value=record(e.number)),
            CreateRecord: lambda e: EffectResult(value=record("INC0000100", **e.fields)),
            UpdateRecord: lambda e: EffectResult(value=record(e.number, **e.fields)),
            AddComment: lambda e: EffectResult(value=record(e.number)),
            FetchMedia: lambda e: EffectResult(value=[f"att/{i}" for i in range(len(e.media))]),
            Transfer: lambda e: EffectResult(value={"status": "queued", "wait_minutes": 4}),
        }

    def __call__(self, effect: Effect) -> EffectResult:
        self.seen.append(effect)
        return self.answers[type(effect)](effect)

    def of(self, kind: type[Effect]) -> list[Any]:
        return [e for e in self.seen if isinstance(e, kind)]


class Chat:
    """One texter talking to an engine; each ``send`` returns the reply bodies."""

    def __init__(
        self,
        topics: TopicSet,
        *,
        texter: Texter = MEMBER,
        state: ConversationState | None = None,
        **engine_options: Any,
    ) -> None:
        self.engine = Engine(topics, **engine_options)
        self.texter = texter
        self.state = state
        self.now = T0
        self.effects = Effects()
        self.last: Step | None = None

    def send(
        self, body: str, media: Iterable[MediaRef] = (), *, after: timedelta = timedelta(seconds=20)
    ) -> list[str]:
        self.now += after
        step = self.engine.handle(
            self.state, InboundText(body, tuple(media)), self.texter, self.now
        )
        return self._settle(step)

    def _settle(self, step: Step) -> list[str]:
        step = run_to_rest(self.engine, step, self.effects, self.texter, self.now)
        self.state, self.last = step.state, step
        return [r.body for r in step.replies]

    @property
    def vars(self) -> dict[str, Any]:
        assert self.state is not None
        return self.state.vars
