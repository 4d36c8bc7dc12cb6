"""Keeping a topic's references on their nodes while an edit moves nodes about.

A node without an ``id`` is known by its position (``n5``), which moving, adding or
removing nodes changes; so before a reference could follow a position to the wrong
node, the node it means is given a name and the reference rewritten to it.  The
functions here read the nodes of a topic's YAML as the loader does (valid or not)
and say which node each reference reaches, as the engine jumps: to the first node
with that id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from textdesk.domain.topics.flow import position_id
from textdesk.domain.topics.node_refs import FieldPath, references
from textdesk.domain.topics.nodes import ID_PATTERN
from textdesk.domain.topics.yaml_layout import EditError, plain
from textdesk.domain.topics.yaml_splice import NewNode, change, restructure

__all__ = [
    "fresh_id",
    "give_name",
    "given_id",
    "keep_references",
    "node_at",
    "node_ids",
    "nodes_of",
    "reached",
    "restructured",
    "target_name",
]

_POSITION_ID = re.compile(r"n\d+")


def nodes_of(text: str) -> list[Any]:
    """The nodes of a topic's YAML, as read (each a mapping, unless the file errs)."""
    data = plain(text)
    if data is None:
        return []
    if not isinstance(data, dict):
        raise EditError("a topic is a mapping of fields (title:, nodes:...)")
    nodes = data.get("nodes") or []
    if not isinstance(nodes, list):
        raise EditError("nodes is not a list")
    return nodes


def given_id(node: object) -> str | None:
    """The id the YAML gives a node, if any (the schema numbers the others)."""
    value = node.get("id") if isinstance(node, dict) else None
    return value if isinstance(value, str) and value else None


def node_ids(nodes: Sequence[object]) -> list[str]:
    """The id each node runs under: its own, or its position's (``n3``)."""
    return [given_id(node) or position_id(i) for i, node in enumerate(nodes)]


def reached(ids: Sequence[str], target: str) -> int | None:
    """The node a reference reaches: the first with that id, as the engine jumps."""
    return ids.index(target) if target in ids else None


def node_at(nodes: Sequence[object], index: int) -> Any:
    """Node ``index``, or an ``EditError`` saying there is none."""
    if not 0 <= index < len(nodes):
        raise EditError(f"nodes[{index}]: no such node (the topic has {len(nodes)})")
    return nodes[index]


def fresh_id(nodes: Sequence[Any], index: int) -> str:
    """A name for a node: its variable's, else its type's, made unique."""
    node = nodes[index] if isinstance(nodes[index], dict) else {}
    base = next(
        (
            v
            for v in (node.get("var"), node.get("type"), "node")
            if isinstance(v, str) and re.fullmatch(ID_PATTERN, v) and not _POSITION_ID.fullmatch(v)
        ),
        "node",
    )
    # Nor an id a dangling reference names: it would start reaching this node.
    taken = set(node_ids(nodes)) | {r.target for r in references(nodes)}
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}_{count}"
    return name


def give_name(
    text: str, index: int, expected: Mapping[tuple[int, FieldPath], int | None] | None = None
) -> tuple[str, str]:
    """Name node ``index``; point the references meant for it (by default: those
    reaching it now) at the name."""
    nodes = nodes_of(text)
    if expected is None:
        ids = node_ids(nodes)
        expected = {(r.index, r.field): reached(ids, r.target) for r in references(nodes)}
    name = fresh_id(nodes, index)
    text = change(text, ("nodes", index, "id"), name)
    for ref in references(nodes_of(text)):
        if expected.get((ref.index, ref.field)) == index and ref.target != name:
            text = change(text, ref.loc, name)
    return text, name


def keep_references(
    text: str,
    expected: Mapping[tuple[int, FieldPath], int | None],
    shadowing: set[int],
) -> tuple[str, list[tuple[int, str]]]:
    """Name nodes until every reference in ``expected`` reaches the node it did.

    ``expected``: (node, field) of a reference in the new text → the position of
    the node it meant (``None``: none); ``shadowing``: unnamed nodes whose position
    id already repeated a named node's id before the edit (left as they were).
    """
    named: list[tuple[int, str]] = []
    for _ in range(len(nodes_of(text)) + 1):
        nodes = nodes_of(text)
        ids = node_ids(nodes)
        explicit = {name for name in map(given_id, nodes) if name}
        fix = next(
            (
                i
                for i, node in enumerate(nodes)
                if given_id(node) is None and ids[i] in explicit and i not in shadowing
            ),
            None,
        )
        for ref in references(nodes) if fix is None else ():
            key = (ref.index, ref.field)
            if key not in expected:
                continue
            want, got = expected[key], reached(ids, ref.target)
            if got == want:
                continue
            if want is not None and given_id(nodes[want]) is None:
                fix = want
            elif got is not None and given_id(nodes[got]) is None:
                fix = got  # it reaches a node by the position that one has now
            if fix is not None:
                break
        if fix is None:
            return text, named
        text, name = give_name(text, fix, expected)
        named.append((fix, name))
    return text, named


def restructured(source: str, order: Sequence[int | NewNode]) -> tuple[str, list[tuple[int, str]]]:
    """``source`` with its nodes in ``order``, references kept on their nodes."""
    before = nodes_of(source)
    ids = node_ids(before)
    new_of_old = {old: new for new, old in enumerate(order) if isinstance(old, int)}
    expected: dict[tuple[int, FieldPath], int | None] = {}
    for ref in references(before):
        if ref.index in new_of_old:
            target = reached(ids, ref.target)
            expected[(new_of_old[ref.index], ref.field)] = (
                None if target is None else new_of_old.get(target)
            )
    explicit = {name for name in map(given_id, before) if name}
    shadowing = {
        new_of_old[i]
        for i, node in enumerate(before)
        if given_id(node) is None and ids[i] in explicit and i in new_of_old
    }
    return keep_references(restructure(source, order), expected, shadowing)


def target_name(text: str, target: int) -> tuple[str, str, list[tuple[int, str]]]:
    """The id to point at node ``target``, naming it first if it has none."""
    name = given_id(node_at(nodes_of(text), target))
    if name is not None:
        return text, name, []
    text, name = give_name(text, target)
    return text, name, [(target, name)]
