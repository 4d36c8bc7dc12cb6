"""The virtual agent's responses and flow nodes: messages to cards, set to switch_topic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.domain.agent.chat_helpers import GUEST, PHOTO, Chat, topic, topic_set
from textdesk.domain.agent.messages import (
    AddComment,
    CreateRecord,
    Effect,
    EffectResult,
    GetRecord,
    UpdateRecord,
)

END = {"type": "end", "message": "End"}


def run(*nodes: dict[str, Any], others: tuple[Any, ...] = ()) -> tuple[Chat, list[str]]:
    """Start topic "t" made of ``nodes``; return the chat and what the start said."""
    chat = Chat(topic_set(topic("t", *nodes), *others))
    chat.send("hi")
    return chat, chat.send("1")


def test_message_is_flattened_and_made_gsm_safe() -> None:
    """Markdown is flattened and curly quotes straightened before sending."""
    _, said = run({"type": "message", "text": "**Hi** \u201cthere\u201d"}, END)
    assert said == ['Hi "there"', "End"]


def test_message_then_question_go_out_as_one_text() -> None:
    """A message directly before a question is joined with it."""
    _, said = run(
        {"type": "message", "text": "First a note."},
        {"type": "boolean", "prompt": "Go on?", "var": "go"},
    )
    assert said == ["First a note.\n\nGo on?"]


def test_templates_see_vars_and_texter() -> None:
    """Templates render vars and texter fields."""
    chat, _ = run(
        {"type": "text", "prompt": "Your city?", "var": "city"},
        {"type": "end", "message": "{{ texter.name }} from {{ vars.city }}"},
    )
    assert chat.send("Lyon") == ["Ana from Lyon"]


def test_image_and_link_responses() -> None:
    """An image is a reply with its caption and media key; a link is "label: url"."""
    _, said = run(
        {"type": "image", "media": "demo/serial.png", "caption": "Look here"},
        {"type": "link", "label": "Guide", "url": "https://kb.example/{{ texter.user_id }}"},
        END,
    )
    assert said == ["Look here", "Guide: https://kb.example/7", "End"]


def test_image_reply_carries_the_media_key() -> None:
    """The image node's media key is attached to its reply."""
    chat, _ = run({"type": "image", "media": "demo/serial.png", "caption": "c"}, {"type": "end"})
    assert chat.last is not None
    assert chat.last.replies[0].media == ("demo/serial.png",)


def test_end_without_message_asks_anything_else() -> None:
    """A topic that ends silently is followed by "Anything else?"; one with a message is not."""
    _, said = run({"type": "message", "text": "Done"})
    assert said == ["Done", "Anything else? Reply MENU for options."]
    _, said = run({"type": "end", "message": "Bye for now"})
    assert said == ["Bye for now"]


def test_when_skips_nodes() -> None:
    """A node whose condition is false is skipped."""
    _, said = run(
        {"type": "set", "var": "vip", "value": False},
        {"type": "message", "when": "vars.vip", "text": "VIP!"},
        {"type": "message", "when": "{{ not vars.vip }}", "text": "Regular"},
        END,
    )
    assert said == ["Regular", "End"]


def test_set_decision_and_goto() -> None:
    """set stores typed values; decision takes the first true branch; goto jumps."""
    chat, _ = run(
        {"type": "text", "prompt": "Score?", "var": "score", "pattern": r"\d+"},
        {"type": "set", "var": "n", "value": "{{ vars.score | int }}"},
        {
            "type": "decision",
            "branches": [
                {"when": "vars.n > 8", "goto": "high"},
                {"when": "vars.n > 4", "goto": "mid"},
            ],
            "default": "low",
        },
        {"id": "high", "type": "end", "message": "High"},
        {"id": "mid", "type": "goto", "goto": "mid_text"},
        {"id": "low", "type": "end", "message": "Low"},
        {"id": "mid_text", "type": "end", "message": "Mid {{ vars.n + 1 }}"},
    )
    assert chat.send("6") == ["Mid 7"]
    assert chat.vars["n"] == 6


def test_switch_topic_with_resume_comes_back() -> None:
    """switch_topic with resume runs the other topic, then the next node of the caller."""
    child = topic(
        "child", {"type": "boolean", "prompt": "Child asks?", "var": "c"}, show_in_menu=False
    )
    chat, said = run(
        {"type": "switch_topic", "topic": "child", "resume": True},
        {"type": "end", "message": "Back in parent, c={{ vars.c }}"},
        others=(child,),
    )
    assert said == ["Child asks?"]
    assert chat.send("yes") == ["Back in parent, c=True"]


def test_switch_topic_without_resume_replaces_the_topic() -> None:
    """Without resume, the caller's remaining nodes never run."""
    child = topic("child", {"type": "end", "message": "Child done"}, show_in_menu=False)
    _, said = run(
        {"type": "switch_topic", "topic": "child"},
        {"type": "message", "text": "never"},
        others=(child,),
    )
    assert said == ["Child done"]


