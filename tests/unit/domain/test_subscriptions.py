"""Subscription commands: recognition, the decision table, the wording's SMS cost."""

from __future__ import annotations

import itertools
from dataclasses import fields
from pathlib import Path

import pytest

from textdesk.adapters.files.notification_files import (
    PACKAGED_DIR,
    InvalidWording,
    NotificationFiles,
    parse_wording,
)
from textdesk.domain.sms import sms_cost
from textdesk.domain.subscriptions import (
    Command,
    Decision,
    Situation,
    Wording,
    decide,
    may_be_command,
    parse_command,
)
from textdesk.domain.topics.checks import validate_topics
from textdesk.domain.topics.schema import CommandWords, Topic, TopicSet, TopicSettings
from textdesk.notifications.subscriptions import reply_text

# --- recognition ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Notification", Command.STATUS),
        ("notifications", Command.STATUS),
        ("  NOTIFICATIONS?  ", Command.STATUS),
        ("START", Command.START),
        ("start!", Command.START),
        ("Unstop", Command.START),
        ("STOP", Command.STOP),
        ("Stop.", Command.STOP),
        (" stop ", Command.STOP),
        ("stopall", Command.STOP),
        ("Unsubscribe", Command.STOP),
        ("cancel", Command.STOP),
        ("END", Command.STOP),
        ("quit", Command.STOP),
        ("revoke", Command.STOP),
        ("OPTOUT", Command.STOP),
        ("stop please", None),
        ("start over", None),
        ("my notifications are broken", None),
        ("yes", None),
        ("", None),
    ],
)
def test_commands_are_whole_messages_in_any_case(body: str, expected: Command | None) -> None:
    """Case, surrounding spaces and punctuation are ignored; anything more is not a command."""
    assert parse_command(body, carrier_opted_out=False) is expected


def test_yes_opts_in_only_a_number_that_is_opted_out() -> None:
    """YES is an ordinary answer unless the carrier has the number opted out."""
    assert parse_command("Yes", carrier_opted_out=False) is None
    assert parse_command("Yes", carrier_opted_out=True) is Command.RESUME
    assert parse_command("yes.", carrier_opted_out=True) is Command.RESUME


def test_the_cheap_precheck_lets_ordinary_text_through() -> None:
    """Only possible command words need the carrier-state query."""
    assert may_be_command("Yes!")
    assert may_be_command("STOP")
    assert not may_be_command("my printer is broken")


# --- the decision table -----------------------------------------------------------------

A, G = True, False  # account / guest
ON, OFF = True, False  # subscribed
OPTED, CLEAR = True, False  # carrier opted out

# (account, command, subscribed, carrier opted out) -> decision.  Guests never have a
# subscription, but the table answers for every combination anyway.
TABLE: dict[tuple[bool, Command, bool, bool], Decision] = {
    (A, Command.STATUS, OFF, CLEAR): Decision("status_off"),
    (A, Command.STATUS, OFF, OPTED): Decision("status_off"),
    (A, Command.STATUS, ON, CLEAR): Decision("status_on"),
    (A, Command.STATUS, ON, OPTED): Decision("status_blocked"),
    (A, Command.START, OFF, CLEAR): Decision("subscribed", enabled=True),
    (A, Command.START, OFF, OPTED): Decision("subscribed", enabled=True, carrier="opt_in"),
    (A, Command.START, ON, CLEAR): Decision("already_on"),
    (A, Command.START, ON, OPTED): Decision("subscribed", carrier="opt_in"),
    (A, Command.STOP, OFF, CLEAR): Decision("unsubscribed", carrier="opt_out"),
    (A, Command.STOP, OFF, OPTED): Decision("unsubscribed", carrier="opt_out"),
    (A, Command.STOP, ON, CLEAR): Decision("unsubscribed", enabled=False, carrier="opt_out"),
    (A, Command.STOP, ON, OPTED): Decision("unsubscribed", enabled=False, carrier="opt_out"),
    (G, Command.STATUS, OFF, CLEAR): Decision("guest_info"),
    (G, Command.STATUS, OFF, OPTED): Decision("guest_info"),
    (G, Command.STATUS, ON, CLEAR): Decision("guest_info"),
    (G, Command.STATUS, ON, OPTED): Decision("guest_info"),
    (G, Command.START, OFF, CLEAR): Decision("guest_start"),
    (G, Command.START, OFF, OPTED): Decision("guest_resumed", carrier="opt_in"),
    (G, Command.START, ON, CLEAR): Decision("guest_start"),
    (G, Command.START, ON, OPTED): Decision("guest_resumed", carrier="opt_in"),
    (G, Command.STOP, OFF, CLEAR): Decision("guest_stop", carrier="opt_out"),
    (G, Command.STOP, OFF, OPTED): Decision("guest_stop", carrier="opt_out"),
    (G, Command.STOP, ON, CLEAR): Decision("guest_stop", carrier="opt_out"),
    (G, Command.STOP, ON, OPTED): Decision("guest_stop", carrier="opt_out"),
    # YES while opted out lifts the carrier's block and never touches the subscription.
    **{
        (who, Command.RESUME, setting, opted): Decision(
            "resumed", carrier="opt_in" if opted else None
        )
        for who in (A, G)
        for setting in (ON, OFF)
        for opted in (OPTED, CLEAR)
    },
}


