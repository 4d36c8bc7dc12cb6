"""The flow view of a source being typed: boxes even for half-written nodes, arrows
from flow_of, and the validator's findings and the costs on the node they are about."""

from __future__ import annotations

from pathlib import Path

import pytest

from textdesk.topic_tools.flow_view import flow_view, node_spans
from textdesk.topic_tools.prompt_costs import prompt_costs
from textdesk.topic_tools.topic_files import SourceError

DEMO = Path(__file__).parents[3] / "src" / "textdesk" / "demo" / "topics"

HALF_WRITTEN = """\
title: Half written
nodes:
  - type: choice
    var: kind
  - type: decision
    branches:
      - when: vars.kind.value == "x"
        goto: nowhere
  - type: switch_topic
  - type: bogus
  - id: last
    type: message
    text: Bye 🙂
"""


def test_a_half_written_topic_still_has_a_box_per_node_with_its_errors_on_it() -> None:
    errors = [
        SourceError("t.yaml", 3, "nodes[0].prompt", "Field required"),
        SourceError("t.yaml", 10, "nodes[3].type", "no such type"),
        SourceError("t.yaml", 1, "title", "too dull"),
        SourceError("t.yaml", 9, "", "found on the line of node 3 only"),
    ]
    costs = prompt_costs(HALF_WRITTEN)
    view = flow_view(HALF_WRITTEN, "half", errors, (), costs)
    assert view is not None
    assert [n.type for n in view.nodes] == [
        "choice",
        "decision",
        "switch_topic",
        "bogus",
        "message",
    ]
    assert [(e.key, e.message) for e in view.nodes[0].errors] == [("prompt", "Field required")]
    assert [e.key for e in view.nodes[3].errors] == ["type"]
    assert [e.message for e in view.nodes[2].errors] == ["found on the line of node 3 only"]
    assert [e.field for e in view.topic_errors] == ["title"]
    # The decision's branch names no node: its arrow is flagged, and ``default``
    # (a field that may name a node) is a port to connect.
    ports = view.nodes[1].ports
    dangling = [p for p in ports if p.dangling]
    assert [(p.field, p.target_id) for p in dangling] == [(["branches", 0, "goto"], "nowhere")]
    assert any(p.field == ["default"] and p.target is None and not p.dangling for p in ports)
    assert view.nodes[4].costs[0]["encoding"] == "UCS-2"
    assert view.nodes[4].costs[0]["culprits"] == ["🙂"]


def test_a_when_and_every_node_reference_of_the_demo_topics_are_drawn() -> None:
    source = (DEMO / "my_incidents.yaml").read_text()
    view = flow_view(source, "my_incidents")
    assert view is not None
    assert any(n.when for n in view.nodes)
    refs = [(n.id, p.target) for n in view.nodes for p in n.ports if p.kind == "ref" and p.target]
    assert refs, "my_incidents jumps between its nodes"
    for name in sorted(DEMO.glob("*.yaml")):
        drawn = flow_view(name.read_text(), name.stem)
        assert drawn is not None
        assert not [p for n in drawn.nodes for p in n.ports if p.dangling], name


@pytest.mark.parametrize("source", ["nodes: [", "- just a list", "nodes: 3", "title: x\n\tbad"])
def test_a_source_that_is_no_topic_has_no_flow(source: str) -> None:
    assert flow_view(source, "x") is None


def test_each_node_owns_its_lines_up_to_the_next_one() -> None:
    assert node_spans(HALF_WRITTEN) == [(3, 4), (5, 8), (9, 9), (10, 10), (11, 13)]
