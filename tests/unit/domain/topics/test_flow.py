"""The flow view of a topic: its boxes in order and the arrows the engine follows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import textdesk
from textdesk.domain.topics.checks import validate_topics
from textdesk.domain.topics.flow import OTHERWISE, SKIPPED, Flow, FlowEdge, flow_of
from textdesk.domain.topics.schema import Topic, TopicSet
from textdesk.topic_tools.topic_files import load_topics

DEMO = Path(textdesk.__file__).parent / "demo" / "topics"


def make(*nodes: dict[str, Any], topic_id: str = "t", **fields: Any) -> Topic:
    return Topic.model_validate({"id": topic_id, "title": "T", "nodes": list(nodes), **fields})


def arrows(flow: Flow) -> set[tuple[int, int | None, str | None]]:
    return {(e.source, e.target, e.label) for e in flow.edges}


@pytest.fixture(scope="module")
def demo() -> TopicSet:
    return load_topics(DEMO)


def test_report_issue_is_drawn_as_the_engine_runs_it(demo: TopicSet) -> None:
    """Boxes in file order with their ids and prompts; a decision's branch to
    ``cancelled`` (labelled with its condition) and its fall-through; no arrow after
    an ``end``."""
    topic = demo.get("report_issue")
    assert topic is not None
    flow = flow_of(topic, demo)
    assert [(n.id, n.named, n.type) for n in flow.nodes][3:7] == [
        ("confirm", True, "boolean"),
        ("n5", False, "decision"),
        ("n6", False, "set"),
        ("create", True, "create_record"),
    ]
    assert flow.nodes[0].summary == "In a few words, what's the problem?"
    assert flow.edges_from(4) == [
        FlowEdge(4, 9, "ref", "not vars.confirm", ("branches", 0, "goto"), "cancelled"),
        FlowEdge(4, 5, "next", OTHERWISE),
    ]
    assert flow.edges_from(8) == []  # the end node
    assert [e.source for e in flow.edges_to(9)] == [4]
    assert flow.dangling == []


def test_each_node_type_carries_on_where_the_engine_does() -> None:
    """end, goto and transfer stop; switch_topic goes on only with resume (or for a
    refused guest); a decision with a default does not fall through; a node with
    ``when`` can always be skipped to the next one."""
    flow = flow_of(
        make(
            {"id": "a", "type": "message", "text": "hi"},
            {"type": "goto", "goto": "a"},
            {"type": "goto", "goto": "a", "when": "vars.x"},
            {"type": "transfer"},
            {"type": "switch_topic", "topic": "other", "resume": True},
            {"type": "switch_topic", "topic": "other"},
            {"type": "switch_topic", "topic": "private"},
            {"type": "decision", "branches": [{"when": "vars.y", "goto": "a"}], "default": "a"},
            {
                "type": "dynamic_choice",
                "prompt": "?",
                "var": "r",
                "source": "my_open_incidents",
                "empty_goto": "a",
            },
            {"type": "end"},
            {"type": "message", "text": "after the end"},
        ),
        TopicSet(
            topics=[
                make(topic_id="other"),
                make(topic_id="private", requires_account=True),
            ]
        ),
    )
    assert arrows(flow) == {
        (0, 1, None),
        (1, 0, None),
        (2, 0, "vars.x"),
        (2, 3, SKIPPED),
        (4, 5, None),
        (6, 7, "guests (it needs an account)"),
        (7, 0, "vars.y"),
        (7, 0, OTHERWISE),
        (8, 0, "nothing to choose"),
        (8, 9, None),
    }


def test_a_reference_to_no_node_is_a_dangling_arrow() -> None:
    """A goto to a missing id has no target and is listed as dangling."""
    flow = flow_of(make({"type": "goto", "goto": "nowhere"}, {"type": "end"}))
    [edge] = flow.dangling
    assert (edge.source, edge.target, edge.target_id, edge.field) == (0, None, "nowhere", ("goto",))


def test_nodes_without_id_are_shown_by_the_id_the_engine_gives_them() -> None:
    """Unnamed nodes are ``n1``, ``n2``… by position (what a goto may name), flagged
    as unnamed; a goto to ``n2`` reaches the second node."""
    flow = flow_of(
        make({"type": "goto", "goto": "n2"}, {"type": "end"}, {"id": "x", "type": "end"})
    )
    assert [(n.id, n.named) for n in flow.nodes] == [("n1", False), ("n2", False), ("x", True)]
    assert flow.edges_from(0)[0].target == 1


def test_long_texts_are_summarised_on_one_line() -> None:
    """A box shows the first 60 characters of its text, whitespace collapsed."""
    flow = flow_of(
        make({"type": "message", "text": "word " * 30}, {"type": "set", "var": "v", "value": 3})
    )
    assert len(flow.nodes[0].summary) == 60
    assert flow.nodes[0].summary.endswith("…")
    assert flow.nodes[1].summary == "v = 3"


@pytest.mark.parametrize(
    "topic_id",
    ["greeting", "fallback", "report_issue", "my_incidents", "serial_number", "talk_to_person"],
)
def test_the_arrows_of_every_demo_topic_are_exactly_its_references(
    demo: TopicSet, topic_id: str
) -> None:
    """Renaming every node away breaks exactly the references the flow draws: the
    validator's "no node" errors sit at the arrows' fields, and each arrow reaches the
    node the engine jumps to."""
    topic = demo.get(topic_id)
    assert topic is not None
    flow = flow_of(topic, demo)
    refs = [e for e in flow.edges if e.kind == "ref"]
    for edge in refs:
        assert edge.target_id is not None
        assert edge.target == topic.index_of(edge.target_id)
    renamed = topic.model_copy(deep=True)
    for node in renamed.nodes:
        node.id = f"renamed_{node.id}"
    broken = {p.loc for p in validate_topics([renamed]) if p.message.startswith("no node with id")}
    assert broken == {("nodes", e.source, *(e.field or ())) for e in refs}
