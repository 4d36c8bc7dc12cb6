"""Rewriting one part of a topic's YAML text: a value, a field, the order of nodes.

Each function takes the text and returns the new text in which only the lines of
the part it changes differ (``yaml_layout`` finds them).  Each checks its own work:
the new text, read by the topic loader, must hold exactly the intended data, or the
edit is refused rather than written wrong.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedSeq

from textdesk.domain.topics.yaml_layout import EditError, Layout, plain
from textdesk.domain.topics.yaml_writing import Style, merge, render, ruamel, same, to_yaml

__all__ = ["DELETE", "NewNode", "Path", "change", "restructure"]

Path = tuple[str | int, ...]
DELETE: Any = object()
"""As a value: remove the field (or list item) rather than set it."""


class NewNode(dict[str, object]):
    """In a ``restructure`` order: a node to write there (its fields, in order)."""


def _where(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _apply(data: Any, path: Path, value: Any) -> None:
    """Set (or, with ``DELETE``, remove) ``path`` in nested dicts and lists."""
    for key in path[:-1]:
        data = data[key]
    last = path[-1]
    if value is DELETE:
        del data[last]
    elif isinstance(data, list) and last == len(data):
        data.append(value)
    else:
        data[last] = value


def _dedent(line: str, width: int) -> str:
    if not line.strip():
        return "\n"
    return line[min(width, len(line) - len(line.lstrip(" "))) :]


def _indented(lines: Sequence[str], prefix: str, width: int) -> list[str]:
    out = [prefix + lines[0]] if lines else []
    out += [" " * width + ln if ln.strip() else "\n" for ln in lines[1:]]
    return out


def _plain(value: Any) -> Any:
    """``value`` as the loader would give it back: lists for tuples, str keys."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _reads_as(expected: Any, lines: Sequence[str]) -> bool:
    try:
        return same(plain("".join(lines)), expected)
    except yaml.YAMLError:
        return False


def _expect(expected: Any, lines: Sequence[str], what: Path) -> None:
    if not _reads_as(expected, lines):
        raise EditError(f"{_where(what)}: this value cannot be written as YAML here")


def _set_entry(layout: Layout, mapping: yaml.MappingNode, path: Path, value: Any, at: Path) -> str:
    """Set or remove ``path`` under a block mapping, rewriting that entry's lines."""
    key, lines, style = path[0], list(layout.lines), layout.style()
    if not isinstance(key, str):
        raise EditError(f"{_where(at)}: not a field")
    found = layout.entry(mapping, key)
    if found is None:
        nested: Any = value
        for part in reversed(path[1:]):
            if not isinstance(part, str):
                raise EditError(f"{_where((*at, *path[:1]))}: no such field")
            nested = {part: nested}
        return _insert_entry(layout, mapping, key, nested, style)
    first, last = layout.entry_lines(mapping, found)
    width = mapping.value[found][0].start_mark.column
    prefix = lines[first][:width]
    if value is DELETE and len(path) == 1:
        return _delete_entry(layout, mapping, found, first, last, prefix)
    old = [lines[first][width:]] + [_dedent(ln, width) for ln in lines[first + 1 : last + 1]]
    expected = plain("".join(old))
    try:
        _apply(expected, path, value)
    except (KeyError, IndexError, TypeError) as exc:
        raise EditError(f"{_where((*at, *path))}: no such field") from exc
    new = _written(ruamel(style).load("".join(old)), expected, style, (*at, *path))
    lines[first : last + 1] = _indented(new, prefix, width)
    return layout.result(lines)


def _written(old: Any, expected: Any, style: Style, what: Path) -> list[str]:
    """``old`` (ruamel.yaml data) updated to ``expected`` and rendered: the parts that
    did not change keep their comments and style; failing that, written plainly."""
    for data in (merge(old, expected), to_yaml(expected)):
        new = render(data, style)
        if _reads_as(expected, new):
            return new
    raise EditError(f"{_where(what)}: this value cannot be written as YAML here")


