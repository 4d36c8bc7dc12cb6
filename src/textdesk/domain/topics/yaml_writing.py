"""Writing YAML for an edit: in the file's indentation, in the style of what it replaces.

ruamel.yaml, in round-trip mode, writes the part an edit changes.  ``merge`` changes
the old part's data into the new value as little as it can, so unchanged entries
keep their comments, quotes, folded (``>``) texts and ``[flow, lists]``; new text
takes the style of the text it replaces.  What is written is always read back by
the topic loader's reader (YAML 1.1, where ``yes`` is a boolean): ``to_yaml`` quotes
what that reader would take for something else.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

__all__ = ["YAML_LOADER", "Style", "merge", "render", "ruamel", "same", "to_yaml"]

# libyaml's reader, where PyYAML has it: the same reading (and marks, counted in
# characters) ten times faster than the pure-Python one, and an edit reads the text
# several times.
YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Style:
    """How the file indents: ruamel.yaml's ``mapping``, ``sequence``, ``offset``."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2
    newline: str = "\n"


def ruamel(style: Style) -> YAML:
    """A round-trip ruamel.yaml writing in ``style``, never folding long lines."""
    writer = YAML()
    writer.preserve_quotes = True
    writer.width = 1 << 16
    writer.indent(
        mapping=style.mapping,
        sequence=max(style.sequence, style.offset + 2),
        offset=style.offset,
    )
    return writer


def _quoted(text: str) -> Any:
    if "\n" in text and all(line.isprintable() for line in text.split("\n")):
        return LiteralScalarString(text)
    # ruamel.yaml writes YAML 1.2, where ``yes`` or ``1:20`` is a word; the loader
    # reads YAML 1.1, where they are a boolean and a number: quote what it would
    # not read back as the same text.
    try:
        as_plain = yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        as_plain = None
    return text if as_plain == text else DoubleQuotedScalarString(text)


def to_yaml(value: object) -> Any:
    """A plain value (str, number, list, dict...) made ready for ruamel.yaml."""
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, dict):
        return CommentedMap((str(k), to_yaml(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return CommentedSeq(to_yaml(v) for v in value)
    return value


def same(a: object, b: object) -> bool:
    """Equal as YAML data: ``True`` is not ``1``, nor ``1`` ``1.0``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return type(a) is type(b) and a == b


_FOLD_AT = 76  # characters of a folded text's line, before its indentation


def _fold(text: str) -> list[int]:
    """Where to break a folded (``>``) text: at single spaces, about every 76 characters."""
    folds, line_start, last_space = [], 0, -1
    for i, char in enumerate(text):
        if char == "\n":
            line_start, last_space = i + 1, -1
            continue
        if char == " " and 0 < i < len(text) - 1 and text[i - 1] != " " != text[i + 1]:
            last_space = i
        if i - line_start >= _FOLD_AT and last_space > line_start:
            folds.append(last_space)
            line_start, last_space = last_space + 1, -1
    return folds


def _like(old: object, new: object) -> Any:
    """``new`` for ruamel.yaml, in ``old``'s style: its quotes, folding, flow lists."""
    if isinstance(new, str) and isinstance(old, str) and "\n" not in new:
        if isinstance(old, FoldedScalarString):
            folded = FoldedScalarString(new)
            folded.fold_pos = _fold(new)
            return folded
        if isinstance(old, DoubleQuotedScalarString | SingleQuotedScalarString):
            return type(old)(new)
    if isinstance(new, list) and isinstance(old, CommentedSeq):
        out = CommentedSeq(
            _like(old[min(i, len(old) - 1)] if old else None, v) for i, v in enumerate(new)
        )
        if old.fa.flow_style():
            out.fa.set_flow_style()
        return out
    if isinstance(new, dict) and isinstance(old, CommentedMap):
        out_map = CommentedMap((str(k), _like(old.get(k), v)) for k, v in new.items())
        if old.fa.flow_style():
            out_map.fa.set_flow_style()
        return out_map
    if isinstance(new, list):
        return CommentedSeq(_like(None, v) for v in new)
    if isinstance(new, dict):
        return CommentedMap((str(k), _like(None, v)) for k, v in new.items())
    return to_yaml(new)


def merge(old: Any, new: object) -> Any:
    """ruamel.yaml data ``old`` changed into plain ``new`` as little as can be: what is
    equal stays (with its comments), mappings and lists are changed in place."""
    if same(_unstyled(old), new):
        return old
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = merge(old[key], value) if key in old else _like(None, value)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        del old[len(new) :]
        for i, value in enumerate(new):
            if i < len(old):
                old[i] = merge(old[i], value)
            else:
                old.append(_like(old[-1] if old else None, value))
        return old
    return _like(old, new)


def _unstyled(value: Any) -> Any:
    """ruamel.yaml data as plain Python (its str and int subclasses are compared as such)."""
    if isinstance(value, dict):
        return {k: _unstyled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unstyled(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def render(value: object, style: Style) -> list[str]:
    """``value`` (ruamel.yaml data) as lines of YAML, starting at column 0."""
    out = io.StringIO()
    ruamel(style).dump(value, out)
    lines = out.getvalue().splitlines(keepends=True)
    width = min((len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()), default=0)
    return [ln[width:] if ln.strip() else "\n" for ln in lines]
