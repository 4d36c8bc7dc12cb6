"""The virtual agent's conversation: greeting, discovery, commands, live agents, restarts."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.domain.agent.chat_helpers import GUEST, MEMBER, T0, Chat, topic, topic_set
from textdesk.domain.agent.engine import Engine
from textdesk.domain.agent.messages import EffectResult, InboundText, Texter, Transfer
from textdesk.domain.agent.state import ConversationState, Frame

PRINTER = topic(
    "printer",
    {"type": "text", "prompt": "What does the printer say?", "var": "error"},
    {"type": "boolean", "prompt": "Is it on?", "var": "on"},
    {"type": "end", "message": "Thanks, {{ vars.error }} / {{ vars.on }}"},
    title="Printer help",
    keywords=["printer", "toner"],
    phrases=["I can't print"],
)
SERIAL = topic(
    "serial",
    {"type": "end", "message": "Look under the laptop."},
    title="Find my serial number",
    keywords=["serial number", "asset tag"],
)
MINE = topic(
    "mine",
    {"type": "end", "message": "Your things."},
    title="My incidents",
    keywords=["my incidents"],
    requires_account=True,
)
TOPICS = topic_set(PRINTER, SERIAL, MINE)
MENU = "What can I help you with? Reply with a number:"


def test_first_contact_greets_then_shows_the_menu_in_one_text() -> None:
    """A first text gets the greeting and the numbered topic menu, joined."""
    chat = Chat(TOPICS)
    assert chat.send("hello") == [
        f"Hello!\n\n{MENU}\n1. Printer help\n2. Find my serial number\n3. My incidents"
    ]
    assert chat.state is not None
    assert chat.state.greeted


def test_first_contact_that_names_a_topic_starts_it_after_the_greeting() -> None:
    """A first text matching a topic is greeted, then goes straight into the topic."""
    chat = Chat(TOPICS)
    assert chat.send("my printer is out of toner") == ["Hello!\n\nWhat does the printer say?"]


def test_menu_reply_by_number_or_title_starts_the_topic() -> None:
    """After the menu, a number or a title starts that topic."""
    chat = Chat(TOPICS)
    chat.send("hi")
    assert chat.send("2") == ["Look under the laptop."]
    chat.send("menu")
    assert chat.send("printer help") == ["What does the printer say?"]


def test_menu_order_comes_from_settings() -> None:
    """settings.menu_order puts listed topics first."""
    chat = Chat(topic_set(PRINTER, SERIAL, menu_order=["serial"]))
    [menu] = chat.send("hi")
    assert menu.endswith("1. Find my serial number\n2. Printer help")


def test_keywords_and_typos_find_topics() -> None:
    """Discovery matches keywords, phrases and misspellings."""
    chat = Chat(TOPICS)
    chat.send("hi")
    assert chat.send("where is the serail numbr?") == ["Look under the laptop."]
    assert chat.send("i cant print") == ["What does the printer say?"]


def test_fuzzy_tie_asks_did_you_mean() -> None:
    """Two topics matching equally well are offered, and a number picks one."""
    a = topic(
        "a", {"type": "end", "message": "Reset A"}, title="Reset password", keywords=["login"]
    )
    b = topic(
        "b", {"type": "end", "message": "Unlock B"}, title="Unlock account", keywords=["login"]
    )
    chat = Chat(topic_set(a, b))
    chat.send("hi")
    assert chat.send("login problem") == ["Did you mean:\n1. Reset password\n2. Unlock account"]
    assert chat.send("2") == ["Unlock B"]


def test_no_match_runs_the_fallback_then_the_menu() -> None:
    """Text matching nothing gets the fallback topic, then the menu."""
    chat = Chat(TOPICS)
    chat.send("hi")
    [reply] = chat.send("xylophone lessons")
    assert reply.startswith(f"Sorry?\n\n{MENU}")


def test_guest_is_refused_account_topics_and_does_not_see_them() -> None:
    """Guests don't get account-only topics in the menu, and asking for one explains why."""
    chat = Chat(TOPICS, texter=GUEST)
    [menu] = chat.send("hi")
    assert "My incidents" not in menu
    [refusal] = chat.send("my incidents")
    assert refusal.startswith("Sorry, that needs a service desk account")
    assert chat.state is not None
    assert chat.state.topic_id is None


def test_a_profile_in_another_service_is_enough_for_account_topics() -> None:
    """A sys_user texter with no account here sees and starts topics that need one."""
    known = Texter("+15551230001", name="Alice Example", account="a1b2c3")
    assert not known.is_guest
    chat = Chat(TOPICS, texter=known)
    [menu] = chat.send("hi")
    assert "My incidents" in menu
    replies = chat.send("my incidents")
    assert not any(r.startswith("Sorry, that needs a service desk account") for r in replies)