def _delete_entry(
    layout: Layout, mapping: yaml.MappingNode, found: int, first: int, last: int, prefix: str
) -> str:
    lines = list(layout.lines)
    if not prefix.strip():
        del lines[first : last + 1]
        return layout.result(lines)
    # The first field of a list item holds the item's dash: the next field takes it.
    if found + 1 >= len(mapping.value):
        raise EditError("a node cannot be left with no fields")
    following = mapping.value[found + 1][0].start_mark.line
    lines[following] = prefix + lines[following][len(prefix) :]
    del lines[first:following]
    return layout.result(lines)


def _insert_entry(
    layout: Layout, mapping: yaml.MappingNode, key: str, value: Any, style: Style
) -> str:
    lines = list(layout.lines)
    new = render({key: to_yaml(value)}, style)
    _expect({key: value}, new, (key,))
    if not mapping.value:  # an empty document
        return layout.result([*lines, *new])
    width = mapping.value[0][0].start_mark.column
    first_line = mapping.value[0][0].start_mark.line
    prefix = lines[first_line][:width]
    if key == "id" and prefix.strip():
        # A node's id goes first, on its dash line.
        lines[first_line] = " " * width + lines[first_line][width:]
        lines[first_line:first_line] = _indented(new, prefix, width)
        return layout.result(lines)
    before = len(mapping.value)
    if mapping is layout.root and (nodes := layout.entry(mapping, "nodes")) is not None:
        before = nodes  # keep the nodes last, where a reader expects them
    at = first_line if before == 0 else layout.entry_lines(mapping, before - 1)[1] + 1
    lines[at:at] = _indented(new, " " * width, width)
    return layout.result(lines)


def _node_lines(value: Any, style: Style, dash: int) -> list[str]:
    new = render(CommentedSeq([to_yaml(value)]), style)
    _expect([value], new, ("nodes",))
    return [" " * dash + ln if ln.strip() else "\n" for ln in new]


def _lookup(data: Any, path: Path) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return DELETE
    return data


def change(text: str, path: Path, value: Any) -> str:
    """``text`` with ``path`` (``("nodes", 2, "prompt")``, ``("title",)``) set to
    ``value``, or removed when ``value`` is ``DELETE``.  A list index one past the
    end appends.  A whole node (``("nodes", 2)``) is rewritten, its comments above
    kept; to remove or add one, use ``restructure``."""
    if not path:
        raise EditError("no field given")
    value = value if value is DELETE else _plain(value)
    layout = Layout(text)
    data = plain(layout.text)
    if same(_lookup(data, path), value):
        return text
    nodes = layout.nodes
    if path[0] != "nodes" or len(path) == 1:
        return _set_entry(layout, layout.root, path, value, ())
    index = path[1]
    if not isinstance(nodes, yaml.SequenceNode) or not isinstance(index, int):
        raise EditError(f"{_where(path)}: no such node")
    if nodes.flow_style:
        return change(_block_nodes(layout), path, value)
    if not 0 <= index < len(nodes.value):
        raise EditError(f"{_where(path[:2])}: no such node")
    item = nodes.value[index]
    if len(path) > 2 and isinstance(item, yaml.MappingNode) and not item.flow_style:
        return _set_entry(layout, item, path[2:], value, path[:2])
    if len(path) == 2:
        if value is DELETE:
            raise EditError("remove a node with restructure")
        return _replace_node(layout, index, value)
    whole = copy.deepcopy(data["nodes"][index])
    try:
        _apply(whole, path[2:], value)
    except (KeyError, IndexError, TypeError) as exc:
        raise EditError(f"{_where(path)}: no such field") from exc
    return _replace_node(layout, index, whole)


