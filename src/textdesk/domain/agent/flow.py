"""Running a topic's nodes: asking, responding, branching, acting.

Functions here move a ``Turn`` through the running topic until it needs the texter
(a question was asked), the outside world (an effect was requested) or the topic is
over (``Finished``, for the engine to decide what comes next: a menu, "anything
else?", the text that arrived with a greeting).
"""

from __future__ import annotations

from dataclasses import dataclass

from textdesk.domain.agent.awaiting import UNAVAILABLE
from textdesk.domain.agent.cards import card_text, record_number, resolve_record
from textdesk.domain.agent.messages import (
    AddComment,
    CreateRecord,
    GetRecord,
    QueryRecords,
    Transfer,
    UpdateRecord,
)
from textdesk.domain.agent.state import Frame
from textdesk.domain.agent.turn import Turn
from textdesk.domain.templating.render import render, render_value, truthy
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
    TransferNode,
    UpdateRecordNode,
)

__all__ = ["Finished", "TopicOutcome", "fail", "finish", "jump", "lost", "run_from", "start_topic"]

# Nodes run in one turn without a question: more means a goto loop with no exit.
_MAX_NODES_PER_TURN = 500


@dataclass(frozen=True)
class Finished:
    """The running topic (and any caller) is over.

    ``said``: the topic said its last word (an end message), so no "anything else?".
    ``menu``: show the topic menu next.
    """

    topic_id: str
    said: bool = False
    menu: bool = False


# What running a topic came to: Finished, or None while it waits (for the texter's
# answer or an effect's result).
TopicOutcome = Finished | None


def start_topic(turn: Turn, topic_id: str) -> TopicOutcome:
    """Run ``topic_id`` from its first node (inside whatever called it)."""
    turn.state.topic_id = topic_id
    turn.state.menu = None
    turn.state.reset_question()
    _note_version(turn, topic_id)
    return run_from(turn, 0)


def _note_version(turn: Turn, topic_id: str) -> None:
    """Keep the version of the topic starting: the conversation finishes on it."""
    version = turn.topics.versions.get(topic_id)
    if version is not None:
        turn.state.versions[topic_id] = version


def run_from(turn: Turn, index: int) -> TopicOutcome:
    """Run nodes from ``index`` until a question, an effect or the end."""
    state = turn.state
    for _ in range(_MAX_NODES_PER_TURN):
        topic = turn.topics.get(state.topic_id)
        if topic is None:
            return lost(turn)
        if index >= len(topic.nodes):
            after = _end_topic(turn, None)
            if isinstance(after, int):
                index = after
                continue
            return after
        node = topic.nodes[index]
        state.node_id = node.id
        if not truthy(node.when, turn.context()):
            index += 1
            continue
        outcome = _execute(turn, topic, index, node)
        if not isinstance(outcome, int):
            return outcome
        index = outcome
    return fail(turn)


def _end_topic(turn: Turn, message: str | None, *, said: bool = False) -> int | Finished:
    """Say the end message; go back to a caller (its next node) or finish."""
    state = turn.state
    if message:
        turn.say(turn.text(message))
    while state.stack:
        frame = state.stack.pop()
        caller = turn.topics.get(frame.topic_id)
        position = caller.index_of(frame.node_id) if caller else None
        if position is not None:
            state.topic_id = frame.topic_id
            state.reset_question()
            return position + 1
    finished = state.topic_id or ""
    state.clear_topic()
    return Finished(finished, said=said or bool(message))


def finish(turn: Turn, message: str | None = None, *, said: bool = False) -> TopicOutcome:
    after = _end_topic(turn, message, said=said)
    return run_from(turn, after) if isinstance(after, int) else after


def fail(turn: Turn, error: str | None = None) -> TopicOutcome:
    """Something outside the texter's control failed: apologise, offer a person.

    ``error``: the failed effect's; a record system that is down is named as such.
    """
    texts = turn.settings.texts
    turn.say(turn.text(texts.records_unavailable if error == UNAVAILABLE else texts.error))
    turn.state.clear_topic()
    turn.state.offered_agent = True
    return None


