"""What the designer's flow view draws of a source being typed: ``flow_of`` of it,
with the validator's findings and the SMS costs pinned to the node they are about.

A source that is half written still has a flow: a node that does not validate yet
is drawn from what it has (read without validation, by its type's model), so an
error shows on its box instead of the whole view going blank.  Only a source that
is not YAML at all, or not a topic's shape, has no flow (``flow_view`` gives
``None``): the page keeps the last one and says why.

Findings name a field as ``nodes[2].options[0]``: the index pins them to a box, the
first key to a field of its form; a finding of no node (``title``) pins to a node
by its line when the line is inside one, else to the topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from textdesk.domain.topics.flow import Flow, flow_of, position_id
from textdesk.domain.topics.node_refs import EACH, topic_ref_fields, value_at
from textdesk.domain.topics.schema import MessageNode, Node, Topic
from textdesk.domain.topics.yaml_writing import YAML_LOADER
from textdesk.topic_tools.prompt_costs import PromptCost
from textdesk.topic_tools.topic_files import SourceError

__all__ = ["FlowView", "NodeView", "Pinned", "Port", "flow_view", "node_spans"]

_NODE: TypeAdapter[Node] = TypeAdapter(Node)
_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].annotation.__args__[0]: model
    for model in get_args(get_args(Node)[0])
}
_NODE_FIELD = re.compile(r"^nodes\[(\d+)\](?:\.([A-Za-z_][A-Za-z0-9_]*))?")


@dataclass(frozen=True)
class Pinned:
    """A finding of the validator where the designer shows it."""

    line: int
    field: str
    message: str
    key: str | None  # the node's field it is about (``options``), if any


@dataclass(frozen=True)
class Port:
    """An arrow's start on a box: the ``next`` node, or a field naming a node.

    A ref port with no ``target`` is dangling (``target_id`` names no node) or not
    set yet (``target_id`` is ``None``: an optional field such as ``default``, to
    connect by dragging from it).
    """

    kind: str
    label: str
    field: list[str | int] | None = None
    target: int | None = None
    target_id: str | None = None
    dangling: bool = False


@dataclass(frozen=True)
class NodeView:
    """One box: what ``flow_of`` says of the node, where it is, what is wrong, costs."""

    index: int
    id: str
    named: bool
    type: str
    summary: str
    when: str | None
    lines: tuple[int, int]
    ports: list[Port] = field(default_factory=list)
    errors: list[Pinned] = field(default_factory=list)
    warnings: list[Pinned] = field(default_factory=list)
    costs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FlowView:
    """Every box in order, and the findings of no node (``topic_errors``)."""

    nodes: list[NodeView]
    topic_errors: list[Pinned]
    topic_warnings: list[Pinned]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _blank(annotation: object) -> object:
    origin = get_origin(annotation) or annotation
    blanks: dict[object, object] = {list: [], dict: {}, str: ""}
    return blanks.get(origin)


def _blanks(model: type[BaseModel]) -> dict[str, object]:
    """An empty value for each required field, so reading a half-typed node works."""
    return {
        name: _blank(info.annotation)
        for name, info in model.model_fields.items()
        if info.is_required() and name != "type"
    }


def _lenient(raw: object, index: int) -> BaseModel:
    """A node model of ``raw``: validated if it is valid, else as far as it goes."""
    try:
        node: BaseModel = _NODE.validate_python(raw)
    except ValidationError:
        data = raw if isinstance(raw, dict) else {}
        node_type = data.get("type")
        model = _MODELS.get(node_type) if isinstance(node_type, str) else None
        if model is None:
            shown = node_type if isinstance(node_type, str) and node_type else "?"
            node = MessageNode.model_construct(type=shown, text="")
        else:
            given = {k: v for k, v in data.items() if k in model.model_fields}
            node = model.model_construct(**{**_blanks(model), **given})
    if not isinstance(getattr(node, "id", None), str) or not node.id:  # type: ignore[attr-defined]
        node.id = position_id(index)  # type: ignore[attr-defined]
    return node


def node_spans(source: str) -> list[tuple[int, int]]:
    """The first and last line (1-based) of each node of ``nodes``."""
    try:
        root = yaml.compose(source, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "nodes":
            if not isinstance(value, yaml.SequenceNode):
                return []
            # A block item ends where the next one's ``-`` is: a node's lines run up
            # to the line before the next node's.
            starts = [item.start_mark.line + 1 for item in value.value]
            spans = []
            for i, item in enumerate(value.value):
                if i + 1 < len(starts):
                    end = max(starts[i], starts[i + 1] - 1)
                else:
                    end = item.end_mark.line + (0 if item.end_mark.column == 0 else 1)
                spans.append((starts[i], max(end, starts[i])))
            return spans
    return []


def _pin(
    found: Sequence[SourceError], spans: list[tuple[int, int]], count: int
) -> tuple[dict[int, list[Pinned]], list[Pinned]]:
    by_node: dict[int, list[Pinned]] = {}
    loose: list[Pinned] = []
    for finding in found:
        match = _NODE_FIELD.match(finding.field or "")
        index: int | None = None
        key = None
        if match and int(match.group(1)) < count:
            index, key = int(match.group(1)), match.group(2)
        else:
            index = next((i for i, (a, b) in enumerate(spans) if a <= finding.line <= b), None)
        pinned = Pinned(finding.line, finding.field, finding.message, key)
        (by_node.setdefault(index, []) if index is not None else loose).append(pinned)
    return by_node, loose


def _ports(flow: Flow, index: int, node: BaseModel) -> list[Port]:
    ports: list[Port] = []
    for edge in flow.edges_from(index):
        if edge.kind == "next":
            ports.append(Port("next", edge.label or "next", target=edge.target))
        else:
            field_path = list(edge.field or ())
            label = edge.label or ".".join(str(p) for p in field_path)
            ports.append(Port("ref", label, field_path, edge.target, edge.target_id, edge.dangling))
    # A field that may name a node but does not yet: a port to drag an arrow from.
    for ref in topic_ref_fields().get(str(getattr(node, "type", "")), ()):
        if EACH in ref.path:
            continue
        path: list[str | int] = [p for p in ref.path if p is not None]
        if value_at(node, tuple(path)) is None:
            ports.append(Port("ref", ref.label or ".".join(map(str, path)), path))
    return ports


def flow_view(
    source: str,
    topic_id: str,
    errors: Sequence[SourceError] = (),
    warnings: Sequence[SourceError] = (),
    costs: Sequence[PromptCost] = (),
) -> FlowView | None:
    """The flow of ``source`` with ``errors``, ``warnings`` and ``costs`` on its boxes;
    ``None`` when ``source`` is not a topic's YAML at all."""
    try:
        data = yaml.load(source, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    raw_nodes = data.get("nodes", [])
    if raw_nodes is None:
        raw_nodes = []
    if not isinstance(raw_nodes, list):
        return None
    nodes = [_lenient(raw, i) for i, raw in enumerate(raw_nodes)]
    topic = Topic.model_construct(id=topic_id, title=str(data.get("title", "")), nodes=nodes)
    flow = flow_of(topic)
    spans = node_spans(source)
    bad, loose_bad = _pin(errors, spans, len(nodes))
    odd, loose_odd = _pin(warnings, spans, len(nodes))
    views = []
    for box in flow.nodes:
        views.append(
            NodeView(
                index=box.index,
                id=box.id,
                named=box.named,
                type=box.type,
                summary=box.summary,
                when=box.when if isinstance(box.when, str) else None,
                lines=spans[box.index] if box.index < len(spans) else (0, 0),
                ports=_ports(flow, box.index, nodes[box.index]),
                errors=bad.get(box.index, []),
                warnings=odd.get(box.index, []),
                costs=[
                    {
                        "field": c.field,
                        "encoding": c.encoding,
                        "segments": c.segments,
                        "length": c.length,
                        "culprits": list(c.culprits),
                    }
                    for c in costs
                    if c.node == box.index
                ],
            )
        )
    return FlowView(views, loose_bad, loose_odd)
