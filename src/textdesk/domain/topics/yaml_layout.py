"""Where each part of a topic's YAML text is, so an edit rewrites that part alone.

A designer's edit must leave the rest of a hand-written file as it was, byte for
byte: its comments, blank lines, quoting and line breaks.  So edits work on lines:
the text is composed by PyYAML (the loader ``textdesk topics validate`` uses), whose
marks say where each node of the file starts and ends, and only the lines of the
part being changed are rewritten.  That part is re-written by ruamel.yaml in
round-trip mode, which keeps the comments and quoting inside it, in the file's own
indentation (``Style``).

A node of ``nodes`` owns its *chunk*: the blank lines and comments written above
it, its own lines, and comments indented under it after its last line; moving or
removing a node moves or removes its chunk.  (Writing the changed part is
``yaml_writing``'s job.)
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from textdesk.domain.topics.yaml_writing import YAML_LOADER, Style

__all__ = ["Chunk", "EditError", "Layout", "comments", "plain"]


class EditError(ValueError):
    """An edit that cannot be made; the message says why, for the designer to show."""


def plain(text: str) -> Any:
    """``text`` read as the topic loader reads it (a fresh copy, free to change)."""
    return copy.deepcopy(_read(text))


@lru_cache(maxsize=64)
def _read(text: str) -> Any:
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)


# --- comments -----------------------------------------------------------------------


def comments(text: str) -> list[str]:
    """Every comment of a YAML text, in order (``# why``), found between its tokens."""
    return list(_comments(text))


@lru_cache(maxsize=64)
def _comments(text: str) -> tuple[str, ...]:
    spans = [
        (t.start_mark.index, t.end_mark.index)
        for t in yaml.scan(text, Loader=YAML_LOADER)
        if isinstance(t, yaml.ScalarToken)
    ]
    starts = [s for s, _ in spans]
    found = []
    for match in re.finditer(r"(?:^|(?<=[ \t]))#[^\r\n]*", text, re.MULTILINE):
        at = bisect_right(starts, match.start()) - 1
        if at >= 0 and spans[at][0] <= match.start() < spans[at][1]:
            continue  # inside a scalar: a ``#`` of a text, not a comment
        found.append(match.group().rstrip())
    return tuple(found)


# --- layout -------------------------------------------------------------------------


@dataclass
class Chunk:
    """The lines a node of ``nodes`` owns; ``blank``: how many of them lead, empty."""

    lines: list[str]
    blank: int

    @property
    def body(self) -> list[str]:
        return self.lines[self.blank :]


def _end(node: yaml.Node) -> yaml.Mark:
    """The end of a node's last value (a block collection's own end is the next token)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _end(node.value[-1])
    return node.end_mark


class Layout:
    """A topic's YAML text, parsed to find its parts' lines."""

    def __init__(self, text: str) -> None:
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.final_newline = text.endswith(("\n", "\r"))
        self.text = text if self.final_newline or not text else text + self.newline
        self.lines = self.text.splitlines(keepends=True)
        try:
            tokens = list(yaml.scan(self.text, Loader=YAML_LOADER))
            root = yaml.compose(self.text, Loader=YAML_LOADER)
        except yaml.YAMLError as exc:
            raise EditError(f"the YAML does not read: {exc}") from exc
        if any(isinstance(t, yaml.AliasToken) for t in tokens):
            raise EditError("topics using YAML aliases (*name) are edited as text only")
        if root is None:
            root = yaml.MappingNode("tag:yaml.org,2002:map", [])
        if not isinstance(root, yaml.MappingNode) or (root.flow_style and root.value):
            raise EditError("a topic is a mapping of fields (title:, nodes:...)")
        self.root = root

    def result(self, lines: Sequence[str]) -> str:
        """Lines joined back, with the file's newlines and final newline (or none)."""
        text = "".join(lines)
        if self.newline != "\n":
            text = re.sub(r"(?<!\r)\n", self.newline, text)
        if not self.final_newline and text.endswith(self.newline):
            text = text[: -len(self.newline)]
        return text

    # --- mappings ---

    def entry(self, mapping: yaml.MappingNode, key: str) -> int | None:
        """The position of ``key`` in ``mapping`` (the last, as the loader keeps it)."""
        found = None
        for i, (k, _) in enumerate(mapping.value):
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found = i
        return found

    def last_line(self, node: yaml.Node, floor: int) -> int:
        """The last line holding ``node``'s text, not earlier than ``floor``."""
        end = _end(node)
        line = min(end.line if end.column > 0 else end.line - 1, len(self.lines) - 1)
        while line > floor and not self.lines[line].strip():
            line -= 1
        return max(line, floor)

    def entry_lines(self, mapping: yaml.MappingNode, i: int) -> tuple[int, int]:
        """First and last line of entry ``i`` of a block mapping."""
        key, value = mapping.value[i]
        first = key.start_mark.line
        return first, self.last_line(value, first)

    # --- the nodes list ---

    @property
    def nodes(self) -> yaml.Node | None:
        at = self.entry(self.root, "nodes")
        return None if at is None else self.root.value[at][1]

    def nodes_key(self) -> yaml.Node:
        at = self.entry(self.root, "nodes")
        assert at is not None
        key: yaml.Node = self.root.value[at][0]
        return key

    def nodes_key_line(self) -> int:
        return int(self.nodes_key().start_mark.line)

    def style(self) -> Style:
        """The file's indentation, read from its block lists and nested mappings."""
        nested = list(_nested(self.root))
        seqs = [(p, c) for p, c in nested if isinstance(c, yaml.SequenceNode) and c.value]
        seqs.sort(key=lambda pc: pc[1] is not self.nodes)  # the nodes list says it best
        maps = [(p, c) for p, c in nested if isinstance(c, yaml.MappingNode) and c.value]
        mapping, sequence, offset = 2, 4, 2
        if seqs:
            parent, seq = seqs[0]
            offset = seq.start_mark.column - parent
            sequence = seq.value[0].start_mark.column - parent
        if maps:
            parent, child = maps[0]
            mapping = child.value[0][0].start_mark.column - parent
        return Style(max(mapping, 1), max(sequence, offset + 2), max(offset, 0), self.newline)

    def chunks(self) -> tuple[int, list[Chunk], int]:
        """The lines of ``nodes``: (first line, each node's chunk, line after the last)."""
        seq = self.nodes
        if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
            raise EditError("nodes is not a block list")
        dash = seq.start_mark.column
        start = self.nodes_key_line() + 1
        ends = []
        for i, item in enumerate(seq.value):
            last = self.last_line(item, item.start_mark.line)
            limit = self.dash_line(seq.value[i + 1], dash) if i + 1 < len(seq.value) else None
            # Comments indented under the node, straight after it, are its own.
            while (
                last + 1 < (limit if limit is not None else len(self.lines))
                and self.lines[last + 1].lstrip().startswith("#")
                and _indent(self.lines[last + 1]) > dash
            ):
                last += 1
            ends.append(last)
        out, first = [], start
        for last in ends:
            lines = self.lines[first : last + 1]
            blank = next((j for j, ln in enumerate(lines) if ln.strip()), len(lines))
            out.append(Chunk(lines, blank))
            first = last + 1
        return start, out, first

    def dash_line(self, item: yaml.Node, dash: int) -> int:
        line = int(item.start_mark.line)
        while line > 0:
            text = self.lines[line]
            if len(text) > dash and text[dash] == "-" and not text[:dash].strip():
                break
            line -= 1
        return line

    def dash(self) -> int:
        seq = self.nodes
        assert isinstance(seq, yaml.SequenceNode)
        return int(seq.start_mark.column)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _nested(node: yaml.Node, column: int = 0) -> Iterator[tuple[int, yaml.Node]]:
    """(parent key's column, block collection under it), depth first."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.MappingNode | yaml.SequenceNode) and not value.flow_style:
                yield key.start_mark.column, value
            yield from _nested(value, key.start_mark.column)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _nested(item, column)
