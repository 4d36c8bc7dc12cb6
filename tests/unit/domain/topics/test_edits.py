"""The designer's edits on every demo topic: YAML in, YAML out, checked by the real loader."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import textdesk
from textdesk.domain.topics.edits import (
    Edit,
    EditError,
    add_node,
    connect,
    move_node,
    remove_node,
    rename_node,
    set_field,
    unset_field,
)
from textdesk.domain.topics.flow import Flow, flow_of
from textdesk.domain.topics.node_refs import references, topic_ref_fields
from textdesk.domain.topics.yaml_layout import comments
from textdesk.domain.topics.yaml_writing import YAML_LOADER
from textdesk.topic_tools.topic_files import Document, folder_documents, read_documents

DEMO = Path(textdesk.__file__).parent / "demo" / "topics"
DOCUMENTS = folder_documents(DEMO)
TOPICS = [d for d in DOCUMENTS if not d.is_settings]
NAMES = [d.name for d in TOPICS]
NODE_TYPES = sorted(topic_ref_fields())
# What a new node of these types cannot start without (new_nodes says why).
NEEDS = {"image": {"media": "demo/serial.png"}, "switch_topic": {"topic": "greeting"}}


def source(name: str) -> str:
    return next(d.text for d in TOPICS if d.name == name)


def read(name: str, text: str) -> tuple[list[str], Flow | None]:
    """Errors of the demo folder with ``name`` replaced by ``text``, exactly as
    ``textdesk topics validate`` finds them, and the topic's flow if it loads."""
    documents = [Document(d.name, text if d.name == name else d.text) for d in DOCUMENTS]
    topic_set, found, _ = read_documents(documents)
    topic = topic_set.get(name.removesuffix(".yaml")) if topic_set else None
    drawn = flow_of(topic, topic_set) if topic and topic_set else None
    return [str(e) for e in found], drawn


def errors(name: str, text: str) -> list[str]:
    return read(name, text)[0]


def flow(name: str, text: str) -> Flow:
    found, drawn = read(name, text)
    assert drawn is not None, found
    return drawn


def loaded(text: str) -> Any:
    """``text`` read as the topic loader reads it (libyaml's reader where PyYAML has it)."""
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)


@lru_cache(maxsize=64)
def _nodes(text: str) -> list[Any]:
    """``loaded(text)``'s nodes, read once: ``reaches`` asks for two per reference."""
    return list(loaded(text)["nodes"])


def node_count(text: str) -> int:
    return len(loaded(text).get("nodes") or [])


def content(text: str, index: int) -> dict[str, Any]:
    """A node as written, less its id (which an edit may add)."""
    node = dict(_nodes(text)[index])
    node.pop("id", None)
    return node


def reaches(text: str, drawn: Flow) -> set[tuple[str, str, str]]:
    """Every reference as (its node, field, the node it reaches), by their content."""
    return {
        (repr(content(text, e.source)), repr(e.field), repr(content(text, e.target)))
        for e in drawn.edges
        if e.kind == "ref" and e.target is not None
    }


def valid_reaching(name: str, text: str) -> set[tuple[str, str, str]]:
    """``reaches`` of a topic that must be valid."""
    found, drawn = read(name, text)
    assert found == []
    assert drawn is not None
    return reaches(text, drawn)


# --- no edit, no change -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_setting_every_field_to_its_own_value_gives_the_file_back_byte_for_byte(
    name: str,
) -> None:
    """YAML → flow → (no change) YAML is the very file, for every field of every node,
    every top-level field, and a node moved to where it is."""
    text = source(name)
    flow(name, text)
    data = loaded(text)
    for key, value in data.items():
        assert set_field(text, (key,), value).source == text
    for index, node in enumerate(data["nodes"]):
        assert set_field(text, ("nodes", index), node).source == text
        for key, value in node.items():
            assert set_field(text, ("nodes", index, key), value).source == text
        assert move_node(text, index, index).source == text


