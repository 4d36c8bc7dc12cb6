"""Checks across a topic set: broken references, bad templates, costly texts.

Errors make a topic set unusable (a ``goto`` to nowhere, a template that does not
compile); warnings are about money and reading comfort: a text over three SMS
segments, or one pushed to UCS-2 (70 characters a segment instead of 160) by a
single stray character.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from jinja2 import TemplateSyntaxError

from textdesk.domain.agent.messages import RECORD_SOURCES
from textdesk.domain.agent.texter_replies import Option, normalize_command, render_choices
from textdesk.domain.records import RECORD_FIELDS
from textdesk.domain.sms import flatten_markdown, gsm_safe, sms_cost, ucs2_culprits
from textdesk.domain.subscriptions import CONDITIONAL_OPT_IN, RESERVED_WORDS
from textdesk.domain.templating.render import compile_expression, compile_template
from textdesk.domain.topics.schema import (
    AddCommentNode,
    BooleanNode,
    CardNode,
    ChoiceNode,
    CreateRecordNode,
    DecisionNode,
    DynamicChoiceNode,
    EndNode,
    FileNode,
    GotoNode,
    ImageNode,
    LinkNode,
    MessageNode,
    Node,
    SetNode,
    SwitchTopicNode,
    TextNode,
    Topic,
    TopicSet,
    TransferNode,
    UpdateRecordNode,
)
from textdesk.domain.topics.settings import TopicSettings

__all__ = ["MAX_SEGMENTS", "Loc", "Problem", "as_sent", "sent_texts", "sms_lint", "validate_topics"]

MAX_SEGMENTS = 3
SETTINGS_ID = "_settings"
Loc = tuple[str | int, ...]
# Template placeholders are costed as this many characters: the real value is unknown.
_PLACEHOLDER = "x" * 10
_EXPR_RE = re.compile(r"\{\{.*?\}\}|\$\{[^}]*\}", re.DOTALL)
_TAG_RE = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Carrier help words: Twilio answers HELP and INFO on a long code, whatever we do.
_CARRIER_HELP_WORDS = frozenset({"help", "info"})


@dataclass(frozen=True)
class Problem:
    """One finding; ``loc`` is the path inside the topic (or settings) file."""

    severity: Literal["error", "warning"]
    topic_id: str
    loc: Loc
    message: str

    @property
    def where(self) -> str:
        """``loc`` as a designer reads it: ``nodes[2].options``."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def __str__(self) -> str:
        where = f"{self.where}: " if self.loc else ""
        return f"{self.topic_id}: {where}{self.message}"