def test_neither_an_account_nor_a_profile_is_a_guest() -> None:
    assert Texter("+15551239999").is_guest
    assert not Texter("+15551239999", user_id=3).is_guest


def test_menu_mid_topic_abandons_it() -> None:
    """MENU in a topic leaves it and shows the menu."""
    chat = Chat(TOPICS)
    chat.send("printer")
    [menu] = chat.send("Menu!")
    assert menu.startswith(MENU)
    assert chat.state is not None
    assert chat.state.topic_id is None


def test_help_mid_topic_shows_help_and_asks_again() -> None:
    """HELP in a topic shows the help text and re-asks the waiting question."""
    chat = Chat(TOPICS)
    chat.send("printer")
    chat.send("PC LOAD LETTER")
    [reply] = chat.send("help")
    assert reply.startswith("Reply MENU for options")
    assert reply.endswith("\n\nIs it on?")
    assert chat.send("yes") == ["Thanks, PC LOAD LETTER / True"]


def test_command_words_are_configurable() -> None:
    """Command words come from the settings."""
    chat = Chat(topic_set(PRINTER, commands={"menu": ["options"], "bye": ["ciao"]}))
    chat.send("printer")
    assert chat.send("options")[0].startswith(MENU)
    assert chat.send("ciao") == ["Thanks for texting the service desk. Goodbye!"]


def test_bye_resets_and_ends() -> None:
    """BYE says goodbye, forgets the topic and marks the step ended."""
    chat = Chat(TOPICS)
    chat.send("printer")
    assert chat.send("bye") == ["Thanks for texting the service desk. Goodbye!"]
    assert chat.last is not None
    assert chat.last.ended
    assert chat.state is not None
    assert chat.state.topic_id is None


def test_agent_queued_routes_texts_away_from_the_bot() -> None:
    """AGENT transfers; queued, the engine stays silent until BYE."""
    chat = Chat(TOPICS)
    chat.send("printer")
    assert chat.send("agent") == [
        "Please stand by, I'm connecting you with an agent. Estimated wait: about 4 min."
    ]
    assert chat.effects.of(Transfer) == [Transfer(reason="asked")]
    assert chat.state is not None
    assert chat.state.mode == "queued"
    assert chat.engine.routes_to_agent(chat.state)
    assert chat.send("hello?") == []
    assert chat.state.mode == "queued"
    assert chat.send("bye") == ["Thanks for texting the service desk. Goodbye!"]
    assert not chat.engine.routes_to_agent(chat.state)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("unavailable", "No agent is available right now."),
        ("out_of_hours", "Our agents are away right now (outside business hours)."),
    ],
)
def test_no_agent_available_returns_to_the_bot(status: str, said: str) -> None:
    """An unavailable or out-of-hours transfer says which, offers a message, resets the topic."""
    chat = Chat(TOPICS)
    chat.effects.answers[Transfer] = lambda e: EffectResult(value={"status": status})
    chat.send("printer")
    [reply] = chat.send("agent")
    assert reply.startswith(said)
    assert "REPORT to leave a message" in reply
    assert chat.state is not None
    assert (chat.state.mode, chat.state.topic_id) == ("bot", None)


def test_transfer_node_uses_its_message_and_queue() -> None:
    """A transfer node asks for its queue and says its own stand-by text."""
    person = topic(
        "person", {"type": "transfer", "queue": "desk", "message": "Hold on."}, title="Person"
    )
    chat = Chat(topic_set(person))
    chat.effects.answers[Transfer] = lambda e: EffectResult(value={"status": "queued"})
    chat.send("hi")
    assert chat.send("1") == ["Hold on."]
    assert chat.effects.of(Transfer) == [Transfer(queue="desk", reason="topic")]


def test_agent_joined_and_left() -> None:
    """With an agent the bot is silent; when the agent leaves the texter is told."""
    chat = Chat(TOPICS)
    chat.send("agent")
    assert chat.state is not None
    chat.state = chat.engine.agent_joined(chat.state, chat.now)
    assert chat.send("thanks") == []
    step = chat.engine.agent_left(chat.state, MEMBER, chat.now)
    assert [r.body for r in step.replies] == [
        "You're back with the virtual agent. Reply MENU for options."
    ]
    assert step.state.mode == "bot"


def test_idle_conversation_starts_fresh_after_two_hours() -> None:
    """After 2 h idle the topic is dropped and the texter is welcomed back."""
    chat = Chat(TOPICS)
    chat.send("printer")
    assert chat.send("jam", after=timedelta(hours=1, minutes=59)) == ["Is it on?"]
    [reply] = chat.send("yes", after=timedelta(hours=2))
    assert reply.startswith(f"Welcome back!\n\n{MENU}")
    assert chat.state is not None
    assert chat.state.topic_id is None
    assert chat.vars == {}


