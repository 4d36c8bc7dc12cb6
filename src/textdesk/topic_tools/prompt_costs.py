"""What each text of a topic source costs the texter, line by line, as it is typed.

The designer shows, beside the YAML, every text a node sends (a choice's prompt with
its numbered options, a message, an end's message…) as the texter will receive it:
its encoding, its segment count, and the characters that force UCS-2, so they can be
marked in place.  It reads the same texts and makes the same estimate as the
validator's SMS warnings (``domain.topics.checks.sent_texts`` and ``as_sent``:
placeholders counted as 10 characters), but works on a source that is half typed: a
node that does not validate yet is skipped, the others are still costed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import TypeAdapter, ValidationError

from textdesk.domain.sms import sms_cost, ucs2_culprits
from textdesk.domain.topics.checks import MAX_SEGMENTS, SETTINGS_ID, as_sent, sent_texts
from textdesk.domain.topics.schema import Node
from textdesk.domain.topics.yaml_writing import YAML_LOADER
from textdesk.topic_tools.topic_files import locate

__all__ = ["Piece", "PromptCost", "prompt_costs"]

_NODE: TypeAdapter[Node] = TypeAdapter(Node)


@dataclass(frozen=True)
class Piece:
    """A run of a sent text: ``culprit`` when its characters force UCS-2."""

    text: str
    culprit: bool


@dataclass(frozen=True)
class PromptCost:
    """One text a node sends: where it is written, and what it costs as sent."""

    node: int
    node_id: str
    node_type: str
    field: str
    line: int
    sent: str
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    length: int
    culprits: tuple[str, ...]

    @property
    def pieces(self) -> list[Piece]:
        """``sent`` cut where UCS-2 culprits start and stop, for highlighting."""
        out: list[Piece] = []
        for char in self.sent:
            culprit = char in self.culprits
            if out and out[-1].culprit == culprit:
                out[-1] = Piece(out[-1].text + char, culprit)
            else:
                out.append(Piece(char, culprit))
        return out

    @property
    def named_culprits(self) -> list[tuple[str, str]]:
        """Each culprit with its code point (``U+1F600``): some are invisible."""
        return [(c, f"U+{ord(c):04X}") for c in self.culprits]

    @property
    def too_long(self) -> bool:
        return self.segments > MAX_SEGMENTS


def _parsed(source: str) -> tuple[Any, yaml.Node | None]:
    loader = YAML_LOADER(source)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    finally:
        loader.dispose()


def prompt_costs(source: str, *, more_word: str = "MORE") -> list[PromptCost]:
    """Every text the nodes of ``source`` send, in order (nothing when it is no YAML).

    ``more_word``: the settings' word for a choice's next page, part of what a long
    list costs.
    """
    try:
        data, root = _parsed(source)
    except yaml.YAMLError:
        return []
    if isinstance(data, dict) and "nodes" not in data:
        return _settings_costs(data, root)
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list):
        return []
    out: list[PromptCost] = []
    for index, raw in enumerate(nodes):
        try:
            node = _NODE.validate_python(raw)
        except ValidationError:
            continue  # the validator names what is wrong with it
        for field, text in sent_texts(node, more_word):
            sent = as_sent(text)
            cost = sms_cost(sent)
            line, _ = locate(root, ("nodes", index, field))
            out.append(
                PromptCost(
                    node=index,
                    node_id=node.id or f"n{index + 1}",
                    node_type=node.type,
                    field=field,
                    line=line,
                    sent=sent,
                    encoding=cost.encoding,
                    segments=cost.segments,
                    length=cost.length,
                    culprits=tuple(ucs2_culprits(sent)),
                )
            )
    return out


def _settings_costs(data: dict[str, Any], root: yaml.Node | None) -> list[PromptCost]:
    """The texts a settings source (``_settings``) writes: ``help_text`` and each of
    ``texts``, as the validator's SMS warnings read them.  Those left to their
    defaults are not in the source, so there is no line to show them on."""
    written: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(data.get("help_text"), str):
        written.append((("help_text",), data["help_text"]))
    texts = data.get("texts")
    if isinstance(texts, dict):
        written.extend(
            (("texts", name), text) for name, text in texts.items() if isinstance(text, str)
        )
    out: list[PromptCost] = []
    for loc, text in written:
        sent = as_sent(text)
        cost = sms_cost(sent)
        line, _ = locate(root, loc)
        out.append(
            PromptCost(
                node=-1,
                node_id=SETTINGS_ID,
                node_type="settings",
                field=".".join(str(part) for part in loc),
                line=line,
                sent=sent,
                encoding=cost.encoding,
                segments=cost.segments,
                length=cost.length,
                culprits=tuple(ucs2_culprits(sent)),
            )
        )
    return out
