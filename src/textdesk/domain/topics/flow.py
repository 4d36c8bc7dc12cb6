"""A topic as the designer draws it: boxes top to bottom, and arrows between them.

Each node is a box; an arrow goes from a node to the one after it when the engine
(``domain.agent.flow``) carries on there, and from a node to each node it names
(the fields marked as node references in the schema, see ``node_refs``).  The model
is read from a validated ``Topic`` and holds no YAML: edits go through ``edits``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textdesk.domain.topics.node_refs import FieldPath, node_references, value_at
from textdesk.domain.topics.schema import (
    DecisionNode,
    EndNode,
    GotoNode,
    Node,
    SetNode,
    SwitchTopicNode,
    Topic,
    TopicSet,
    TransferNode,
)

__all__ = ["Flow", "FlowEdge", "FlowNode", "flow_of", "position_id"]

SUMMARY_LENGTH = 60
# The field that says best what a node does, first found first: what it asks,
# says, shows, or acts on.
_SUMMARY_FIELDS = (
    "prompt",
    "text",
    "message",
    "caption",
    "label",
    "media",
    "topic",
    "queue",
    "record",
    "table",
)
SKIPPED = "if skipped"
OTHERWISE = "otherwise"
GUESTS = "guests (it needs an account)"


def position_id(index: int) -> str:
    """The id the schema gives the node at ``index`` (0-based) when it has none."""
    return f"n{index + 1}"


@dataclass(frozen=True)
class FlowNode:
    """One box: ``index`` in ``topic.nodes``, the ``id`` gotos use, what it is.

    ``named``: the topic gives the id; otherwise it is the position's (``n3``),
    which changes when nodes move (edits name a node before pointing at it).
    ``when``: the condition without which the node is skipped.
    """

    index: int
    id: str
    named: bool
    type: str
    summary: str
    when: str | None


@dataclass(frozen=True)
class FlowEdge:
    """One arrow from ``nodes[source]`` to ``nodes[target]``.

    ``kind``: ``next`` (on to the following node) or ``ref`` (a field naming a
    node: ``field`` in the source node, ``target_id`` as written there).  A ``ref``
    whose id names no node has no ``target``: it is dangling.  ``label``: the
    arrow's words, e.g. a decision branch's ``when``.
    """

    source: int
    target: int | None
    kind: Literal["next", "ref"]
    label: str | None = None
    field: FieldPath | None = None
    target_id: str | None = None

    @property
    def dangling(self) -> bool:
        return self.target is None


@dataclass(frozen=True)
class Flow:
    """A topic's boxes, in order, and its arrows."""

    topic_id: str
    nodes: tuple[FlowNode, ...]
    edges: tuple[FlowEdge, ...]

    def edges_from(self, index: int) -> list[FlowEdge]:
        return [e for e in self.edges if e.source == index]

    def edges_to(self, index: int) -> list[FlowEdge]:
        return [e for e in self.edges if e.target == index]

    @property
    def dangling(self) -> list[FlowEdge]:
        """References to no node (the validator refuses them)."""
        return [e for e in self.edges if e.dangling]


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _summary(node: Node) -> str:
    if isinstance(node, SetNode):
        return _shorten(f"{node.var} = {node.value}")
    for name in _SUMMARY_FIELDS:
        value = getattr(node, name, None)
        if isinstance(value, str) and value:
            return _shorten(value)
    return ""


def _carries_on(node: Node, needs_account: set[str]) -> tuple[bool, str | None]:
    """Whether the engine runs the next node after this one has run, and why.

    Mirrors ``domain.agent.flow._execute``: ``end`` finishes the topic, ``goto``
    jumps, ``transfer`` hands the texter to a person, ``switch_topic`` leaves for
    another topic unless it ``resume``s (or a guest is refused it); a ``decision``
    with no ``default`` falls through when no branch holds.
    """
    if isinstance(node, EndNode | GotoNode | TransferNode):
        return False, None
    if isinstance(node, SwitchTopicNode):
        if node.resume:
            return True, None
        if node.topic in needs_account:
            return True, GUESTS
        return False, None
    if isinstance(node, DecisionNode):
        return node.default is None, OTHERWISE
    return True, None


def _ref_label(node: Node, field: FieldPath, label: str | None) -> str | None:
    """The schema's words for a field, else the ``when`` guarding it (a branch's,
    or a goto's own)."""
    if label is not None:
        return label
    when = value_at(node, (*field[:-1], "when"))
    return when if isinstance(when, str) else None


def flow_of(topic: Topic, topics: TopicSet | None = None) -> Flow:
    """The boxes and arrows of ``topic``.

    ``topics``: the deployment's topics, if known, so that a ``switch_topic`` to an
    account-only topic shows the path a refused guest takes (on to the next node).
    """
    needs_account = {t.id for t in topics.topics if t.requires_account} if topics else set()
    boxes = tuple(
        FlowNode(
            index=index,
            id=node.id,
            named=node.id != position_id(index),
            type=node.type,
            summary=_summary(node),
            when=node.when,
        )
        for index, node in enumerate(topic.nodes)
    )
    edges: list[FlowEdge] = []
    last = len(topic.nodes) - 1
    for index, node in enumerate(topic.nodes):
        for field, target, label in node_references(node):
            edges.append(
                FlowEdge(
                    source=index,
                    target=topic.index_of(target),
                    kind="ref",
                    label=_ref_label(node, field, label),
                    field=field,
                    target_id=target,
                )
            )
        carries_on, why = _carries_on(node, needs_account)
        if index < last and (carries_on or node.when is not None):
            # A node whose ``when`` is false is passed over: on to the next one.
            edges.append(FlowEdge(index, index + 1, "next", label=why if carries_on else SKIPPED))
    return Flow(topic.id, boxes, tuple(edges))