def lost(turn: Turn) -> TopicOutcome:
    """The saved position no longer exists (topics were edited): start over."""
    turn.say(turn.text(turn.settings.texts.start_over))
    turn.state.clear_topic()
    return Finished("", said=True, menu=True)


def jump(turn: Turn, topic: Topic, target: str) -> int | None:
    position = topic.index_of(target)
    if position is None:
        fail(turn)
    return position


def _execute(turn: Turn, topic: Topic, index: int, node: Node) -> int | TopicOutcome:
    """Run one node; an int is where to carry on in the (possibly new) topic."""
    state, context, nxt = turn.state, turn.context(), index + 1
    if isinstance(node, TextNode | ChoiceNode | BooleanNode | FileNode):
        state.reset_question()
        turn.ask(node)
        return None
    if isinstance(node, DynamicChoiceNode):
        state.reset_question()
        params = {k: render_value(v, context) for k, v in node.params.items()}
        turn.request(QueryRecords(node.source, params), "query")
        return None
    if isinstance(node, MessageNode):
        turn.say(turn.text(node.text))
    elif isinstance(node, ImageNode):
        turn.say(turn.text(node.caption), media=(render(node.media, context),))
    elif isinstance(node, LinkNode):
        turn.say(f"{turn.text(node.label)}: {render(node.url, context)}")
    elif isinstance(node, CardNode):
        ref = resolve_record(node.record, context)
        if isinstance(ref, str):
            turn.request(GetRecord(ref), "record")
            return None
        if ref is not None:
            turn.say(card_text(ref, node.fields, node.link))
    elif isinstance(node, SetNode):
        state.vars[node.var] = render_value(node.value, context)
    elif isinstance(node, DecisionNode):
        for branch in node.branches:
            if truthy(branch.when, context):
                return jump(turn, topic, branch.goto)
        if node.default is not None:
            return jump(turn, topic, node.default)
    elif isinstance(node, GotoNode):
        return jump(turn, topic, node.goto)
    elif isinstance(node, SwitchTopicNode):
        return _switch(turn, topic, index, node)
    elif isinstance(node, TransferNode):
        state.transfer_reason = "topic"
        turn.request(Transfer(queue=node.queue, reason="topic"), "transfer")
        return None
    elif isinstance(node, EndNode):
        return _end_topic(turn, node.message)
    elif isinstance(node, CreateRecordNode):
        fields = {k: render_value(v, context) for k, v in node.fields.items()}
        keys = state.vars.get(node.attachments_var) if node.attachments_var else None
        attachments = tuple(str(k) for k in keys) if isinstance(keys, list) else ()
        turn.request(CreateRecord(fields, attachments, table=node.table), "create")
        return None
    elif isinstance(node, UpdateRecordNode | AddCommentNode):
        number = record_number(resolve_record(node.record, context))
        if not number:
            return fail(turn)
        if isinstance(node, UpdateRecordNode):
            fields = {k: render_value(v, context) for k, v in node.fields.items()}
            turn.request(UpdateRecord(number, fields), "update")
        else:
            turn.request(AddComment(number, render(node.text, context)), "comment")
        return None
    return nxt


def _switch(turn: Turn, topic: Topic, index: int, node: SwitchTopicNode) -> int | TopicOutcome:
    state = turn.state
    target = turn.topics.get(node.topic)
    if target is None:
        return fail(turn)
    if target.requires_account and turn.texter.is_guest:
        turn.say(turn.text(turn.settings.texts.needs_account))
        return index + 1
    if node.resume:
        state.stack.append(Frame(topic.id, node.id))
    state.topic_id = target.id
    state.reset_question()
    _note_version(turn, target.id)
    return 0