def test_state_survives_json_round_trip_mid_topic() -> None:
    """A state saved mid-topic as JSON and loaded by a new engine carries on."""
    chat = Chat(TOPICS)
    chat.send("printer")
    chat.send("Error 42")
    assert chat.state is not None
    saved = json.dumps(chat.state.to_dict())
    restored = ConversationState.from_dict(json.loads(saved))
    assert restored == chat.state
    step = Engine(TOPICS).handle(restored, InboundText("no"), MEMBER, chat.now)
    assert [r.body for r in step.replies] == ["Thanks, Error 42 / False"]


def test_edited_topics_start_over() -> None:
    """A saved position whose node no longer exists starts over with the menu."""
    state = ConversationState(topic_id="printer", node_id="gone", greeted=True, last_activity=T0)
    step = Engine(TOPICS).handle(state, InboundText("yes"), MEMBER, T0)
    [reply] = [r.body for r in step.replies]
    assert reply.startswith("Sorry, this conversation was changed. Let's start over.")
    assert MENU in reply


def test_handle_never_changes_the_given_state() -> None:
    """The engine works on a copy: the caller's state object is untouched."""
    chat = Chat(TOPICS)
    chat.send("printer")
    assert chat.state is not None
    before = chat.state.to_dict()
    chat.engine.handle(chat.state, InboundText("jam"), MEMBER, chat.now)
    assert chat.state.to_dict() == before


def test_answers_stay_in_vars_after_the_topic() -> None:
    """Answers remain in vars after a topic ends, for a live agent to read."""
    chat = Chat(TOPICS)
    chat.send("printer")
    chat.send("jam")
    chat.send("no")
    assert chat.vars == {"error": "jam", "on": False}


def test_a_lost_effect_result_reruns_the_node() -> None:
    """A state left waiting for an effect (crash in between) runs the node again."""
    dynamic = topic(
        "pick",
        {"type": "dynamic_choice", "prompt": "Which?", "var": "r", "source": "mine"},
        {"type": "end", "message": "Got {{ vars.r.value }}"},
    )
    chat = Chat(topic_set(dynamic))
    chat.send("hi")
    step = chat.engine.handle(chat.state, InboundText("1"), MEMBER, chat.now)
    assert step.effect is not None
    chat.state = step.state  # the effect's result never arrives
    [listing] = chat.send("2")
    assert listing.startswith("Which?\n1. INC0000001")
    assert chat.send("2") == ["Got INC0000002"]


def test_commands_and_expiry_queries() -> None:
    """command() reads whole-message commands; is_expired only applies to bot mode."""
    engine = Engine(TOPICS)
    assert engine.command(" Restart! ") == "menu"
    assert engine.command("agent please") is None
    state = ConversationState(greeted=True, last_activity=T0)
    assert engine.is_expired(state, T0 + timedelta(hours=2))
    state.mode = "agent"
    assert not engine.is_expired(state, T0 + timedelta(hours=5))


def test_a_fresh_state_object_is_greeted() -> None:
    """A new, never-greeted state is treated like first contact."""
    step = Engine(TOPICS).handle(ConversationState(), InboundText("hi"), MEMBER, T0)
    assert step.replies[0].body.startswith("Hello!")


def test_a_copied_state_is_equal_and_shares_nothing_mutable() -> None:
    """The engine changes copies only; a new field that copy() forgot would show here."""
    original = ConversationState(
        topic_id="t",
        node_id="n",
        vars={"choice": {"value": "a", "tags": ["x"]}, "count": 2},
        retries=1,
        page=2,
        options=[{"value": "v", "label": "L", "record": {"number": "INC1"}}],
        menu=["a", "b"],
        stack=[Frame("caller", "switch")],
        mode="queued",
        pending="query",
        transfer_reason="asked",
        last_activity=datetime(2026, 11, 30, 12, tzinfo=UTC),
        greeted=True,
        offered_agent=True,
        deferred_text="later",
        versions={"t": 3, "caller": 1},
    )
    defaults = ConversationState()
    assert all(getattr(original, f.name) != getattr(defaults, f.name) for f in fields(original))
    copied = original.copy()
    assert copied == original
    copied.vars["choice"]["tags"].append("y")
    copied.options[0]["record"]["number"] = "INC2"
    assert copied.menu is not None
    copied.menu.append("c")
    copied.stack[0].node_id = "elsewhere"
    copied.versions["t"] = 4
    assert original.versions == {"t": 3, "caller": 1}
    assert original.vars["choice"]["tags"] == ["x"]
    assert original.options[0]["record"]["number"] == "INC1"
    assert original.menu == ["a", "b"]
    assert original.stack[0].node_id == "switch"