def _templates(node: Node) -> Iterator[tuple[str, str, bool]]:
    """(field, source, is_expression) for every template a node holds."""
    if node.when is not None:
        yield "when", node.when, True
    for name in ("prompt", "text", "caption", "label", "url", "message", "empty_text"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            yield name, value, False
    if isinstance(node, TextNode) and node.pattern_error:
        yield "pattern_error", node.pattern_error, False
    if isinstance(node, CardNode | UpdateRecordNode | AddCommentNode):
        yield "record", node.record, False
    if isinstance(node, SetNode) and isinstance(node.value, str):
        yield "value", node.value, False
    if isinstance(node, CreateRecordNode | UpdateRecordNode):
        for key, value in node.fields.items():
            if isinstance(value, str):
                yield f"fields.{key}", value, False
    if isinstance(node, DecisionNode):
        for i, branch in enumerate(node.branches):
            yield f"branches.{i}.when", branch.when, True


def _loc(index: int, field: str) -> Loc:
    return ("nodes", index, *(int(p) if p.isdigit() else p for p in field.split(".")))


def _compile_problem(source: str, expression: bool) -> str | None:
    try:
        if expression:
            compile_expression(source)
        else:
            compile_template(source)
    except TemplateSyntaxError as exc:
        return f"template does not compile: {exc.message}"
    return None


def _targets(node: Node) -> Iterator[tuple[str, str]]:
    """(field, node id) for every jump a node can make."""
    if isinstance(node, GotoNode):
        yield "goto", node.goto
    if isinstance(node, DecisionNode):
        for i, branch in enumerate(node.branches):
            yield f"branches.{i}.goto", branch.goto
        if node.default is not None:
            yield "default", node.default
    if isinstance(node, DynamicChoiceNode) and node.empty_goto is not None:
        yield "empty_goto", node.empty_goto


def sent_texts(node: Node, more_word: str) -> Iterator[tuple[str, str]]:
    """(field, text as it would be sent, before rendering) for the SMS lint."""
    if isinstance(node, ChoiceNode):
        options = [Option(o.value, o.label) for o in node.options]
        yield "prompt", render_choices(node.prompt, options, more_word=more_word)
    elif isinstance(node, TextNode | DynamicChoiceNode | BooleanNode | FileNode):
        yield "prompt", node.prompt
    if isinstance(node, DynamicChoiceNode):
        yield "empty_text", node.empty_text
    if isinstance(node, MessageNode):
        yield "text", node.text
    if isinstance(node, ImageNode) and node.caption:
        yield "caption", node.caption
    if isinstance(node, LinkNode):
        yield "label", f"{node.label}: {node.url}"
    if isinstance(node, EndNode | TransferNode) and node.message:
        yield "message", node.message


def as_sent(text: str) -> str:
    """A designer's text as the agent would send it, each placeholder as 10 characters."""
    plain = _EXPR_RE.sub(_PLACEHOLDER, _TAG_RE.sub("", text))
    return gsm_safe(flatten_markdown(plain))


def sms_lint(text: str) -> list[str]:
    """Warnings for one text as the agent would send it (placeholders estimated)."""
    sent = as_sent(text)
    out: list[str] = []
    culprits = ucs2_culprits(sent)
    if culprits:
        named = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in culprits)
        out.append(f"is sent as UCS-2 (70 characters a segment) because of {named}")
    segments = sms_cost(sent).segments
    if segments > MAX_SEGMENTS:
        out.append(f"needs {segments} SMS segments (more than {MAX_SEGMENTS}); shorten it")
    return out


def command_words(settings: TopicSettings) -> dict[str, str]:
    """Every whole-message word the agent acts on before topics, and what it does.

    Such a word, texted alone, never reaches topic discovery, so it cannot be a
    topic keyword. ``yes`` is left out: it is an ordinary answer except from a number
    the carrier has opted out.
    """
    words: dict[str, str] = {}
    for command, listed in settings.commands.model_dump().items():
        for word in listed:
            words[normalize_command(word)] = f"the {command!r} command"
    for word in _CARRIER_HELP_WORDS:
        words.setdefault(word, "a carrier help keyword")
    for word in RESERVED_WORDS - {CONDITIONAL_OPT_IN}:
        words.setdefault(word, "a carrier opt-out/opt-in or notification keyword")
    return words


