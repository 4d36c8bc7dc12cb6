"""Taking what a waiting node waited for: the texter's answer or an effect's result.

A good answer is stored in the node's variable and the topic runs on; a bad one is
refused saying why, and the question asked again, up to ``max_retries`` bad answers
in a row.  Transfer results end here too, whether a node or AGENT asked for them.
"""

from __future__ import annotations

from textdesk.domain.agent.awaiting import PENDING, UNAVAILABLE
from textdesk.domain.agent.cards import card_text, display, record_number, resolve_record
from textdesk.domain.agent.flow import TopicOutcome, fail, finish, jump, lost, run_from
from textdesk.domain.agent.inputs import check_text, is_skip
from textdesk.domain.agent.media_replies import partly_kept, why_refused
from textdesk.domain.agent.messages import EffectResult, FetchMedia, InboundText
from textdesk.domain.agent.texter_replies import Option, parse_choice, parse_yes_no, render_choices
from textdesk.domain.agent.turn import Turn, choice_options
from textdesk.domain.topics.nodes import (
    INPUT_NODES,
    AddCommentNode,
    BooleanNode,
    CardNode,
    ChoiceNode,
    CreateRecordNode,
    DynamicChoiceNode,
    FileNode,
    InputNode,
    TextNode,
    TransferNode,
    UpdateRecordNode,
)

__all__ = ["answer", "did_you_mean", "reask", "resume_effect", "transfer_result"]


def _retry(turn: Turn, why: str, *, ask: InputNode | None = None) -> TopicOutcome:
    """Ask again saying why (then the question, given ``ask``).

    The ``max_retries``-th bad answer in a row gets no new question: the texter is
    offered a person (or the menu) and the topic is left.  Offering rather than
    transferring outright lets the texter choose; AGENT then transfers with reason
    ``failures``.
    """
    state = turn.state
    state.retries += 1
    if state.retries >= turn.max_retries:
        turn.say(turn.text(turn.settings.texts.offer_agent))
        state.clear_topic()
        state.offered_agent = True
        return None
    if ask is not None:
        turn.ask(ask, why=why)
    else:
        turn.say(why, "prompt")
    return None


def _store(turn: Turn, node: InputNode, value: object, index: int) -> TopicOutcome:
    turn.state.vars[node.var] = value
    turn.state.reset_question()
    return run_from(turn, index + 1)


def reask(turn: Turn) -> TopicOutcome:
    """Ask the waiting question again (after HELP), re-running the node if needed."""
    current = turn.current()
    if current is None:
        return None
    _, index, node = current
    if isinstance(node, INPUT_NODES) and not (
        isinstance(node, DynamicChoiceNode) and not turn.state.options
    ):
        turn.ask(node)
        return None
    return run_from(turn, index)


def answer(turn: Turn, inbound: InboundText) -> TopicOutcome:
    """Take the texter's reply to the waiting question."""
    current = turn.current()
    if current is None:
        return lost(turn)
    _, index, node = current
    state, texts, body = turn.state, turn.settings.texts, inbound.body
    if not isinstance(node, INPUT_NODES) or (
        isinstance(node, DynamicChoiceNode) and not state.options
    ):
        return run_from(turn, index)  # a lost effect result: run the node again
    if isinstance(node, TextNode):
        check = check_text(node, body, texts, turn.settings.skip_words)
        if check.problem is not None:
            return _retry(turn, turn.text(check.problem, **check.params), ask=node)
        return _store(turn, node, check.value, index)
    if isinstance(node, ChoiceNode | DynamicChoiceNode):
        return _answer_choice(turn, node, body, index)
    if isinstance(node, BooleanNode):
        yes = parse_yes_no(body)
        if yes is None:
            return _retry(turn, turn.text(texts.yes_no))
        return _store(turn, node, yes, index)
    if inbound.media:
        turn.request(FetchMedia(inbound.media[: node.max_files]), "media")
        return None
    if node.optional and is_skip(body, turn.settings.skip_words):
        return _store(turn, node, [], index)
    return _retry(turn, turn.text(texts.send_photo_or_skip if node.optional else texts.send_photo))


