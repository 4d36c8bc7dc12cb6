"""A node's form from the topic JSON Schema, and the edits its saving makes."""

from __future__ import annotations

import pytest

from textdesk.domain.topics.edits import EditError
from textdesk.domain.topics.node_refs import topic_ref_fields
from textdesk.domain.topics.schema import topic_json_schema
from textdesk.topic_tools.node_form import form_edit, node_form, node_types

SOURCE = """\
title: Forms
nodes:
  # ask what it is about
  - type: text
    prompt: What is it about?
    var: about
  - type: dynamic_choice
    prompt: Which one?
    var: incident
    source: my_open_incidents
  - id: done
    type: end
    message: Thanks.
"""


def test_every_field_of_every_node_type_is_in_its_form_with_help() -> None:
    schema = topic_json_schema()
    for node_type in node_types():
        source = f"title: t\nnodes:\n  - type: {node_type}\n"
        form = node_form(source, 0)
        model = schema["$defs"][
            schema["properties"]["nodes"]["items"]["discriminator"]["mapping"][node_type].split(
                "/"
            )[-1]
        ]
        assert [f.name for f in form.fields] == list(model["properties"]), node_type
        for form_field in form.fields:
            if form_field.name != "type":
                assert form_field.help, f"{node_type}.{form_field.name} has no help"
    assert set(node_types()) == set(topic_ref_fields())


def test_a_form_shows_the_yaml_values_kinds_and_errors() -> None:
    form = node_form(SOURCE, 1, {"source": ["no such query"]})
    fields = {f.name: f for f in form.fields}
    assert fields["prompt"].value == "Which one?"
    assert fields["prompt"].kind == "long"
    assert fields["empty_goto"].kind == "ref"
    assert [v for v, _ in fields["empty_goto"].choices] == ["n1", "done"]
    assert fields["params"].kind == "yaml"
    assert fields["empty_text"].value == ""
    assert fields["empty_text"].default == "There is nothing to choose from."
    assert fields["source"].errors == ["no such query"]
    assert node_form(SOURCE, 0).fields[[f.name for f in form.fields].index("id")].value == ""


def test_saving_a_form_rewrites_only_what_changed_and_connects_a_reference() -> None:
    submitted = {
        "id": "",
        "when": "",
        "prompt": "Which incident?",
        "var": "incident",
        "source": "my_open_incidents",
        "params": "",
        "label": "",
        "value": "",
        "empty_text": "",
        "empty_goto": "done",
    }
    made = form_edit(SOURCE, 1, submitted)
    assert made.source == SOURCE.replace("Which one?", "Which incident?").replace(
        "source: my_open_incidents\n", "source: my_open_incidents\n    empty_goto: done\n"
    )
    assert "# ask what it is about" in made.source


def test_a_flag_set_back_to_its_default_is_taken_out() -> None:
    source = "title: t\nnodes:\n  - type: card\n    record: r\n    link: false\n"
    made = form_edit(source, 0, {"link": "true"})
    assert made.source == "title: t\nnodes:\n  - type: card\n    record: r\n"
    assert form_edit(made.source, 0, {}).source == source


@pytest.mark.parametrize(
    ("index", "submitted", "words"),
    [
        (1, {"empty_goto": "nowhere"}, "no node 'nowhere'"),
        (0, {"prompt": "x", "id": "done"}, "already 'done'"),
        (2, {"message": "x", "id": "bad id"}, "is not an id"),
        (5, {}, "the topic has 4 nodes"),
        (3, {"goto": ""}, "a goto node needs a node to go to"),
    ],
)
def test_a_form_that_cannot_be_saved_says_why(
    index: int, submitted: dict[str, str], words: str
) -> None:
    source = SOURCE + "  - type: goto\n    goto: done\n"
    with pytest.raises(EditError, match=words):
        form_edit(source, index, submitted)


def test_a_yaml_box_that_is_no_yaml_is_refused() -> None:
    with pytest.raises(EditError, match="options: not YAML"):
        form_edit(
            "title: t\nnodes:\n  - type: choice\n    prompt: p\n    var: v\n    options: [a]\n",
            0,
            {"options": "[a, "},
        )
