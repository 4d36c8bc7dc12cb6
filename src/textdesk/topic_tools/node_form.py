"""A node's form in the designer, made from the topic JSON Schema, and its saving.

Every field the node's type has (``topic_json_schema``'s properties of that type)
becomes one input, with the schema's description as its help: a text box for a
string, a checkbox for a flag, a number box, a list for an enum, a list of the
topic's nodes for a field naming a node (``x-node-ref``), and a small YAML box for
what is a list or a mapping (options, branches, record fields).  A field the schema
gains shows up in the form with nothing else to change.

Saving compares each submitted value with the node as its YAML has it and makes
the edits of what changed (``edits.set_field``, ``unset_field``, ``connect``), so
the rest of the file keeps its lines and comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from textdesk.domain.topics.edits import Edit, EditError, connect, set_field, unset_field
from textdesk.domain.topics.nodes import NODE_REF
from textdesk.domain.topics.reference_keeping import node_ids, nodes_of
from textdesk.domain.topics.schema import topic_json_schema

__all__ = ["FIELD_PREFIX", "FormField", "NodeForm", "form_edit", "node_form", "node_types"]

FIELD_PREFIX = "f."  # a form field's name: ``f.prompt``
# Strings texted to someone or long enough to wrap get a box of several lines.
_LONG = {"prompt", "text", "message", "empty_text", "pattern_error", "caption", "label", "when"}


@dataclass(frozen=True)
class FormField:
    """One input of a node's form.

    ``kind``: ``text``, ``long`` (several lines), ``bool``, ``int``, ``enum``,
    ``ref`` (a node of the topic), ``yaml`` (a list or mapping, written as YAML),
    ``fixed`` (the node's ``type``, not changed in a form); ``value``: as the input
    shows it (``""`` when the YAML does not have it: ``default`` is what applies).
    """

    name: str
    kind: str
    help: str
    required: bool
    value: str
    default: str = ""
    checked: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (value, words) of an enum or ref
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NodeForm:
    index: int
    id: str
    type: str
    help: str
    fields: list[FormField]


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Mapping[str, Any] = topic_json_schema()["$defs"][ref.split("/")[-1]]
        return resolved
    return schema


@cache
def _types() -> dict[str, Mapping[str, Any]]:
    schema = topic_json_schema()
    out: dict[str, Mapping[str, Any]] = {}
    for variant in schema["properties"]["nodes"]["items"]["oneOf"]:
        model = _resolve(variant)
        out[model["properties"]["type"]["const"]] = model
    return out


def node_types() -> list[str]:
    """Every node type, as the palette lists them."""
    return list(_types())


def _kind(name: str, prop: Mapping[str, Any]) -> tuple[str, bool, Mapping[str, Any]]:
    """(kind, whether ``null`` is allowed, the property without its ``null`` branch)."""
    optional = False
    branches = [b for b in prop.get("anyOf", ()) if b.get("type") != "null"]
    if "anyOf" in prop and len(branches) < len(prop["anyOf"]):
        optional = True
        if len(branches) == 1:
            prop = {**branches[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    if prop.get(NODE_REF):
        return "ref", optional, prop
    if "const" in prop:
        return "fixed", optional, prop
    if "enum" in prop:
        return "enum", optional, prop
    kind = {"string": "text", "boolean": "bool", "integer": "int"}.get(prop.get("type", ""))
    if kind == "text" and name in _LONG:
        kind = "long"
    return kind or "yaml", optional, prop


def _yaml(value: object) -> str:
    if value is None:
        return ""
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=60).strip()


def _shown(kind: str, value: object) -> str:
    if value is None:
        return ""
    if kind == "yaml":
        return _yaml(value)
    if kind == "bool":
        return "true" if value else "false"
    return value if isinstance(value, str) else _yaml(value)


def _raw_node(source: str, index: int) -> dict[str, Any]:
    nodes = nodes_of(source)
    if not 0 <= index < len(nodes):
        raise EditError(f"nodes[{index}]: the topic has {len(nodes)} nodes")
    node = nodes[index]
    if not isinstance(node, dict):
        raise EditError(f"nodes[{index}] is not a node (a mapping with a type)")
    return node


def node_form(source: str, index: int, errors: Mapping[str, list[str]] | None = None) -> NodeForm:
    """The form of node ``index`` of ``source``; ``errors``: messages by field name."""
    node = _raw_node(source, index)
    node_type = node.get("type")
    schema = _types().get(node_type) if isinstance(node_type, str) else None
    if schema is None or not isinstance(node_type, str):
        known = ", ".join(node_types())
        raise EditError(f"nodes[{index}] has no known type ({known}): fix it in the YAML")
    ids = node_ids(nodes_of(source))
    errors = errors or {}
    required = set(schema.get("required", ()))
    fields = []
    for name, written in schema["properties"].items():
        kind, _, prop = _kind(name, written)
        value = node.get(name)
        default = prop.get("default")
        choices: tuple[tuple[str, str], ...] = ()
        if kind == "ref":
            choices = tuple((i, f"{i} (node {n + 1})") for n, i in enumerate(ids) if n != index)
        elif kind == "enum":
            choices = tuple((str(v), str(v)) for v in prop["enum"])
        fields.append(
            FormField(
                name=name,
                kind=kind,
                help=str(prop.get("description", "")).replace("``", ""),
                required=name in required,
                value=_shown(kind, value),
                default=_shown(kind, default),
                checked=bool(default if value is None else value),
                choices=choices,
                errors=list(errors.get(name, [])),
            )
        )
    help = str(schema.get("description", "")).replace("``", "")
    return NodeForm(index, ids[index], node_type, help, fields)


def _parse(form_field: FormField, given: str) -> object:
    if form_field.kind == "int":
        try:
            return int(given)
        except ValueError:
            raise EditError(f"{form_field.name}: a whole number, not {given!r}") from None
    if form_field.kind == "yaml":
        try:
            return yaml.safe_load(given)
        except yaml.YAMLError as exc:
            raise EditError(f"{form_field.name}: not YAML ({exc})") from None
    return given


def _merged(edits: list[Edit], source: str) -> Edit:
    if not edits:
        return Edit(source)
    last = edits[-1]
    dropped = tuple(c for e in edits for c in e.dropped_comments)
    named = tuple(n for e in edits for n in e.named)
    return Edit(last.source, dropped, named, last.dangling)


def form_edit(source: str, index: int, submitted: Mapping[str, str]) -> Edit:
    """The edit a saved form makes: each field whose value differs from the YAML's.

    ``submitted``: the form's values by field name (a checkbox's is present when
    ticked); fields not in the form (``type``) are left alone.
    """
    form = node_form(source, index)
    edits: list[Edit] = []
    text = source
    for form_field in form.fields:
        name, kind = form_field.name, form_field.kind
        loc = ("nodes", index, name)
        if kind == "fixed":
            continue
        if kind == "bool":
            ticked = name in submitted
            if ticked == form_field.checked:
                continue
            there = form_field.value != ""
            if there and ticked == (form_field.default == "true"):
                edits.append(unset_field(text, loc))
            else:
                edits.append(set_field(text, loc, ticked))
        elif name not in submitted:
            continue
        else:
            given = submitted[name].replace("\r\n", "\n")
            if kind not in {"long", "yaml"}:
                given = given.strip()
            if given == form_field.value:
                continue
            if given == "" and not form_field.required:
                edits.append(unset_field(text, loc))
            elif kind == "ref":
                if given == "":
                    raise EditError(f"{name}: a {form.type} node needs a node to go to")
                ids = node_ids(nodes_of(text))
                if given not in ids:
                    raise EditError(f"{name}: there is no node {given!r}")
                edits.append(connect(text, index, (name,), ids.index(given)))
            else:
                edits.append(set_field(text, loc, _parse(form_field, given)))
        text = edits[-1].source
    return _merged(edits, source)