def _answer_choice(
    turn: Turn, node: ChoiceNode | DynamicChoiceNode, body: str, index: int
) -> TopicOutcome:
    state, settings = turn.state, turn.settings
    options = choice_options(node, state)
    match = parse_choice(body, options, state.page, turn.page_size, settings.more_word)
    if match.more:
        state.page = match.next_page
        turn.ask(node)
        return None
    if match.matched is not None:
        value: dict[str, object] = {"value": match.matched.value, "label": match.matched.label}
        if isinstance(node, DynamicChoiceNode):
            value["record"] = state.options[options.index(match.matched)].get("record")
        return _store(turn, node, value, index)
    if match.ambiguous:
        turn.say(did_you_mean(turn, options, match.ambiguous), "prompt")
        return None
    why = f"{settings.texts.not_understood} {settings.texts.pick_number}"
    shown = render_choices(turn.text(why), options, state.page, turn.page_size, settings.more_word)
    return _retry(turn, shown)


def did_you_mean(turn: Turn, options: list[Option], candidates: tuple[Option, ...]) -> str:
    """ "Did you mean:" and the candidates under the numbers the texter already saw."""
    lines = [turn.text(turn.settings.texts.did_you_mean)]
    lines += [f"{options.index(o) + 1}. {o.label}" for o in candidates]
    return "\n".join(lines)


# --- effect results -----------------------------------------------------------------


def resume_effect(turn: Turn, kind: str, result: EffectResult) -> TopicOutcome:
    """Carry on after the effect the waiting node asked for (all but transfers)."""
    current = turn.current()
    if current is None:
        return lost(turn)
    topic, index, node = current
    state, texts = turn.state, turn.settings.texts
    if kind == "query" and isinstance(node, DynamicChoiceNode):
        if not result.ok:
            return fail(turn, result.error)
        records = [r for r in (result.value or []) if isinstance(r, dict)]
        state.options = [
            {
                "value": display(r.get(node.value)),
                "label": turn.text(node.label, r=r, record=r) or display(r.get(node.value)),
                "record": r,
            }
            for r in records
        ]
        if state.options:
            turn.ask(node)
            return None
        turn.say(turn.text(node.empty_text))
        if node.empty_goto is None:
            return finish(turn, said=True)
        position = jump(turn, topic, node.empty_goto)
        return None if position is None else run_from(turn, position)
    if kind == "record" and isinstance(node, CardNode):
        if result.ok and isinstance(result.value, dict):
            turn.say(card_text(result.value, node.fields, node.link))
        elif result.error == UNAVAILABLE:
            return fail(turn, result.error)  # not "couldn't find": nobody could look
        else:
            number = record_number(resolve_record(node.record, turn.context()))
            turn.say(turn.text(texts.record_not_found, number=number or ""))
        return run_from(turn, index + 1)
    if kind in ("create", "update", "comment") and isinstance(
        node, CreateRecordNode | UpdateRecordNode | AddCommentNode
    ):
        if result.error == PENDING and isinstance(node, CreateRecordNode):
            # Kept to be made when the store is back: nothing to show yet, so the
            # topic ends here, and the texter is texted the number later.
            return finish(turn, texts.record_pending)
        if not result.ok:
            return fail(turn, result.error)
        if not isinstance(node, AddCommentNode) and node.var:
            state.vars[node.var] = result.value
        return run_from(turn, index + 1)
    if kind == "media" and isinstance(node, FileNode):
        if result.ok:
            keys = [str(k) for k in result.value or []]
            if result.refused:
                turn.say(partly_kept(turn, len(keys), result.refused))
            return _store(turn, node, keys, index)
        value = result.value if isinstance(result.value, dict) else {}
        limit = value.get("max_bytes", value.get("max_pixels"))
        why = why_refused(turn, result.error, limit if isinstance(limit, int) else None)
        follow = turn.text(texts.send_photo_or_skip if node.optional else texts.send_photo)
        return _retry(turn, f"{why} {follow}")
    return lost(turn)


def transfer_result(turn: Turn, result: EffectResult) -> None:
    """Queued (or assigned): stand by, with the wait; otherwise say nobody is free."""
    state, texts = turn.state, turn.settings.texts
    reason, state.transfer_reason = state.transfer_reason, None
    value = result.value if isinstance(result.value, dict) else {}
    status = value.get("status") if result.ok else "unavailable"
    message = None
    current = turn.current()
    if reason == "topic" and current is not None and isinstance(current[2], TransferNode):
        message = current[2].message
    state.clear_topic()
    if status not in ("queued", "assigned"):
        turn.say(turn.text(texts.out_of_hours if status == "out_of_hours" else texts.no_agent))
        return
    state.mode = "queued" if status == "queued" else "agent"
    state.offered_agent = False
    text = turn.text(message or texts.stand_by)
    minutes = value.get("wait_minutes")
    if status == "queued" and isinstance(minutes, int | float) and minutes > 0:
        text += " " + turn.text(texts.wait_estimate, minutes=round(minutes))
    turn.say(text)