def test_create_record_then_card() -> None:
    """create_record renders fields, attaches photos and stores the record for a card."""
    chat, _ = run(
        {"type": "text", "prompt": "What?", "var": "what"},
        {"type": "file", "prompt": "Photo?", "var": "photos"},
        {
            "type": "create_record",
            "table": "incident",
            "fields": {"short_description": "{{ vars.what }}", "urgency": 2},
            "attachments_var": "photos",
            "var": "incident",
        },
        {"type": "card", "record": "incident"},
    )
    chat.send("Printer jam")
    said = chat.send("", [PHOTO])
    [create] = chat.effects.of(CreateRecord)
    assert create == CreateRecord(
        {"short_description": "Printer jam", "urgency": 2}, ("att/0",), table="incident"
    )
    assert said[0] == (
        "Number: INC0000100\nShort description: Printer jam\nState: New\n"
        "Priority: 3 - Moderate\nAssigned to: Bob Agent\nhttps://desk.example/records/INC0000100"
    )


def test_card_by_number_looks_the_record_up() -> None:
    """A card given a number asks for GetRecord and shows chosen fields with labels."""
    chat, said = run(
        {"type": "set", "var": "n", "value": "INC0000042"},
        {
            "type": "card",
            "record": "{{ vars.n }}",
            "fields": ["number", {"field": "assigned_to", "label": "Owner"}],
            "link": False,
        },
        END,
    )
    assert chat.effects.of(GetRecord) == [GetRecord("INC0000042")]
    assert said == ["Number: INC0000042\nOwner: Bob Agent", "End"]


def test_card_for_a_missing_record_says_so() -> None:
    """A failed lookup says the record was not found and the topic carries on."""
    chat = Chat(
        topic_set(
            topic(
                "t",
                {"type": "card", "record": "{{ 'INC9' }}"},
                {"type": "end", "message": "Next"},
            )
        )
    )
    chat.effects.answers[GetRecord] = lambda e: EffectResult(ok=False, error="not_found")
    chat.send("hi")
    assert chat.send("1") == ["Sorry, I couldn't find INC9.", "Next"]


def test_update_record_and_add_comment() -> None:
    """update_record and add_comment send their effects for the referenced record."""
    chat, _ = run(
        {"type": "set", "var": "inc", "value": {"number": "INC5", "state": "New"}},
        {"type": "update_record", "record": "inc", "fields": {"state": "Resolved"}, "var": "inc"},
        {"type": "add_comment", "record": "{{ vars.inc.number }}", "text": "By {{ texter.name }}"},
        {"type": "end", "message": "State {{ vars.inc.state }}"},
    )
    assert chat.effects.of(UpdateRecord) == [UpdateRecord("INC5", {"state": "Resolved"})]
    assert chat.effects.of(AddComment) == [AddComment("INC5", "By Ana")]
    assert chat.last is not None
    assert [r.body for r in chat.last.replies] == ["State Resolved"]


def test_failed_record_action_apologises_and_offers_an_agent() -> None:
    """A record action failing outside the texter's control leaves the topic with an offer."""
    chat = Chat(topic_set(topic("t", {"type": "create_record", "fields": {"a": "b"}})))
    chat.effects.answers[CreateRecord] = lambda e: EffectResult(ok=False, error="down")
    chat.send("hi")
    [said] = chat.send("1")
    assert said.startswith("Sorry, something went wrong")
    assert chat.state is not None
    assert chat.state.topic_id is None
    assert chat.state.offered_agent


def test_goto_loop_without_a_question_is_stopped() -> None:
    """A goto loop with no question in it ends with an apology, not a hang."""
    _, said = run({"id": "a", "type": "goto", "goto": "a"})
    assert said[0].startswith("Sorry, something went wrong")


def test_switch_to_an_account_topic_is_refused_for_guests() -> None:
    """A guest switched to an account-only topic is told why and the caller carries on."""
    private = topic("private", {"type": "end", "message": "Secret"}, requires_account=True)
    chat = Chat(
        topic_set(
            topic(
                "t",
                {"type": "switch_topic", "topic": "private", "resume": True},
                {"type": "end", "message": "Still here"},
            ),
            private,
        ),
        texter=GUEST,
    )
    chat.send("hi")
    refusal, carry_on = chat.send("1")
    assert refusal.startswith("Sorry, that needs a service desk account")
    assert carry_on == "Still here"


def test_effect_loops_are_stopped_by_run_to_rest() -> None:
    """A topic looping through effects raises instead of spinning forever."""
    chat = Chat(
        topic_set(
            topic(
                "t",
                {"id": "a", "type": "card", "record": "{{ 'INC1' }}"},
                {"type": "goto", "goto": "a"},
            )
        )
    )
    chat.send("hi")
    with pytest.raises(RuntimeError, match="loops"):
        chat.send("1")


@pytest.mark.parametrize(
    ("nodes", "effect"),
    [
        ([{"type": "create_record", "fields": {"a": "b"}}], CreateRecord),
        (
            [{"type": "card", "record": "{{ 'INC9' }}"}, {"type": "end", "message": "Next"}],
            GetRecord,
        ),
    ],
)
def test_a_record_system_that_is_down_is_named_and_a_person_offered(
    nodes: list[dict[str, Any]], effect: type[Effect]
) -> None:
    """After the remote store's last try, the texter hears why, not "couldn't find INC9"."""
    chat = Chat(topic_set(topic("t", *nodes)))
    chat.effects.answers[effect] = lambda e: EffectResult(ok=False, error="unavailable")
    chat.send("hi")
    [said] = chat.send("1")
    assert said.startswith("Sorry, our record system isn't answering right now.")
    assert chat.state is not None
    assert chat.state.topic_id is None
    assert chat.state.offered_agent
