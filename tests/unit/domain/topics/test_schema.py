"""The topic schema, cross-topic validation, SMS lint and the topic file loader."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from pydantic import ValidationError

from textdesk.domain.records import RECORD_FIELDS, Record
from textdesk.domain.topics.checks import Problem, validate_topics
from textdesk.domain.topics.schema import (
    ChoiceNode,
    Topic,
    TopicSet,
    TopicSettings,
    settings_json_schema,
    topic_json_schema,
)
from textdesk.topic_tools.topic_files import TopicFileError, load_topics, validate_dir


def make(*nodes: dict[str, Any], topic_id: str = "t") -> Topic:
    return Topic.model_validate({"id": topic_id, "title": "T", "nodes": list(nodes)})


def problems(*topics: Topic, **settings: Any) -> list[Problem]:
    """Problems of ``topics``; settings are checked too when some are given."""
    if not settings:
        return validate_topics(topics)
    return validate_topics(TopicSet(topics=list(topics), settings=TopicSettings(**settings)))


def messages(found: list[Problem], severity: str) -> list[str]:
    return [str(p) for p in found if p.severity == severity]


# --- schema -------------------------------------------------------------------------


def test_nodes_without_ids_are_numbered_by_position() -> None:
    """Nodes without an id get n1, n2... by position; named ones keep their name."""
    t = make({"type": "message", "text": "a"}, {"id": "x", "type": "end"}, {"type": "end"})
    assert [n.id for n in t.nodes] == ["n1", "x", "n3"]


def test_choice_options_accept_plain_strings_and_yaml_booleans() -> None:
    """Options may be strings (value = label), half-given dicts, or YAML's Yes/No."""
    t = make(
        {
            "type": "choice",
            "prompt": "?",
            "var": "c",
            "options": ["Red", True, {"label": "Big"}, {"value": "s", "label": "Small"}],
        }
    )
    node = t.nodes[0]
    assert isinstance(node, ChoiceNode)
    assert [(o.value, o.label) for o in node.options] == [
        ("Red", "Red"),
        ("Yes", "Yes"),
        ("Big", "Big"),
        ("s", "Small"),
    ]


@pytest.mark.parametrize(
    ("node", "loc", "kind"),
    [
        (
            {"type": "choice", "prompt": "?", "var": "c"},
            ("nodes", 0, "choice", "options"),
            "missing",
        ),
        (
            {"type": "message", "text": "a", "txt": "typo"},
            ("nodes", 0, "message", "txt"),
            "extra_forbidden",
        ),
        ({"type": "mesage", "text": "a"}, ("nodes", 0), "union_tag_invalid"),
        (
            {"type": "text", "prompt": "?", "var": "my var"},
            ("nodes", 0, "text", "var"),
            "string_pattern_mismatch",
        ),
        (
            {"type": "text", "prompt": "?", "var": "v", "pattern": "("},
            ("nodes", 0, "text", "pattern"),
            "value_error",
        ),
        (
            {"type": "file", "prompt": "?", "var": "v", "max_files": 0},
            ("nodes", 0, "file", "max_files"),
            "greater_than_equal",
        ),
    ],
)
def test_a_topic_with_missing_fields_typos_or_bad_values_is_refused(
    node: dict[str, Any], loc: tuple[Any, ...], kind: str
) -> None:
    """Missing fields, typos, unknown node types and bad values are refused."""
    with pytest.raises(ValidationError) as caught:
        make(node)
    [error] = caught.value.errors()
    assert (error["loc"], error["type"]) == (loc, kind)


def test_json_schema_lists_every_node_type() -> None:
    """The exported JSON Schema covers topics and settings."""
    schema = topic_json_schema()
    text = str(schema)
    for kind in ("dynamic_choice", "switch_topic", "create_record", "add_comment", "card"):
        assert kind in text
    assert schema["title"] == "textdesk topic"
    assert "commands" in str(settings_json_schema())


# --- validation ---------------------------------------------------------------------


def test_unknown_goto_targets_are_errors() -> None:
    """goto, decision branches/default and empty_goto must name existing nodes."""
    t = make(
        {"type": "goto", "goto": "nowhere"},
        {"type": "decision", "branches": [{"when": "true", "goto": "gone"}], "default": "lost"},
    )
    assert messages(problems(t), "error") == [
        "t: nodes[0].goto: no node with id 'nowhere'",
        "t: nodes[1].branches[0].goto: no node with id 'gone'",
        "t: nodes[1].default: no node with id 'lost'",
    ]