def _check_topic(
    topic: Topic,
    known_topics: set[str],
    settings: TopicSettings,
    media_exists: Callable[[str], bool] | None,
) -> Iterator[Problem]:
    def problem(severity: Literal["error", "warning"], loc: Loc, message: str) -> Problem:
        return Problem(severity, topic.id, loc, message)

    more_word = settings.more_word
    commands = command_words(settings)
    for index, keyword in enumerate(topic.keywords):
        if (what := commands.get(normalize_command(keyword))) is not None:
            yield problem(
                "error",
                ("keywords", index),
                f"{keyword!r} is {what}: texted alone it is handled before any topic, so "
                "it can never start this one (a phrase containing it, such as "
                f"'{keyword} my ticket', is fine)",
            )

    seen: dict[str, int] = {}
    for index, node in enumerate(topic.nodes):
        if node.id in seen:
            yield problem(
                "error",
                ("nodes", index, "id"),
                f"duplicate node id {node.id!r} (also nodes[{seen[node.id]}])",
            )
        seen.setdefault(node.id, index)
    for index, node in enumerate(topic.nodes):
        for field, target in _targets(node):
            if target not in seen:
                yield problem("error", _loc(index, field), f"no node with id {target!r}")
        if isinstance(node, SwitchTopicNode) and node.topic not in known_topics:
            yield problem("error", _loc(index, "topic"), f"no topic with id {node.topic!r}")
        if isinstance(node, DynamicChoiceNode) and node.source not in RECORD_SOURCES:
            known = ", ".join(sorted(RECORD_SOURCES))
            yield problem(
                "error", _loc(index, "source"), f"no record source {node.source!r} ({known})"
            )
        if (
            isinstance(node, ImageNode)
            and media_exists is not None
            and not media_exists(node.media)
        ):
            yield problem("error", _loc(index, "media"), f"no image {node.media!r}")
        if isinstance(node, CardNode):
            for i, card_field in enumerate(node.fields):
                name = card_field.field.split(".", 1)[0]
                if name not in RECORD_FIELDS:
                    yield problem(
                        "error",
                        ("nodes", index, "fields", i),
                        f"records have no field {name!r} ({', '.join(sorted(RECORD_FIELDS))})",
                    )
        for field, source, expression in _templates(node):
            if message := _compile_problem(source, expression):
                yield problem("error", _loc(index, field), message)
        for field, text in sent_texts(node, more_word):
            for message in sms_lint(text):
                yield problem("warning", _loc(index, field), message)


def validate_topics(
    topics: TopicSet | Iterable[Topic], *, media_exists: Callable[[str], bool] | None = None
) -> list[Problem]:
    """Every problem found in ``topics`` (and its settings, given a ``TopicSet``).

    ``media_exists`` says whether an image node's ``media`` key can be served; the
    caller knows where images live (the domain does no I/O). Without it images are
    not checked.
    """
    topic_set = topics if isinstance(topics, TopicSet) else TopicSet(topics=list(topics))
    settings = topic_set.settings
    problems: list[Problem] = []
    known: set[str] = set()
    for topic in topic_set.topics:
        if topic.id in known:
            problems.append(Problem("error", topic.id, ("id",), "duplicate topic id"))
        known.add(topic.id)
    for topic in topic_set.topics:
        problems.extend(_check_topic(topic, known, settings, media_exists))
    if isinstance(topics, TopicSet):
        for name in ("greeting_topic", "fallback_topic"):
            target = getattr(settings, name)
            if target is not None and target not in known:
                problems.append(
                    Problem("error", SETTINGS_ID, (name,), f"no topic with id {target!r}")
                )
        for i, topic_id in enumerate(settings.menu_order):
            if topic_id not in known:
                problems.append(
                    Problem(
                        "error", SETTINGS_ID, ("menu_order", i), f"no topic with id {topic_id!r}"
                    )
                )
        # STOP, END, START... belong to the carrier and to notifications.
        for command, words in settings.commands.model_dump().items():
            for i, word in enumerate(words):
                if normalize_command(word) in RESERVED_WORDS:
                    message = (
                        f"{word!r} is a carrier opt-out/opt-in or notification keyword "
                        "and cannot be a command word (the end-of-chat command is 'bye')"
                    )
                    problems.append(
                        Problem("error", SETTINGS_ID, ("commands", command, i), message)
                    )
        texts = {"help_text": settings.help_text} | {
            f"texts.{k}": v for k, v in settings.texts.model_dump().items()
        }
        for field, text in texts.items():
            loc: Loc = tuple(field.split("."))
            if compile_error := _compile_problem(text, False):
                problems.append(Problem("error", SETTINGS_ID, loc, compile_error))
            problems.extend(Problem("warning", SETTINGS_ID, loc, m) for m in sms_lint(text))
    return problems
