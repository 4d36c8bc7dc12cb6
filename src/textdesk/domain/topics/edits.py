"""The designer's edits of a topic, each taking its YAML source and giving the new one.

Only the lines of what changes are rewritten (``yaml_splice``): the rest of the
file keeps its comments and layout byte for byte, and ``Edit.dropped_comments``
names any comment the edit did take away (those of a removed node, of a replaced
list), so the designer can say so.  Edits work on any topic that reads as YAML,
valid or not: checking the result is the validator's job.

References keep pointing at the same nodes: a node known only by its position
(``n5``) is given a name (``Edit.named``) before a move could take a reference to
the wrong node (``reference_keeping``); connecting to a node names it first.
Removing a node that others point at is refused, naming them, unless ``force`` is
given: then the references are left dangling, listed in ``Edit.dangling``, for the
designer to reconnect.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textdesk.domain.topics.new_nodes import starter, var_name
from textdesk.domain.topics.node_refs import (
    EACH,
    FieldPath,
    Reference,
    node_references,
    references,
    topic_ref_fields,
)
from textdesk.domain.topics.nodes import ID_PATTERN
from textdesk.domain.topics.reference_keeping import (
    node_at,
    node_ids,
    nodes_of,
    reached,
    restructured,
    target_name,
)
from textdesk.domain.topics.yaml_layout import EditError, comments
from textdesk.domain.topics.yaml_splice import DELETE, NewNode, Path, change

__all__ = [
    "Edit",
    "EditError",
    "add_node",
    "connect",
    "move_node",
    "remove_node",
    "rename_node",
    "set_field",
    "unset_field",
]

_UNSET = "\0"  # a new node's reference before it is known where it points


@dataclass(frozen=True)
class Edit:
    """The new source of an edited topic, and what the designer should say about it.

    ``dropped_comments``: comments of the old source that are gone;
    ``named``: (position, id) of nodes given an id so references keep finding them;
    ``dangling``: references of the new source that name no node.
    """

    source: str
    dropped_comments: tuple[str, ...] = ()
    named: tuple[tuple[int, str], ...] = ()
    dangling: tuple[Reference, ...] = ()

    @property
    def drops_comments(self) -> bool:
        return bool(self.dropped_comments)


def _where(loc: FieldPath) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _edit(before: str, after: str, named: Sequence[tuple[int, str]] = ()) -> Edit:
    lost = Counter(comments(before)) - Counter(comments(after))
    dropped = []
    for comment in comments(before):
        if lost[comment] > 0:
            lost[comment] -= 1
            dropped.append(comment)
    nodes = nodes_of(after)
    ids = node_ids(nodes)
    dangling = tuple(r for r in references(nodes) if reached(ids, r.target) is None)
    return Edit(after, tuple(dropped), tuple(named), dangling)


# --- the edits ------------------------------------------------------------------------


def add_node(
    source: str,
    node_type: str,
    *,
    at: int | None = None,
    fields: Mapping[str, object] | None = None,
) -> Edit:
    """A new ``node_type`` node at position ``at`` (default: last), starting as
    ``new_nodes.starter`` gives it, with ``fields`` over that."""
    nodes = nodes_of(source)
    at = len(nodes) if at is None else at
    if not 0 <= at <= len(nodes):
        raise EditError(f"nodes[{at}]: a node goes at 0 to {len(nodes)}")
    extra = dict(fields or {})

    def new_node(target: str) -> NewNode | None:
        base = starter(node_type, var=var_name(nodes, node_type), target=target)
        if base is None:
            return None
        node = NewNode({"id": extra["id"]} if "id" in extra else {})
        node.update({"type": node_type, **base, **extra})
        return node

    node = new_node(_UNSET)
    if node is None:
        known = ", ".join(sorted(topic_ref_fields()))
        raise EditError(f"no node type {node_type!r} ({known})")
    text, named = source, list[tuple[int, str]]()
    unset = any(target == _UNSET for _, target, _ in node_references(node))
    if unset and nodes:
        # Its references point at the node after it: it changes nothing yet.
        text, target, named = target_name(source, at if at < len(nodes) else at - 1)
        node = new_node(target)
        assert node is not None
    elif unset:
        node = new_node("")
        assert node is not None
    order: list[int | NewNode] = [*range(at), node, *range(at, len(nodes))]
    text, kept = restructured(text, order)
    renamed = [(i + (i >= at), name) for i, name in named]
    return _edit(source, text, [*renamed, *kept])


def _referrers(nodes: Sequence[object], index: int) -> list[Reference]:
    ids = node_ids(nodes)
    return [r for r in references(nodes) if r.index != index and reached(ids, r.target) == index]


def remove_node(source: str, index: int, *, force: bool = False) -> Edit:
    """The topic without node ``index``.

    Refused while other nodes point at it, naming them; with ``force`` it goes and
    their references are left dangling (``Edit.dangling``).
    """
    nodes = nodes_of(source)
    node_at(nodes, index)
    pointing = _referrers(nodes, index)
    if pointing and not force:
        where = ", ".join(_where(r.loc) for r in pointing)
        raise EditError(
            f"nodes[{index}] ({node_ids(nodes)[index]}) is where {where} go: "
            "point them elsewhere first, or remove it anyway"
        )
    return _edit(source, *restructured(source, [i for i in range(len(nodes)) if i != index]))


def move_node(source: str, index: int, to: int) -> Edit:
    """The topic with node ``index`` moved to position ``to`` (0 is first)."""
    nodes = nodes_of(source)
    node_at(nodes, index)
    node_at(nodes, to)
    order = [i for i in range(len(nodes)) if i != index]
    order.insert(to, index)
    return _edit(source, *restructured(source, order))


def _ref_field(node: object, field: FieldPath) -> bool:
    node_type = node.get("type") if isinstance(node, dict) else None
    for ref_field in topic_ref_fields().get(node_type, ()) if isinstance(node_type, str) else ():
        if len(ref_field.path) == len(field) and all(
            isinstance(f, int) if p is EACH else f == p
            for p, f in zip(ref_field.path, field, strict=True)
        ):
            return True
    return False


def connect(source: str, index: int, field: FieldPath, target: int) -> Edit:
    """Point the reference ``field`` of node ``index`` (``("goto",)``,
    ``("branches", 1, "goto")``) at node ``target``, naming that node if need be."""
    nodes = nodes_of(source)
    node = node_at(nodes, index)
    node_at(nodes, target)
    if not _ref_field(node, field):
        raise EditError(f"nodes[{index}].{_where(field)} does not name a node")
    text, name, named = target_name(source, target)
    return _edit(source, change(text, ("nodes", index, *field), name), named)


def rename_node(source: str, index: int, new_id: str) -> Edit:
    """Node ``index`` called ``new_id``, and every reference to it following."""
    nodes = nodes_of(source)
    node_at(nodes, index)
    if not re.fullmatch(ID_PATTERN, new_id):
        raise EditError(f"{new_id!r} is not an id: letters, digits, _ . - (not first)")
    ids = node_ids(nodes)
    if new_id in ids and ids.index(new_id) != index:
        raise EditError(f"another node is already {new_id!r} (nodes[{ids.index(new_id)}])")
    text = source
    for ref in references(nodes):
        if reached(ids, ref.target) == index:
            text = change(text, ref.loc, new_id)
    return _edit(source, change(text, ("nodes", index, "id"), new_id))


def _is_id(loc: Path) -> bool:
    return len(loc) == 3 and loc[0] == "nodes" and isinstance(loc[1], int) and loc[2] == "id"


def set_field(source: str, loc: Path, value: object) -> Edit:
    """``loc`` (as validation errors give it: ``("nodes", 2, "prompt")``,
    ``("title",)``) set to ``value``.  A list index one past its end appends.
    Setting a node's ``id`` renames it: references follow."""
    if _is_id(loc) and value in ("", None):
        return unset_field(source, loc)
    if _is_id(loc) and isinstance(value, str):
        index = loc[1]
        assert isinstance(index, int)
        return rename_node(source, index, value)
    return _edit(source, change(source, loc, value))


def unset_field(source: str, loc: Path) -> Edit:
    """``loc`` removed (a field, or an item of a list such as a decision branch).

    A node's ``id`` is kept while references use it; a whole node goes with
    ``remove_node``.
    """
    if len(loc) == 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        return remove_node(source, loc[1])
    if _is_id(loc):
        index = loc[1]
        assert isinstance(index, int)
        pointing = _referrers(nodes_of(source), index)
        if pointing:
            where = ", ".join(_where(r.loc) for r in pointing)
            raise EditError(f"{where} use this id: point them elsewhere first")
    return _edit(source, change(source, loc, DELETE))
