"""One call into the engine: a working copy of the state and what to say back.

A ``Turn`` collects replies as it goes and turns them into a ``Step`` at the end,
joining a message with the question that directly follows it (one text instead of
two) and making every body GSM-7 friendly.

A template that passes its render budget (:mod:`textdesk.domain.templating.limits`)
stops the turn where it is: the texter gets the ``error`` wording (apologise, offer
AGENT or MENU), the topic is left, and the step names the problem for the caller to
log; whatever the turn said or asked for before it stands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from textdesk.domain.agent.messages import Effect, Reply, Texter
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.agent.texter_replies import Option, render_choices
from textdesk.domain.sms import flatten_markdown, gsm_safe
from textdesk.domain.templating.render import TemplateTooCostly, render
from textdesk.domain.topics.schema import (
    ChoiceNode,
    DynamicChoiceNode,
    InputNode,
    Node,
    Topic,
    TopicSet,
    TopicSettings,
)
from textdesk.domain.topics.settings import Texts

__all__ = ["Step", "Turn", "choice_options"]

Kind = Literal["message", "prompt", "media"]


@dataclass(frozen=True)
class Step:
    """What one call of the engine produced.

    ``effect``: run it and pass the result to ``Engine.resume``.  ``ended``: the
    texter closed the conversation (``bye``).  ``problems``: what went wrong in the
    topic set itself (a template stopped by its budget), for the operator's log.
    """

    state: ConversationState
    replies: tuple[Reply, ...] = ()
    effect: Effect | None = None
    ended: bool = False
    problems: tuple[str, ...] = ()


def choice_options(node: ChoiceNode | DynamicChoiceNode, state: ConversationState) -> list[Option]:
    """The options of a choice node as shown: static ones, or those of the last query."""
    if isinstance(node, ChoiceNode):
        return [Option(o.value, o.label) for o in node.options]
    return [Option(str(o["value"]), str(o["label"])) for o in state.options]


class Turn:
    """Mutable scratch space for one ``handle``/``resume`` call."""

    def __init__(
        self,
        topics: TopicSet,
        state: ConversationState,
        texter: Texter,
        now: datetime,
        *,
        page_size: int,
        max_retries: int,
    ) -> None:
        self.topics = topics
        self.settings: TopicSettings = topics.settings
        self.state = state
        self.texter = texter
        self.now = now
        self.page_size = page_size
        self.max_retries = max_retries
        self.effect: Effect | None = None
        self.ended = False
        self.problems: list[str] = []
        self._out: list[tuple[Reply, Kind]] = []

    # --- context and lookup -------------------------------------------------------

    def context(self, **extra: Any) -> dict[str, Any]:
        """Names templates see: vars, texter, plus ``extra`` (record, r...)."""
        texter = {
            "phone": self.texter.phone,
            "name": self.texter.name or "",
            "user_id": self.texter.user_id,
            "is_guest": self.texter.is_guest,
        }
        return {"vars": self.state.vars, "texter": texter, **extra}

    def text(self, source: str, **extra: Any) -> str:
        """Render a designer's text for SMS: template, then Markdown flattened."""
        return flatten_markdown(render(source, self.context(**extra)))

    def current(self) -> tuple[Topic, int, Node] | None:
        """The running topic, the waiting node's position and the node."""
        topic = self.topics.get(self.state.topic_id)
        if topic is None or self.state.node_id is None:
            return None
        index = topic.index_of(self.state.node_id)
        if index is None:
            return None
        return topic, index, topic.nodes[index]

    # --- output -------------------------------------------------------------------

    def say(self, body: str, kind: Kind = "message", media: tuple[str, ...] = ()) -> None:
        if body or media:
            self._out.append((Reply(body, media), "media" if media else kind))

    def ask(self, node: InputNode, *, why: str | None = None) -> None:
        """Say the node's question (the current page of a choice), after ``why``."""
        prompt = self.text(node.prompt)
        if isinstance(node, ChoiceNode | DynamicChoiceNode):
            options = choice_options(node, self.state)
            prompt = render_choices(
                prompt, options, self.state.page, self.page_size, self.settings.more_word
            )
        self.say(f"{why}\n{prompt}" if why else prompt, "prompt")

    def request(self, effect: Effect, pending: Any) -> None:
        self.effect = effect
        self.state.pending = pending

    @contextmanager
    def bounded(self) -> Iterator[None]:
        """Run engine work; a template stopped by its budget ends it with the fallback."""
        try:
            yield
        except TemplateTooCostly as exc:
            self._template_failed(exc)

    def _template_failed(self, error: TemplateTooCostly) -> None:
        where = (
            f"topic {self.state.topic_id!r} at node {self.state.node_id!r}"
            if self.state.topic_id
            else "the bot's own wording"
        )
        self.problems.append(f"a template in {where} was stopped: {error}")
        self.effect = None
        self.state.clear_topic()
        self.state.offered_agent = True
        try:
            fallback = self.text(self.settings.texts.error)
        except TemplateTooCostly:
            fallback = Texts().error
        self.say(fallback, "prompt")

    def step(self) -> Step:
        """Finish the turn: join each message with a question right after it."""
        self.state.last_activity = self.now
        replies: list[Reply] = []
        previous: Kind | None = None
        for reply, kind in self._out:
            if kind == "prompt" and previous == "message":
                replies[-1] = Reply(f"{replies[-1].body}\n\n{reply.body}")
            else:
                replies.append(reply)
            previous = kind
        safe = tuple(Reply(gsm_safe(r.body), r.media) for r in replies)
        return Step(self.state, safe, self.effect, self.ended, tuple(self.problems))
