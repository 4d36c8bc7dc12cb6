"""The demo topics shipped with textdesk: clean, cheap to send, and working end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

import textdesk
from tests.unit.domain.agent.chat_helpers import GUEST, PHOTO, Chat
from textdesk.domain.agent.messages import AddComment, CreateRecord, EffectResult, Transfer
from textdesk.domain.sms import sms_cost
from textdesk.domain.topics.checks import as_sent, sent_texts
from textdesk.domain.topics.schema import TopicSet
from textdesk.topic_tools.topic_files import load_topics, validate_dir

DEMO = Path(textdesk.__file__).parent / "demo" / "topics"


@pytest.fixture(scope="module")
def demo() -> TopicSet:
    return load_topics(DEMO)


def test_demo_topics_have_no_errors_or_warnings() -> None:
    """The shipped topic folder validates clean."""
    assert validate_dir(DEMO) == ([], [])


def test_demo_topics_use_every_control_and_response(demo: TopicSet) -> None:
    """Between them the demo topics show every input control and response type."""
    used = {node.type for t in demo.topics for node in t.nodes}
    wanted = {"text", "choice", "dynamic_choice", "boolean", "file"}
    wanted |= {"message", "image", "link", "card", "transfer", "create_record", "add_comment"}
    assert wanted <= used
    assert {t.id for t in demo.topics} >= {
        "greeting",
        "fallback",
        "report_issue",
        "my_incidents",
        "serial_number",
        "talk_to_person",
    }


def test_demo_texts_are_gsm7_and_at_most_two_segments(demo: TopicSet) -> None:
    """Every demo prompt and message is GSM-7 and fits in two segments."""
    for t in demo.topics:
        for node in t.nodes:
            for field, text in sent_texts(node, demo.settings.more_word):
                cost = sms_cost(as_sent(text))
                assert (cost.encoding, cost.segments <= 2) == ("GSM-7", True), (t.id, field)


def test_report_an_issue_ends_in_an_incident_and_its_card(demo: TopicSet) -> None:
    """Report an issue: text, choice, photo, confirm, then an incident and its card."""
    chat = Chat(demo)
    [menu] = chat.send("Hi")
    assert menu.startswith("Hi Ana! I'm the Service Desk virtual agent.")
    assert "1. Report an issue" in menu
    assert chat.send("1") == ["In a few words, what's the problem?"]
    assert chat.send("Printer jams on page 2")[0].startswith("Which fits best?\n1. Printer problem")
    assert chat.send("network") == ["Send a photo of the problem, or reply SKIP."]
    [confirm] = chat.send("", [PHOTO])
    assert confirm == (
        'Log "Printer jams on page 2" (Network / Wi-Fi) as a new incident? Reply YES or NO.'
    )
    card, end = chat.send("yes")
    [create] = chat.effects.of(CreateRecord)
    assert create.table == "incident"
    assert create.attachments == ("att/0",)
    assert create.fields == {
        "short_description": "Printer jams on page 2",
        "category": "network",
        "urgency": "2",
        "caller_phone": "+15551230001",
    }
    assert card.startswith("Number: INC0000100\nShort description: Printer jams on page 2")
    assert end == (
        "Thanks! Your report is INC0000100. Text START to get its updates by SMS; "
        "reply MENU for more."
    )


def test_a_guest_is_not_promised_texts_about_their_report(demo: TopicSet) -> None:
    """Guests cannot get notifications, so the last text says what they can do instead."""
    chat = Chat(demo, texter=GUEST)
    chat.send("hello")
    chat.send("1")
    chat.send("Printer jams on page 2")
    chat.send("printer")
    chat.send("skip")
    *_, end = chat.send("yes")
    assert end.startswith("Thanks! Your report is INC0000100. Quote that number")
    assert "START" not in end
    assert "text you" not in end


def test_report_issue_can_be_cancelled(demo: TopicSet) -> None:
    """Answering NO to the confirmation logs nothing."""
    chat = Chat(demo)
    chat.send("my laptop won't start")
    chat.send("It beeps three times")
    chat.send("4")
    chat.send("skip")
    assert chat.send("no") == ["OK, nothing was logged. Reply MENU for options."]
    assert chat.effects.of(CreateRecord) == []


def test_my_incidents_shows_a_card_and_link_and_takes_a_comment(demo: TopicSet) -> None:
    """My incidents: pick one, see its card and link, add a comment."""
    chat = Chat(demo)
    chat.send("hello")
    [listing] = chat.send("2")
    assert listing.startswith("Which incident?\n1. INC0000001 Issue INC0000001")
    card, link_and_question = chat.send("2")
    assert card.startswith("Number: INC0000002")
    assert link_and_question == (
        "Details: https://desk.example/records/INC0000002\n\nAdd a comment to INC0000002?"
    )
    assert chat.send("yes") == ["Type your comment."]
    assert chat.send("Toner arrived, still jams") == ["Your comment is added to INC0000002."]
    assert chat.effects.of(AddComment) == [AddComment("INC0000002", "Toner arrived, still jams")]


def test_my_incidents_empty_and_for_guests(demo: TopicSet) -> None:
    """No open incidents is said plainly; guests are told they need an account."""
    chat = Chat(demo)
    chat.effects.records = []
    chat.send("hello")
    assert chat.send("my incidents") == ["You have no open incidents. Reply MENU for options."]
    guest = Chat(demo, texter=GUEST)
    guest.send("hello")
    [refusal] = guest.send("my incidents")
    assert "needs a service desk account" in refusal


def test_find_my_serial_number_shows_an_image_a_tip_then_offers_a_person(demo: TopicSet) -> None:
    """Find my serial number: an image, a tip, and a person if still stuck."""
    chat = Chat(demo)
    chat.send("hello")
    replies = chat.send("where is my serial number")
    assert chat.last is not None
    assert chat.last.replies[0].media == ("demo/serial.png",)
    assert replies[1].endswith("wmic bios get serialnumber.\n\nStill can't find it?")
    assert chat.send("no") == ["Great! Reply MENU if you need anything else."]
    chat.send("serial")
    assert chat.send("yes") == [
        "Please stand by, I'm connecting you with a service desk agent. "
        "Estimated wait: about 4 min."
    ]
    assert chat.effects.of(Transfer) == [Transfer(queue="Service desk", reason="topic")]


def test_talk_to_person_when_nobody_is_available(demo: TopicSet) -> None:
    """Talk to a person: a transfer; with no agent available, the texter is told."""
    chat = Chat(demo)
    chat.effects.answers[Transfer] = lambda e: EffectResult(value={"status": "unavailable"})
    chat.send("hello")
    [reply] = chat.send("can I speak to someone")
    assert reply.startswith("No agent is available right now.")
    # Leaving a message: REPORT starts the topic that opens an incident.
    assert "what's the problem" in chat.send("report")[0]


def test_fallback_and_help(demo: TopicSet) -> None:
    """Unmatched text gets the fallback and the menu; HELP lists the commands."""
    chat = Chat(demo)
    chat.send("hello")
    [fallback] = chat.send("qwerty zxcv")
    assert fallback.startswith("Sorry, I didn't catch that.\n\nWhat can I help you with?")
    [help_text] = chat.send("help")
    assert "MENU" in help_text
    assert "AGENT" in help_text
