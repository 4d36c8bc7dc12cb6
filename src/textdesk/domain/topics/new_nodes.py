"""What a node added in the designer starts as: the least of each type that validates.

Texts start empty for the designer to fill; a question gets a variable name of its
own; a field naming a node points at the node it was dropped before, so the new
node changes nothing until it is connected.  Two types cannot start valid: an
``image`` needs an uploaded picture, a ``switch_topic`` the topic to run.
"""

from __future__ import annotations

from collections.abc import Sequence

from textdesk.domain.agent.messages import RECORD_SOURCES

__all__ = ["starter", "var_name"]


def var_name(nodes: Sequence[object], node_type: str) -> str:
    """A variable name no node of the topic stores into yet: ``answer``, ``answer_2``…"""
    base = "value" if node_type == "set" else "answer"
    used = {n.get("var") for n in nodes if isinstance(n, dict)}
    name, count = base, 1
    while name in used:
        count += 1
        name = f"{base}_{count}"
    return name


def starter(node_type: str, *, var: str, target: str) -> dict[str, object] | None:
    """The fields (after ``type``) of a new ``node_type`` node, or ``None`` if unknown.

    ``var``: the variable it stores into; ``target``: the id of the node its
    references point at.
    """
    starters: dict[str, dict[str, object]] = {
        "text": {"prompt": "", "var": var},
        "choice": {"prompt": "", "var": var, "options": ["Yes", "No"]},
        "dynamic_choice": {"prompt": "", "var": var, "source": min(RECORD_SOURCES)},
        "boolean": {"prompt": "", "var": var},
        "file": {"prompt": "", "var": var},
        "message": {"text": ""},
        "image": {"media": ""},
        "link": {"label": "", "url": ""},
        "card": {"record": ""},
        "set": {"var": var, "value": ""},
        # A branch that never holds: the decision falls through until it is written.
        "decision": {"branches": [{"when": "false", "goto": target}]},
        "goto": {"goto": target},
        "switch_topic": {"topic": ""},
        "transfer": {},
        "end": {},
        "create_record": {"fields": {"short_description": ""}},
        "update_record": {"record": "", "fields": {}},
        "add_comment": {"record": "", "text": ""},
    }
    return starters.get(node_type)