def _replace_node(layout: Layout, index: int, value: Any) -> str:
    """Node ``index`` rewritten to ``value``, what did not change kept as it was."""
    nodes = layout.nodes
    assert isinstance(nodes, yaml.SequenceNode)
    item = nodes.value[index]
    first, width = item.start_mark.line, item.start_mark.column
    last = layout.last_line(item, first)
    lines = list(layout.lines)
    prefix = lines[first][:width]
    old = [lines[first][width:]] + [_dedent(ln, width) for ln in lines[first + 1 : last + 1]]
    style = layout.style()
    new = _written(ruamel(style).load("".join(old)), value, style, ("nodes", index))
    lines[first : last + 1] = _indented(new, prefix, width)
    return layout.result(lines)


def _block_nodes(layout: Layout) -> str:
    """The text with a flow-style ``nodes: [...]`` written as a block list."""
    nodes = layout.nodes
    assert nodes is not None
    data = plain(layout.text)["nodes"] or []
    style = layout.style()
    dash = layout.root.value[0][0].start_mark.column + style.offset
    block = [ln for item in data for ln in _node_lines(item, style, dash)]
    text = layout.text
    start, end = nodes.start_mark.index, nodes.end_mark.index
    rest = text[end:]
    tail, newline, rest = rest.partition("\n")
    return text[:start].rstrip(" ") + tail + newline + "".join(block) + rest


def restructure(text: str, order: Sequence[int | NewNode]) -> str:
    """``text`` with its nodes in ``order``: each an old position, or a ``NewNode``.

    A node keeps its chunk (comments above it and inside it); blank lines between
    nodes follow the file's habit.  Positions left out are removed.
    """
    order = [e if isinstance(e, int) else NewNode(_plain(e)) for e in order]
    layout = Layout(text)
    nodes = layout.nodes
    style = layout.style()
    if nodes is not None and isinstance(nodes, yaml.SequenceNode) and nodes.value:
        if nodes.flow_style:
            return restructure(_block_nodes(layout), order)
        return _rebuild(layout, order, style)
    if any(isinstance(entry, int) for entry in order):
        raise EditError("no such node")
    if not order:
        return text
    lines = list(layout.lines)
    width = layout.root.value[0][0].start_mark.column if layout.root.value else 0
    dash = width + style.offset
    block = [ln for new in order if isinstance(new, dict) for ln in _node_lines(new, style, dash)]
    if nodes is None:
        return layout.result([*lines, " " * width + "nodes:\n", *block])
    # ``nodes:`` or ``nodes: []``: the list goes under the key.
    key_line = layout.nodes_key_line()
    line = lines[key_line]
    if nodes.start_mark.line == key_line:
        line = line[: nodes.start_mark.column].rstrip(" ") + line[nodes.end_mark.column :]
    lines[key_line : key_line + 1] = [line, *block]
    return layout.result(lines)


def _rebuild(layout: Layout, order: Sequence[int | NewNode], style: Style) -> str:
    start, chunks, after = layout.chunks()
    for entry in order:
        if isinstance(entry, int) and not 0 <= entry < len(chunks):
            raise EditError(f"nodes[{entry}]: no such node")
    between = ["\n"] * (chunks[1].blank if len(chunks) > 1 else 0)
    leading = chunks[0].lines[: chunks[0].blank]
    dash = layout.dash()
    out: list[str] = []
    for position, entry in enumerate(order):
        if isinstance(entry, int):
            chunk = chunks[entry]
            body = chunk.body
            own = chunk.lines[: chunk.blank] if entry > 0 else between
        else:
            body, own = _node_lines(dict(entry), style, dash), between
        out += (leading if position == 0 else own) + body
    lines = list(layout.lines)
    if not order:  # ``nodes:`` alone would be null, not a list
        key_line = layout.nodes_key_line()
        key = lines[key_line]
        colon = key.index(":", layout.nodes_key().end_mark.column)
        lines[key_line] = key[: colon + 1] + " []" + key[colon + 1 :]
    lines[start:after] = out
    return layout.result(lines)