def test_duplicate_ids_are_errors() -> None:
    """Two nodes with one id, or two topics with one id, are errors."""
    t = make({"id": "a", "type": "end"}, {"id": "a", "type": "end"})
    found = messages(problems(t, make({"type": "end"})), "error")
    assert "t: nodes[1].id: duplicate node id 'a' (also nodes[0])" in found
    assert "t: id: duplicate topic id" in found


def test_switch_to_unknown_topic_and_bad_settings_are_errors() -> None:
    """switch_topic and the settings must name existing topics."""
    t = make({"type": "switch_topic", "topic": "ghost"})
    found = messages(problems(t, greeting_topic="hello", menu_order=["t", "x"]), "error")
    assert found == [
        "t: nodes[0].topic: no topic with id 'ghost'",
        "_settings: greeting_topic: no topic with id 'hello'",
        "_settings: fallback_topic: no topic with id 'fallback'",
        "_settings: menu_order[1]: no topic with id 'x'",
    ]


def test_templates_that_do_not_compile_are_errors() -> None:
    """Template and condition syntax is checked everywhere a template may appear."""
    t = make(
        {"type": "message", "text": "Hi {{ vars.name "},
        {"type": "end", "when": "vars.a ==", "message": "ok"},
        {"type": "create_record", "fields": {"a": "{% if %}"}},
    )
    found = messages(problems(t), "error")
    assert [f.split(": template")[0] for f in found] == [
        "t: nodes[0].text",
        "t: nodes[1].when",
        "t: nodes[2].fields.a",
    ]


def test_ucs2_warning_names_the_character() -> None:
    """A text pushed to UCS-2 by a stray character names it; curly quotes are fixed silently."""
    t = make(
        {"type": "message", "text": "Done \u2705"},
        {"type": "message", "text": "\u201cQuoted\u201d \u2014 fine"},
    )
    assert messages(problems(t), "warning") == [
        "t: nodes[0].text: is sent as UCS-2 (70 characters a segment) because of '\u2705' (U+2705)"
    ]


def test_long_texts_warn_and_choice_lists_count() -> None:
    """More than 3 segments warns; a choice's cost includes its options."""
    long_options = [f"A rather long option label, number {i}, to fill" for i in range(12)]
    t = make(
        {"type": "message", "text": "word " * 100},
        {"type": "choice", "prompt": "Pick", "var": "c", "options": long_options},
    )
    found = messages(problems(t), "warning")
    assert found == [
        "t: nodes[0].text: needs 4 SMS segments (more than 3); shorten it",
        "t: nodes[1].prompt: needs 4 SMS segments (more than 3); shorten it",
    ]


# --- files --------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(dedent(text).lstrip(), encoding="utf-8")


GREETING = """
    title: Greeting
    nodes:
      - type: message
        text: Hi
    """
FALLBACK = """
    title: Fallback
    nodes: []
    """


def folder_with(tmp_path: Path, name: str, text: str) -> Path:
    write(tmp_path, "greeting.yaml", GREETING)
    write(tmp_path, "fallback.yaml", FALLBACK)
    write(tmp_path, name, text)
    return tmp_path


def test_missing_field_error_names_file_line_and_field(tmp_path: Path) -> None:
    """A schema error says file:line: path: message, at the node missing the field."""
    folder_with(
        tmp_path,
        "report_issue.yaml",
        """
        title: Report
        nodes:
          - type: text
            prompt: What?
            var: what
          - type: choice
            prompt: Which?
            var: which
        """,
    )
    with pytest.raises(TopicFileError) as caught:
        load_topics(tmp_path)
    assert caught.value.errors == ["report_issue.yaml:6: nodes[1].options: field required"]


