"""Fields naming a node are found from the schema's mark, and only those are."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from textdesk.domain.topics.checks import validate_topics
from textdesk.domain.topics.new_nodes import starter
from textdesk.domain.topics.node_refs import (
    EACH,
    Reference,
    RefField,
    ref_fields,
    references,
    topic_ref_fields,
)
from textdesk.domain.topics.nodes import GotoNode, node_ref
from textdesk.domain.topics.schema import Topic, topic_json_schema

MISSING = "no_such_node"


class _Retry(BaseModel):
    after: str
    then: str = Field(json_schema_extra=node_ref("after a while"))


class _WaitNode(BaseModel):
    """A node type that does not exist: only its marks matter."""

    type: Literal["wait"]
    note: str = ""
    retries: list[_Retry] = Field(default_factory=list)
    on_timeout: str | None = Field(default=None, json_schema_extra=node_ref())


class _FutureTopic(BaseModel):
    nodes: list[Annotated[GotoNode | _WaitNode, Field(discriminator="type")]]


def test_a_marked_field_of_a_new_node_type_is_found_with_nothing_else_to_do() -> None:
    """Marking a field (even an optional one, or one in a list of objects) is all it takes."""
    found = ref_fields(_FutureTopic.model_json_schema())
    assert found == {
        "goto": (RefField(("goto",)),),
        "wait": (
            RefField(("retries", EACH, "then"), "after a while"),
            RefField(("on_timeout",)),
        ),
    }
    nodes = [
        {"type": "wait", "retries": [{"after": "1m", "then": "a"}, {"after": "2m", "then": "b"}]},
        {"type": "wait", "on_timeout": "c", "note": "not a node"},
    ]
    assert references(nodes, found) == [
        Reference(0, ("retries", 0, "then"), "a", "after a while"),
        Reference(0, ("retries", 1, "then"), "b", "after a while"),
        Reference(1, ("on_timeout",), "c"),
    ]


def test_the_topic_schema_marks_goto_branches_default_and_empty_goto() -> None:
    """Today's node references, as the JSON Schema a browser reads carries them."""
    marked = {t: [f.path for f in fields] for t, fields in topic_ref_fields().items() if fields}
    assert marked == {
        "goto": [("goto",)],
        "decision": [("branches", EACH, "goto"), ("default",)],
        "dynamic_choice": [("empty_goto",)],
    }
    assert '"x-node-ref": true' in str(topic_json_schema()).replace("'", '"').replace(
        "True", "true"
    )


def _string_fields(node_type: str) -> list[tuple[str | None, ...]]:
    """Free-text string fields of a node type, and of the objects in its lists."""
    schema = topic_json_schema()
    defs = schema["$defs"]
    ref = schema["properties"]["nodes"]["items"]["discriminator"]["mapping"][node_type]
    node = defs[ref.rsplit("/", 1)[1]]

    def strings(props: dict[str, Any], at: tuple[str | None, ...]) -> list[tuple[str | None, ...]]:
        out: list[tuple[str | None, ...]] = []
        for name, prop in props.items():
            kinds = [prop, *prop.get("anyOf", ())]
            if name in ("id", "type") or any("enum" in k or "const" in k for k in kinds):
                continue
            if any(k.get("type") == "string" for k in kinds):
                out.append((*at, name))
            items = prop.get("items", {})
            if "$ref" in items:
                inner = defs[items["$ref"].rsplit("/", 1)[1]]
                out += strings(inner.get("properties", {}), (*at, name, EACH))
        return out

    return strings(node["properties"], ())


def _filled(node_type: str, paths: list[tuple[str | None, ...]]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "type": node_type,
        **(starter(node_type, var="v", target=MISSING) or {}),
    }
    for path in paths:
        holders: list[Any] = [node]
        for part in path[:-1]:
            holders = [i for h in holders for i in h.get(part, [])] if part else holders
        for holder in holders:
            if isinstance(holder, dict):
                holder[path[-1]] = MISSING if path[-1] != "var" else "v"
    return node


@pytest.mark.parametrize("node_type", sorted(topic_ref_fields()))
def test_every_field_the_validator_checks_as_a_node_id_is_marked_and_no_other(
    node_type: str,
) -> None:
    """Cross-check with ``validate_topics``: with every free-text field of a node set to
    an unknown id, exactly the marked fields are reported as naming no node."""
    node = _filled(node_type, _string_fields(node_type))
    topic = Topic.model_validate({"id": "t", "title": "T", "nodes": [node]})
    flagged = {
        p.loc for p in validate_topics([topic]) if p.message == f"no node with id {MISSING!r}"
    }
    marked = {r.loc for r in references([node])}
    assert flagged == marked