# --- adding -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("node_type", NODE_TYPES)
def test_a_new_node_of_any_type_anywhere_is_valid_and_changes_no_reference(
    name: str, node_type: str
) -> None:
    """Added first, in the middle or last, a node of each type validates (given an
    image or a topic where it needs one), references reach the same nodes, and no
    comment is lost."""
    text = source(name)
    before = valid_reaching(name, text)
    count = node_count(text)
    for at in sorted({0, count // 2, count}):
        edit = add_node(text, node_type, at=at, fields=NEEDS.get(node_type))
        assert before <= valid_reaching(name, edit.source)
        assert node_count(edit.source) == count + 1
        assert content(edit.source, at)["type"] == node_type
        assert edit.dropped_comments == ()
        assert comments(edit.source) == comments(text)
        # Only a node whose reference points at its follower names that node.
        assert not edit.named or node_type in ("goto", "decision")


def test_an_image_or_switch_without_its_target_is_reported_by_the_validator() -> None:
    """The two types that cannot start valid say what they miss."""
    text = source("fallback.yaml")
    assert errors("fallback.yaml", add_node(text, "image").source) == [
        "fallback.yaml:8: nodes[1].media: no image ''"
    ]
    assert errors("fallback.yaml", add_node(text, "switch_topic").source) == [
        "fallback.yaml:8: nodes[1].topic: no topic with id ''"
    ]


def test_a_new_goto_points_at_the_node_after_it_naming_it() -> None:
    """A dropped goto changes nothing: it jumps to the node that follows, which gets
    a name (its variable's) for the purpose."""
    text = source("report_issue.yaml")
    edit = add_node(text, "goto", at=5)
    assert edit.named == ((6, "urgency"),)
    assert content(edit.source, 5) == {"type": "goto", "goto": "urgency"}
    assert loaded(edit.source)["nodes"][6]["id"] == "urgency"


def test_nodes_are_added_to_a_topic_with_none_yet() -> None:
    """A new topic (no nodes key, or ``nodes: []``) gets its first node."""
    assert add_node("title: New\n", "end").source == "title: New\nnodes:\n  - type: end\n"
    edit = add_node("title: New\nnodes: []  # none yet\n", "message", fields={"text": "Hi"})
    assert edit.source == "title: New\nnodes:  # none yet\n  - type: message\n    text: Hi\n"
    assert remove_node(edit.source, 0).source == "title: New\nnodes: []  # none yet\n"


def test_an_unknown_node_type_is_refused_naming_the_known_ones() -> None:
    """A typo'd type is an error message, not a broken topic."""
    with pytest.raises(EditError, match=r"no node type 'mesage'.*message"):
        add_node(source("fallback.yaml"), "mesage")


# --- removing -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_a_node_nobody_points_at_is_removed_and_the_topic_stays_valid(name: str) -> None:
    """Removing a node no reference reaches leaves a valid topic with every other
    reference on its node; one others point at is refused, naming them, or with
    ``force`` leaves exactly those references dangling."""
    text = source(name)
    before = flow(name, text)
    for index in range(len(before.nodes)):
        pointing = [e for e in before.edges_to(index) if e.kind == "ref" and e.source != index]
        if not pointing:
            edit = remove_node(text, index)
            assert errors(name, edit.source) == [] or node_count(text) == 1
            assert edit.dangling == ()
            continue
        with pytest.raises(EditError, match="point them elsewhere first"):
            remove_node(text, index)
        edit = remove_node(text, index, force=True)
        assert len(edit.dangling) == len(pointing)
        assert all("no node with id" in e for e in errors(name, edit.source))


def test_removing_a_node_reports_the_comments_that_went_with_it() -> None:
    """The comment written above the removed node is named as dropped; others stay."""
    text = source("report_issue.yaml")
    edit = remove_node(text, 5)
    assert edit.dropped_comments == (
        "# Network and mail outages stop people working: a notch more urgent.",
    )
    assert edit.drops_comments
    assert comments(edit.source) == comments(text)[1:]


def test_a_topic_left_with_no_nodes_keeps_an_empty_list() -> None:
    """The last node removed leaves ``nodes: []``, which still reads as a list."""
    edit = remove_node(source("fallback.yaml"), 0)
    assert edit.source.endswith("nodes: []\n")
    assert comments(edit.source) == comments(source("fallback.yaml"))


# --- moving --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_reorders_are_valid_and_keep_references_and_comments(name: str) -> None:
    """Each node moved first, last and one step down: valid, each reference reaching
    the same node as before, no comment lost, and moving it back gives the file back.
    (Moves to anywhere are drawn at random below.)"""
    text = source(name)
    before = valid_reaching(name, text)
    count = node_count(text)
    for index in range(count):
        for to in sorted({0, count - 1, min(index + 1, count - 1)} - {index}):
            edit = move_node(text, index, to)
            assert valid_reaching(name, edit.source) == before
            assert sorted(comments(edit.source)) == sorted(comments(text))
            if not edit.named:
                assert move_node(edit.source, to, index).source == text


POSITIONAL = """\
title: Positions
nodes:
  - type: boolean
    prompt: Again?
    var: again
  - type: decision
    branches:
      - when: vars.again
        goto: n1
    default: n4
  - type: message
    text: Not this one.
  - type: end
    message: Done.
"""


def test_a_reference_by_position_is_kept_on_its_node_by_naming_it() -> None:
    """``goto: n1`` means the first node; moved, that node is named and the goto follows."""
    edit = move_node(POSITIONAL, 0, 2)
    assert edit.named == ((2, "again"),)
    data = loaded(edit.source)["nodes"]
    assert data[2]["id"] == "again"
    assert data[0]["branches"][0]["goto"] == "again"
    # n4 (the end) did not move: that reference is left as it was.
    assert data[0]["default"] == "n4"
    assert errors("positions.yaml", edit.source) == []


def test_a_node_moved_onto_another_nodes_position_id_is_named() -> None:
    """An unnamed node landing at position 2 beside a node called ``n2`` is named,
    so ids stay unique."""
    text = "title: T\nnodes:\n  - type: message\n    text: a\n  - id: n2\n    type: end\n"
    edit = move_node(text, 1, 0)
    assert [n.get("id") for n in loaded(edit.source)["nodes"]] == ["n2", "message"]
    assert errors("t.yaml", edit.source) == []


# --- connecting, renaming, setting ------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_reference_field_can_be_connected_to_every_node(name: str) -> None:
    """Each node-naming field, pointed at each node, validates and is drawn so."""
    text = source(name)
    drawn = flow(name, text)
    for edge in [e for e in drawn.edges if e.kind == "ref"]:
        assert edge.field is not None
        for target in range(len(drawn.nodes)):
            edit = connect(text, edge.source, edge.field, target)
            assert errors(name, edit.source) == []
            after = flow(name, edit.source)
            assert any(
                e.field == edge.field and e.target == target for e in after.edges_from(edge.source)
            )


def test_connect_refuses_a_field_that_names_no_node() -> None:
    """Only marked fields are connected: a prompt is not a reference."""
    with pytest.raises(EditError, match="does not name a node"):
        connect(source("report_issue.yaml"), 0, ("prompt",), 1)


def test_an_optional_reference_is_added_and_unset() -> None:
    """A decision's default is written where the node ends and taken away again."""
    text = source("report_issue.yaml")
    edit = connect(text, 4, ("default",), 6)
    assert "    default: create\n\n  # Network" in edit.source
    assert unset_field(edit.source, ("nodes", 4, "default")).source == text


def test_renaming_a_node_takes_its_references_along() -> None:
    """Setting a node's id (the form's id field) renames it: gotos follow."""
    text = source("report_issue.yaml")
    edit = set_field(text, ("nodes", 9, "id"), "stop")
    assert loaded(edit.source)["nodes"][4]["branches"][0]["goto"] == "stop"
    assert errors("report_issue.yaml", edit.source) == []
    with pytest.raises(EditError, match="already 'create'"):
        rename_node(text, 9, "create")
    with pytest.raises(EditError, match="use this id"):
        unset_field(text, ("nodes", 9, "id"))


def test_a_changed_text_keeps_its_folding_and_the_comments_around_it() -> None:
    """A new end message stays a folded (``>-``) text under its comment."""
    text = source("report_issue.yaml")
    edit = set_field(text, ("nodes", 8, "message"), "Thanks! Your report is logged. " * 4)
    assert edit.dropped_comments == ()
    assert "opt in: say what will really happen.\n    message: >-\n      Thanks!" in edit.source
    assert loaded(edit.source)["nodes"][8]["message"] == "Thanks! Your report is logged. " * 4


def test_one_option_changed_leaves_the_others_as_written() -> None:
    """Setting a whole option list with one label changed rewrites that line only."""
    text = source("report_issue.yaml")
    options = loaded(text)["nodes"][1]["options"]
    options[2]["label"] = "Network or Wi-Fi"
    edit = set_field(text, ("nodes", 1, "options"), options)
    changed = [
        (a, b) for a, b in zip(text.splitlines(), edit.source.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        (
            "      - {value: network, label: Network / Wi-Fi}",
            "      - {value: network, label: Network or Wi-Fi}",
        )
    ]


def test_words_yaml_would_read_as_booleans_or_numbers_are_quoted() -> None:
    """``yes``, ``off``, ``1:20``, ``012`` set as text are read back as that text."""
    text = source("fallback.yaml")
    for word in ("yes", "off", "1:20", "012", "null", "", "- x", "a: b", "#tag"):
        edit = set_field(text, ("nodes", 0, "text"), word)
        assert loaded(edit.source)["nodes"][0]["text"] == word


# --- properties ------------------------------------------------------------------------------

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), value=_values, data=st.data())
def test_any_value_set_on_any_node_reads_back_and_leaves_other_nodes_alone(
    name: str, value: Any, data: st.DataObject
) -> None:
    """Whatever value is set on a node's field, the loader reads exactly it back, and
    every other node's lines are unchanged (or the edit is refused, saying why)."""
    text = source(name)
    nodes = loaded(text)["nodes"]
    index = data.draw(st.integers(0, len(nodes) - 1))
    field = data.draw(st.sampled_from(["text", "prompt", "extra", "when", "var"]))
    try:
        edit: Edit = set_field(text, ("nodes", index, field), value)
    except EditError:
        return
    after = loaded(edit.source)["nodes"]
    assert after[index][field] == value
    assert after[:index] + after[index + 1 :] == nodes[:index] + nodes[index + 1 :]
    assert comments(edit.source) == comments(text) or edit.dropped_comments


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), data=st.data())
def test_any_sequence_of_edits_leaves_a_valid_topic(name: str, data: st.DataObject) -> None:
    """Adds, moves, connections and removals in any order: the topic stays valid, an
    add or a move keeps every reference on its node, and only a removal or a
    reported drop takes comments away."""
    text = source(name)
    reached = valid_reaching(name, text)
    for _ in range(data.draw(st.integers(1, 4))):
        count = node_count(text)
        op = data.draw(st.sampled_from(["add", "move", "remove", "connect"]))
        if op == "add":
            kind = data.draw(st.sampled_from(NODE_TYPES))
            at = data.draw(st.integers(0, count))
            edit = add_node(text, kind, at=at, fields=NEEDS.get(kind))
        elif op == "move":
            edit = move_node(
                text, data.draw(st.integers(0, count - 1)), data.draw(st.integers(0, count - 1))
            )
        elif op == "remove" and count > 1:
            try:
                edit = remove_node(text, data.draw(st.integers(0, count - 1)))
            except EditError:
                continue
        else:
            refs = references(loaded(text)["nodes"])
            if not refs:
                continue
            ref = data.draw(st.sampled_from(refs))
            edit = connect(text, ref.index, ref.field, data.draw(st.integers(0, count - 1)))
        after = valid_reaching(name, edit.source)
        if op in ("add", "move"):
            assert reached <= after
        if not edit.dropped_comments:
            assert sorted(comments(edit.source)) == sorted(comments(text))
        text, reached = edit.source, after


