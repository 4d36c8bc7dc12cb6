"""The virtual agent's input controls: text, choices, boolean, file, dynamic choice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.domain.agent.chat_helpers import PHOTO, Chat, record, topic, topic_set
from textdesk.domain.agent.messages import EffectResult, FetchMedia, QueryRecords, Transfer


def chat_with(*nodes: dict[str, Any], **engine_options: Any) -> Chat:
    """A chat already inside topic "t", which holds ``nodes`` then an end."""
    chat = Chat(
        topic_set(topic("t", *nodes, {"type": "end", "message": "Done."})), **engine_options
    )
    chat.send("hi")
    chat.send("1")
    return chat


def test_text_input_stores_the_trimmed_answer() -> None:
    """A text answer is stored in its var, surrounding spaces removed."""
    chat = chat_with({"type": "text", "prompt": "Name?", "var": "name"})
    assert chat.send("  Ana Lopez ") == ["Done."]
    assert chat.vars["name"] == "Ana Lopez"


@pytest.mark.parametrize(
    ("node", "reply", "why"),
    [
        ({"min_length": 5}, "abc", "Please use at least 5 characters."),
        ({"max_length": 4}, "abcdef", "Please keep it to 4 characters or fewer."),
        ({"format": "email"}, "ana.example.com", "That doesn't look like an email address."),
        ({"format": "phone"}, "555-12", "That doesn't look like a phone number."),
        ({"pattern": r"INC\d{7}"}, "INC12", "That doesn't look right."),
        (
            {"pattern": r"\d+", "pattern_error": "Digits only, please."},
            "x1",
            "Digits only, please.",
        ),
    ],
)
def test_text_input_reasks_saying_why(node: dict[str, Any], reply: str, why: str) -> None:
    """A text answer failing a check is refused with the reason, then the question."""
    chat = chat_with({"type": "text", "prompt": "Value?", "var": "v", **node})
    [reask] = chat.send(reply)
    assert reask.startswith(why)
    assert reask.endswith("Value?")
    assert "v" not in chat.vars


@pytest.mark.parametrize(
    ("reply", "stored"), [("(555) 123-4567", "5551234567"), ("+44 20 7946 0958", "+442079460958")]
)
def test_phone_format_accepts_ten_digits_or_e164(reply: str, stored: str) -> None:
    """Phone answers lose their separators; 10 digits or E.164 pass."""
    chat = chat_with({"type": "text", "prompt": "Phone?", "var": "p", "format": "phone"})
    assert chat.send(reply) == ["Done."]
    assert chat.vars["p"] == stored


def test_optional_text_can_be_skipped() -> None:
    """An optional text input takes SKIP as an empty answer."""
    chat = chat_with({"type": "text", "prompt": "Details?", "var": "d", "required": False})
    assert chat.send("skip") == ["Done."]
    assert chat.vars["d"] == ""


def test_choice_accepts_number_or_label_and_stores_value_and_label() -> None:
    """A choice answer by number or label stores {"value", "label"}."""
    node = {"type": "choice", "prompt": "Which?", "var": "c", "options": ["Red", "Blue"]}
    chat = chat_with(node)
    assert chat.send("2") == ["Done."]
    assert chat.vars["c"] == {"value": "Blue", "label": "Blue"}
    chat = chat_with(node)
    chat.send("red")
    assert chat.vars["c"] == {"value": "Red", "label": "Red"}


def test_choice_pages_twelve_options_with_more() -> None:
    """Twelve options page by nine; MORE shows 10-12, then wraps; numbers stay valid."""
    options = [{"value": f"v{i}", "label": f"Option {i}"} for i in range(1, 13)]
    chat = Chat(
        topic_set(topic("t", {"type": "choice", "prompt": "Pick:", "var": "c", "options": options}))
    )
    chat.send("hi")
    [first] = chat.send("1")
    assert "9. Option 9" in first
    assert "10." not in first
    assert first.endswith("Reply MORE for more options.")
    [second] = chat.send("more")
    assert second.splitlines() == ["Pick:", "10. Option 10", "11. Option 11", "12. Option 12"]
    [third] = chat.send("MORE")
    assert "1. Option 1" in third
    chat.send("more")
    chat.send("11")
    assert chat.vars["c"] == {"value": "v11", "label": "Option 11"}


def test_ambiguous_choice_asks_did_you_mean_with_the_shown_numbers() -> None:
    """A reply matching several options lists them under their original numbers."""
    options = ["Email", "Printer toner", "Laptop", "Printer jam"]
    chat = chat_with({"type": "choice", "prompt": "Which?", "var": "c", "options": options})
    [reply] = chat.send("printer")
    assert reply == "Did you mean:\n2. Printer toner\n4. Printer jam"
    chat.send("4")
    assert chat.vars["c"]["label"] == "Printer jam"


def test_bad_choice_reasks_with_the_options() -> None:
    """A reply matching nothing is refused and the options are listed again."""
    chat = chat_with({"type": "choice", "prompt": "Which?", "var": "c", "options": ["Red", "Blue"]})
    [reply] = chat.send("purple")
    assert reply.startswith("Sorry, I didn't get that.")
    assert "1. Red\n2. Blue" in reply


def test_third_bad_answer_offers_an_agent_and_leaves_the_topic() -> None:
    """After max_retries bad answers the texter is offered AGENT or MENU; AGENT cites failures."""
    chat = chat_with({"type": "boolean", "prompt": "OK?", "var": "ok"})
    assert chat.send("what") == ["Please reply YES or NO."]
    assert chat.send("hmm") == ["Please reply YES or NO."]
    [offer] = chat.send("eh")
    assert "Reply AGENT to talk to a person or MENU to start over." in offer
    assert chat.state is not None
    assert chat.state.topic_id is None
    assert chat.state.offered_agent
    chat.send("agent")
    assert chat.effects.of(Transfer)[-1].reason == "failures"


def test_max_retries_is_configurable() -> None:
    """max_retries=1 offers an agent on the first bad answer."""
    chat = chat_with({"type": "boolean", "prompt": "OK?", "var": "ok"}, max_retries=1)
    [offer] = chat.send("what")
    assert "AGENT" in offer


@pytest.mark.parametrize(("reply", "value"), [("Yes please", True), ("nope", False), ("Y", True)])
def test_boolean_reads_yes_and_no(reply: str, value: bool) -> None:
    """A boolean input stores True or False."""
    chat = chat_with({"type": "boolean", "prompt": "OK?", "var": "ok"})
    chat.send(reply)
    assert chat.vars["ok"] is value


def test_file_input_fetches_media_and_stores_keys() -> None:
    """Media on the reply becomes a FetchMedia effect; the stored keys land in the var."""
    chat = chat_with({"type": "file", "prompt": "Photo?", "var": "photos", "max_files": 1})
    assert chat.send("", [PHOTO, PHOTO]) == ["Done."]
    [fetch] = chat.effects.of(FetchMedia)
    assert fetch.media == (PHOTO,)  # capped at max_files
    assert chat.vars["photos"] == ["att/0"]


def test_optional_file_accepts_skip() -> None:
    """SKIP (or no/none) answers an optional file input with an empty list."""
    chat = chat_with({"type": "file", "prompt": "Photo?", "var": "photos", "optional": True})
    assert chat.send("Skip.") == ["Done."]
    assert chat.vars["photos"] == []


def test_file_input_without_media_asks_for_a_photo() -> None:
    """Text without media is refused; optional inputs mention SKIP."""
    chat = chat_with({"type": "file", "prompt": "Photo?", "var": "p"})
    assert chat.send("here") == ["Please send a photo."]
    chat = chat_with({"type": "file", "prompt": "Photo?", "var": "p", "optional": True})
    assert chat.send("here") == ["Please send a photo (or reply SKIP)."]


def test_not_image_reasks() -> None:
    """A fetch refused as not an image says so and asks again."""
    chat = chat_with({"type": "file", "prompt": "Photo?", "var": "p", "optional": True})
    chat.effects.answers[FetchMedia] = lambda e: EffectResult(ok=False, error="not_image")
    [reply] = chat.send("", [PHOTO])
    assert reply == "Only images can be sent here. Please send a photo (or reply SKIP)."
    assert "p" not in chat.vars


def test_too_large_says_the_cap() -> None:
    """A fetch refused as too large names the size limit."""
    chat = chat_with({"type": "file", "prompt": "Photo?", "var": "p"})
    chat.effects.answers[FetchMedia] = lambda e: EffectResult(
        ok=False, error="too_large", value={"max_bytes": 2 * 1024 * 1024}
    )
    [reply] = chat.send("", [PHOTO])
    assert reply.startswith("That image is too large (the limit is 2 MB).")


DYNAMIC: dict[str, Any] = {
    "type": "dynamic_choice",
    "prompt": "Which incident?",
    "var": "inc",
    "source": "my_open_incidents",
    "params": {"caller": "{{ texter.phone }}"},
    "empty_text": "You have no open incidents.",
}


def test_dynamic_choice_queries_then_lists_records() -> None:
    """Entering a dynamic choice runs QueryRecords and lists records by the label template."""
    chat = Chat(topic_set(topic("t", DYNAMIC)))
    chat.send("hi")
    [listing] = chat.send("1")
    assert chat.effects.of(QueryRecords) == [
        QueryRecords("my_open_incidents", {"caller": "+15551230001"})
    ]
    assert listing == (
        "Which incident?\n1. INC0000001 Issue INC0000001\n2. INC0000002 Issue INC0000002"
    )


def test_dynamic_choice_stores_value_label_and_record() -> None:
    """The picked option keeps the record so later nodes need no lookup."""
    card = {"type": "card", "record": "inc", "fields": ["number", "state"]}
    chat = Chat(topic_set(topic("t", DYNAMIC, card)))
    chat.send("hi")
    chat.send("1")
    replies = chat.send("2")
    assert chat.vars["inc"]["value"] == "INC0000002"
    assert chat.vars["inc"]["record"] == record("INC0000002")
    assert replies[0] == "Number: INC0000002\nState: New\nhttps://desk.example/records/INC0000002"


def test_empty_dynamic_choice_says_empty_text_and_ends() -> None:
    """No records: the empty text is said and the topic ends without "Anything else"."""
    chat = Chat(topic_set(topic("t", DYNAMIC)))
    chat.effects.records = []
    chat.send("hi")
    assert chat.send("1") == ["You have no open incidents."]
    assert chat.state is not None
    assert chat.state.topic_id is None


def test_empty_dynamic_choice_can_jump() -> None:
    """empty_goto carries on at another node after the empty text."""
    nodes: list[dict[str, Any]] = [
        DYNAMIC | {"empty_goto": "none"},
        {"type": "end"},
        {"id": "none", "type": "message", "text": "Try MENU."},
    ]
    chat = Chat(topic_set(topic("t", *nodes)))
    chat.effects.records = []
    chat.send("hi")
    assert chat.send("1") == [
        "You have no open incidents.",
        "Try MENU.",
        "Anything else? Reply MENU for options.",
    ]
