"""Which fields of a node name another node, read from the topic JSON Schema.

A field whose value is a node id carries the ``x-node-ref`` annotation (see
``nodes.node_ref``); walking the schema finds every such field of every node type,
so the flow view, the designer's edits and their tests know a new one the moment it
is marked, with nothing listed by hand.  The walk reads the JSON Schema rather than
the Pydantic classes so that a browser holding the same schema can do the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from textdesk.domain.topics.nodes import EDGE_LABEL, NODE_REF
from textdesk.domain.topics.schema import topic_json_schema

__all__ = [
    "EACH",
    "FieldPath",
    "RefField",
    "Reference",
    "node_references",
    "ref_fields",
    "references",
    "topic_ref_fields",
    "value_at",
]

EACH = None
"""In a ``RefField.path``: every item of a list (``branches[*].goto``)."""

FieldPath = tuple[str | int, ...]
"""A place inside one node, as the validator names it: ``("branches", 0, "goto")``."""


@dataclass(frozen=True)
class RefField:
    """A field naming a node, in every node of one type.

    ``path``: keys from the node down to the field, ``EACH`` standing for the items
    of a list; ``label``: the schema's words for its arrow (``otherwise``), if any.
    """

    path: tuple[str | None, ...]
    label: str | None = None


@dataclass(frozen=True)
class Reference:
    """One node naming another: ``nodes[index]`` holds ``target`` at ``field``."""

    index: int
    field: FieldPath
    target: str
    label: str | None = None

    @property
    def loc(self) -> FieldPath:
        """Where the reference is in the topic, as validation errors say it."""
        return ("nodes", self.index, *self.field)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return target  # type: ignore[no-any-return]


def _walk(
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    path: tuple[str | None, ...],
    label: str | None,
    seen: frozenset[str],
) -> Iterator[RefField]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:  # a recursive model: its fields are walked once, further up
            return
        seen = seen | {ref}
    schema = _resolve(schema, root)
    found = schema.get(EDGE_LABEL)
    label = found if isinstance(found, str) else label
    if schema.get(NODE_REF):
        yield RefField(path, label)
        return
    # ``str | None`` puts the mark on the property or on its string branch.
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, ()):
            yield from _walk(branch, root, path, label, seen)
    for name, prop in schema.get("properties", {}).items():
        yield from _walk(prop, root, (*path, name), None, seen)
    items = schema.get("items")
    if isinstance(items, Mapping):
        yield from _walk(items, root, (*path, EACH), None, seen)


def ref_fields(schema: Mapping[str, Any]) -> dict[str, tuple[RefField, ...]]:
    """For each node ``type`` of a topic JSON Schema, the fields that name a node.

    ``schema`` is ``topic_json_schema()`` or any schema of the same shape (an object
    whose ``nodes`` are a list of objects told apart by a constant ``type``).
    """
    items = _resolve(schema["properties"]["nodes"]["items"], schema)
    variants = [_resolve(v, schema) for key in ("oneOf", "anyOf") for v in items.get(key, ())]
    if not variants:
        variants = [items]
    out: dict[str, tuple[RefField, ...]] = {}
    for variant in variants:
        node_type = variant.get("properties", {}).get("type", {}).get("const")
        if isinstance(node_type, str):
            out[node_type] = tuple(_walk(variant, schema, (), None, frozenset()))
    return out


@cache
def topic_ref_fields() -> Mapping[str, tuple[RefField, ...]]:
    """``ref_fields`` of the topic schema (computed once)."""
    return ref_fields(topic_json_schema())


def _get(holder: object, key: str | int) -> object:
    if isinstance(key, int):
        if isinstance(holder, Sequence) and not isinstance(holder, str) and key < len(holder):
            return holder[key]
        return None
    if isinstance(holder, Mapping):
        return holder.get(key)
    if isinstance(holder, BaseModel):
        return getattr(holder, key, None)
    return None


def _expand(holder: object, path: tuple[str | None, ...], at: FieldPath) -> Iterator[FieldPath]:
    if not path:
        yield at
        return
    head, rest = path[0], path[1:]
    if head is EACH:
        if isinstance(holder, Sequence) and not isinstance(holder, str):
            for i, item in enumerate(holder):
                yield from _expand(item, rest, (*at, i))
        return
    yield from _expand(_get(holder, head), rest, (*at, head))


def value_at(holder: object, field: FieldPath) -> object:
    """The value at ``field`` in a node (a model or a mapping read from YAML)."""
    for key in field:
        holder = _get(holder, key)
    return holder


def node_references(
    node: object, fields: Mapping[str, tuple[RefField, ...]] | None = None
) -> Iterator[tuple[FieldPath, str, str | None]]:
    """(field, node id, label) for every reference a node makes.

    ``node`` is a node model or a node as read from YAML (a mapping, maybe invalid:
    what is not a reference-shaped value is passed over).
    """
    fields = topic_ref_fields() if fields is None else fields
    node_type = _get(node, "type")
    for ref_field in fields.get(node_type, ()) if isinstance(node_type, str) else ():
        for field in _expand(node, ref_field.path, ()):
            target = value_at(node, field)
            if isinstance(target, str):
                yield field, target, ref_field.label


def references(
    nodes: Sequence[object], fields: Mapping[str, tuple[RefField, ...]] | None = None
) -> list[Reference]:
    """Every reference the nodes of a topic make, in order."""
    return [
        Reference(index, field, target, label)
        for index, node in enumerate(nodes)
        for field, target, label in node_references(node, fields)
    ]