def test_the_table_covers_every_case() -> None:
    """2 kinds of texter x 4 commands x setting x carrier state: 32 rows, none missing."""
    cases = set(itertools.product((A, G), Command, (ON, OFF), (OPTED, CLEAR)))
    assert set(TABLE) == cases


@pytest.mark.parametrize(("case", "expected"), list(TABLE.items()), ids=str)
def test_each_command_gives_its_setting_carrier_change_and_reply(
    case: tuple[bool, Command, bool, bool], expected: Decision
) -> None:
    """Each combination gives the expected setting, carrier change and reply."""
    account, command, subscribed, opted_out = case
    assert decide(command, Situation(account, subscribed, opted_out)) == expected


def test_guests_never_get_a_subscription() -> None:
    """Whatever a guest texts, no setting is written for them."""
    for command, subscribed, opted in itertools.product(Command, (ON, OFF), (OPTED, CLEAR)):
        assert decide(command, Situation(False, subscribed, opted)).enabled is None


def test_stop_always_records_the_carrier_opt_out() -> None:
    """Twilio blocks after any STOP, so we record it whoever sent it."""
    for account, subscribed, opted in itertools.product((A, G), (ON, OFF), (OPTED, CLEAR)):
        assert decide(Command.STOP, Situation(account, subscribed, opted)).carrier == "opt_out"


# --- wording ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [f.name for f in fields(Wording) if f.name != "how_to_register"])
def test_every_reply_fits_two_gsm_segments_even_with_the_reminder(key: str) -> None:
    """The built-in answers stay GSM-7 and within two segments, reminder included."""
    wording = Wording()
    text = f"{reply_text(wording, key)}\n{reply_text(wording, 'resume_hint')}"
    cost = sms_cost(text)
    assert cost.encoding == "GSM-7"
    assert cost.segments <= 2


def test_replies_say_how_to_change_the_setting() -> None:
    """Each answer to an account names the word that changes it; guests learn how to register."""
    wording = Wording()
    assert "STOP" in reply_text(wording, "status_on")
    assert "START" in reply_text(wording, "status_off")
    assert "START" in reply_text(wording, "unsubscribed")
    assert "STOP" in reply_text(wording, "subscribed")
    for key in ("guest_info", "guest_start"):
        text = reply_text(wording, key)
        assert "registered users" in text
        assert "To register" in text


def test_the_packaged_wording_file_matches_the_built_in_wording() -> None:
    """replies.yaml (what operators copy) says exactly what the code defaults to."""
    assert NotificationFiles(PACKAGED_DIR).wording() == Wording()


def test_an_operator_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    """A partial replies.yaml changes those texts and keeps the rest."""
    (tmp_path / "replies.yaml").write_text("how_to_register: Visit desk.example.com.\n")
    wording = NotificationFiles(tmp_path).wording()
    assert wording.how_to_register == "Visit desk.example.com."
    assert wording.status_on == Wording().status_on
    assert reply_text(wording, "guest_info").endswith("Visit desk.example.com.")


def test_unknown_wording_names_are_refused() -> None:
    """A typo in replies.yaml is an error naming the known keys, not a silent default."""
    with pytest.raises(InvalidWording, match="unknown name"):
        parse_wording("stauts_on: hi\n")


def test_a_reply_that_renders_empty_falls_back_to_the_built_in() -> None:
    """An operator's broken template never sends an empty text."""
    wording = parse_wording('status_on: "{{ 1/0 }}"\n')
    assert reply_text(wording, "status_on") == reply_text(Wording(), "status_on")


# --- topic settings ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["END", "stop", "Cancel", "quit", "notification"])
def test_carrier_keywords_cannot_be_topic_commands(word: str) -> None:
    """A topic folder that makes END (or STOP...) its bye command is refused."""
    topic = Topic.model_validate(
        {"id": "t", "title": "T", "nodes": [{"type": "message", "text": "hi"}]}
    )
    settings = TopicSettings(
        greeting_topic=None, fallback_topic=None, commands=CommandWords(bye=["bye", word])
    )
    found = validate_topics(TopicSet(topics=[topic], settings=settings))
    assert any(p.severity == "error" and "carrier" in p.message for p in found)