def test_typo_and_bad_type_errors_point_at_their_lines(tmp_path: Path) -> None:
    """An unknown key is reported on its own line; an unknown type on its node."""
    folder_with(
        tmp_path,
        "t.yaml",
        """
        title: T
        nodes:
          - type: message
            text: hello
            txt: hello
          - type: mesage
            text: hi
        """,
    )
    errors, _ = validate_dir(tmp_path)
    assert errors[0] == "t.yaml:5: nodes[0].txt: unknown field (a typo?)"
    assert errors[1].startswith("t.yaml:6: nodes[1]: input tag 'mesage'")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """Broken YAML is reported with its line."""
    folder_with(tmp_path, "t.yaml", "title: T\nnodes:\n  - type: message\n   text: [unclosed\n")
    errors, _ = validate_dir(tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith("t.yaml:4: YAML syntax:")


def test_cross_reference_errors_name_the_line(tmp_path: Path) -> None:
    """Validation problems (a goto to nowhere) are located in the file too."""
    folder_with(
        tmp_path,
        "t.yaml",
        """
        title: T
        nodes:
          - type: message
            text: hi
          - type: goto
            goto: nowhere
        """,
    )
    with pytest.raises(TopicFileError, match=r"t\.yaml:6: nodes\[1\]\.goto: no node with id"):
        load_topics(tmp_path)


def test_topic_id_defaults_to_file_name_and_settings_load(tmp_path: Path) -> None:
    """A topic's id defaults to its file name; _settings.yaml sets the topic set's settings."""
    folder_with(tmp_path, "printer_help.yml", "title: Printer\nkeywords: [printer]\n")
    write(tmp_path, "_settings.yaml", "help_text: Text MENU.\ncommands:\n  agent: [human]\n")
    topics = load_topics(tmp_path)
    assert topics.get("printer_help") is not None
    assert topics.settings.help_text == "Text MENU."
    assert topics.settings.commands.agent == ["human"]


def test_settings_errors_are_located(tmp_path: Path) -> None:
    """An unknown key in _settings.yaml is reported with file and line."""
    folder_with(tmp_path, "_settings.yaml", "help_text: ok\ntexts:\n  welcom_back: Hi\n")
    errors, _ = validate_dir(tmp_path)
    assert errors == ["_settings.yaml:3: texts.welcom_back: unknown field (a typo?)"]


def test_duplicate_topic_ids_across_files(tmp_path: Path) -> None:
    """Two files defining the same topic id are an error naming both files."""
    folder_with(tmp_path, "a.yaml", "id: same\ntitle: A\n")
    write(tmp_path, "b.yaml", "id: same\ntitle: B\n")
    errors, _ = validate_dir(tmp_path)
    assert errors == ["b.yaml:1: id: topic 'same' is also defined in a.yaml"]


def test_warnings_do_not_stop_loading(tmp_path: Path) -> None:
    """SMS warnings are reported by validate_dir but load_topics still loads."""
    folder_with(tmp_path, "t.yaml", "title: T\nnodes:\n  - type: message\n    text: Ok \u2705\n")
    errors, warnings = validate_dir(tmp_path)
    assert errors == []
    assert warnings == [
        "t.yaml:4: nodes[0].text: is sent as UCS-2 (70 characters a segment) "
        "because of '\u2705' (U+2705)"
    ]
    assert load_topics(tmp_path).get("t") is not None


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    """A folder that does not exist is reported, not crashed on."""
    errors, _ = validate_dir(tmp_path / "nope")
    assert errors == [f"{tmp_path / 'nope'}: not a folder"]


def test_what_would_break_in_front_of_a_texter_is_an_error_with_its_line(
    tmp_path: Path,
) -> None:
    """An unknown record source, a missing image and an unknown card field are errors."""
    folder_with(
        tmp_path,
        "t.yaml",
        """
        title: T
        nodes:
          - type: dynamic_choice
            prompt: Which one?
            var: ticket
            source: my_open_tickets
          - type: image
            media: demo/nowhere.png
          - type: card
            record: ticket
            fields: [number, colour]
        """,
    )
    errors, _ = validate_dir(tmp_path)
    assert errors == [
        "t.yaml:6: nodes[0].source: no record source 'my_open_tickets' (my_open_incidents)",
        "t.yaml:8: nodes[1].media: no image 'demo/nowhere.png'",
        "t.yaml:11: nodes[2].fields[1]: records have no field 'colour' ("
        + ", ".join(sorted(RECORD_FIELDS))
        + ")",
    ]


@pytest.mark.parametrize(
    "word",
    [
        "stop",
        "Menu",
        "restart",
        "agent",
        "bye",
        "help",
        "INFO",
        "notifications",
        "start",
        "unstop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
    ],
)
def test_a_whole_message_command_word_cannot_be_a_keyword(tmp_path: Path, word: str) -> None:
    """Texted alone, a command word never reaches topic discovery: it is an error."""
    folder_with(tmp_path, "t.yaml", f"title: T\nkeywords: [printer, {word}]\n")
    errors, _ = validate_dir(tmp_path)
    assert len(errors) == 1
    assert errors[0].startswith(f"t.yaml:2: keywords[1]: {word!r} is ")
    assert "can never start this one" in errors[0]


def test_a_phrase_containing_a_command_word_is_a_fine_keyword(tmp_path: Path) -> None:
    """'cancel my ticket' is not the whole-message word CANCEL."""
    folder_with(tmp_path, "t.yaml", "title: T\nkeywords: [cancel my ticket, stop sign]\n")
    assert validate_dir(tmp_path) == ([], [])


def test_record_fields_are_what_a_record_shows() -> None:
    """The fields cards are checked against are exactly those a record view has."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    record = Record(1, "INC0010001", "x", "", None, "New", 2, 3, None, None, None, None, now, now)
    assert set(record.as_dict()) == RECORD_FIELDS
