"""Records in conversation: finding the one a node means, and showing it as a card.

A node names its record loosely, the way a designer thinks of it: a variable
(``incident``), an expression (``"{{ vars.incident.number }}"``), a choice made from
a dynamic list, or a record dict returned by ``create_record``.  ``resolve_record``
turns any of these into a record dict (use it as is) or a number (look it up).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from textdesk.domain.templating.render import evaluate, render, strip_braces
from textdesk.domain.topics.schema import CardField

__all__ = ["card_text", "display", "record_number", "resolve_record"]

_PATH_RE = re.compile(r"^[A-Za-z_]\w*(?:\.\w+)*$")
# How reference fields come back from record stores: ServiceNow's
# ``{"display_value", "value", "link"}``, or a plain object with a name.
_DISPLAY_KEYS = ("display_value", "name", "label", "value")


def _lookup(variables: Mapping[str, Any], path: str) -> Any:
    parts = path.split(".")
    if parts[0] == "vars":
        parts = parts[1:]
    value: Any = variables
    for part in parts:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def resolve_record(spec: str, context: Mapping[str, Any]) -> dict[str, Any] | str | None:
    """The record ``spec`` points at: a dict to show as is, a number to look up, or None."""
    text = spec.strip()
    value: Any
    if _PATH_RE.match(text):
        value = _lookup(context.get("vars") or {}, text)
    elif strip_braces(text) != text:
        value = evaluate(text, context)
    else:
        value = render(text, context)
    if isinstance(value, Mapping):
        inner = value.get("record")
        if isinstance(inner, Mapping):
            return dict(inner)
        if "number" not in value and "value" in value:  # a static choice
            return str(value["value"]).strip() or None
        return dict(value)
    if isinstance(value, str | int):
        return str(value).strip() or None
    return None


def record_number(ref: dict[str, Any] | str | None) -> str | None:
    """The number of a resolved record reference."""
    if isinstance(ref, dict):
        number = ref.get("number")
        return str(number) if number else None
    return ref


def display(value: Any) -> str:
    """A field value as text: references show their display value, lists are joined."""
    if isinstance(value, Mapping):
        for key in _DISPLAY_KEYS:
            if value.get(key) not in (None, ""):
                return display(value[key])
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(filter(None, (display(v) for v in value)))
    if value is None:
        return ""
    return str(value)


def card_text(record: Mapping[str, Any], fields: Sequence[CardField], link: bool) -> str:
    """Compact ``Label: value`` lines, empty fields left out, then the record's URL."""
    lines = []
    for field in fields:
        value = display(_lookup(record, field.field))
        if value:
            lines.append(f"{field.title}: {value}")
    url = record.get("url")
    if link and isinstance(url, str) and url:
        lines.append(url)
    return "\n".join(lines)