# --- files written in other styles --------------------------------------------------------

STYLES = {
    "dashes at the key's column": "title: T\nnodes:\n- id: a\n  type: text\n  prompt: Hi\n"
    "  var: x\n# about the goto\n- type: goto\n  goto: a\n",
    "Windows newlines": "title: T\r\nnodes:\r\n  - id: a\r\n    type: text\r\n    prompt: Hi\r\n"
    "    var: x\r\n  - type: goto\r\n    goto: a\r\n",
    "no final newline": "title: T\nnodes:\n  - id: a\n    type: text\n    prompt: Hi\n    var: x\n"
    "  - type: goto\n    goto: a",
    "four-space indents": "title: T\nnodes:\n    -   id: a\n        type: text\n"
    "        prompt: Hi\n        var: x\n    -   type: goto\n        goto: a\n",
    "a node in flow style": "title: T\nnodes:\n  - {id: a, type: text, prompt: Hi, var: x}\n"
    "  - type: goto\n    goto: a\n",
    "a dash on its own line": "title: T\nnodes:\n  -\n    id: a\n    type: text\n    prompt: Hi\n"
    "    var: x\n  - type: goto\n    goto: a\n",
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_file_in_another_style_is_edited_in_its_own_style(style: str) -> None:
    """Hand-written layouts stay as written: a changed prompt changes its own line,
    a node added follows the file's indentation, and a move there and back gives
    the file back."""
    text = STYLES[style]
    edit = set_field(text, ("nodes", 0, "prompt"), "Hello")
    assert edit.source == text.replace("Hi", "Hello")
    added = add_node(text, "end", at=1).source
    assert loaded(added)["nodes"][1] == {"type": "end"}
    assert remove_node(added, 1).source == text
    moved = move_node(text, 1, 0).source
    assert [n["type"] for n in loaded(moved)["nodes"]] == ["goto", "text"]
    assert move_node(moved, 0, 1).source == text
    assert errors("t.yaml", moved) == []


def test_a_name_given_to_a_node_is_not_one_a_dangling_reference_waits_for() -> None:
    """Naming a node for a connection never makes a broken goto reach it by chance."""
    text = "title: T\nnodes:\n  - type: goto\n    goto: end\n  - type: end\n"
    edit = connect(text, 0, ("goto",), 1)
    assert edit.named == ((1, "end_2"),)
    assert loaded(edit.source)["nodes"][0]["goto"] == "end_2"
