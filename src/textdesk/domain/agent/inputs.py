"""Checking free-text and file answers against what a topic asked for.

Choices and yes/no answers are read by ``replies``; this module covers the rest:
length, regex, e-mail and phone checks for text inputs, the words that skip an
optional input, and how to word a media size limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from textdesk.domain.agent.texter_replies import normalize_command
from textdesk.domain.topics.schema import TextNode
from textdesk.domain.topics.settings import Texts

__all__ = ["TextCheck", "check_text", "is_skip", "media_limit"]

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# E.164 (a + and 8 to 15 digits) or a 10-digit national number, after separators go.
_PHONE_RE = re.compile(r"^(?:\+[1-9]\d{7,14}|\d{10})$")
_PHONE_SEPARATORS_RE = re.compile(r"[\s().\-]")


@dataclass(frozen=True)
class TextCheck:
    """The value to store, or why the answer was refused.

    ``problem`` is a template from the settings (or the node's ``pattern_error``),
    rendered by the caller with ``params``.
    """

    value: str | None = None
    problem: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def is_skip(reply: str, skip_words: Iterable[str]) -> bool:
    """Whether the whole reply is one of the skip words (any case, punctuation)."""
    return normalize_command(reply) in {normalize_command(w) for w in skip_words}


def check_text(node: TextNode, reply: str, texts: Texts, skip_words: Iterable[str]) -> TextCheck:
    """Check a reply to a text input; a refused answer says why, in the texter's words."""
    value = reply.strip()
    if not value or (not node.required and is_skip(value, skip_words)):
        return TextCheck(value="") if not node.required else TextCheck(problem=texts.required)
    if node.min_length is not None and len(value) < node.min_length:
        return TextCheck(problem=texts.too_short, params={"n": node.min_length})
    if node.max_length is not None and len(value) > node.max_length:
        return TextCheck(problem=texts.too_long, params={"n": node.max_length})
    if node.format == "email" and not _EMAIL_RE.match(value):
        return TextCheck(problem=texts.bad_email)
    if node.format == "phone":
        value = _PHONE_SEPARATORS_RE.sub("", value)
        if not _PHONE_RE.match(value):
            return TextCheck(problem=texts.bad_phone)
    if node.pattern is not None and not re.fullmatch(node.pattern, value):
        return TextCheck(problem=node.pattern_error or texts.bad_pattern)
    return TextCheck(value=value)


def media_limit(result_value: Any, default_bytes: int = 5 * 1024 * 1024) -> str:
    """Word the size cap for a ``too_large`` answer (``{"max_bytes": n}`` if given)."""
    limit = default_bytes
    if isinstance(result_value, dict) and isinstance(result_value.get("max_bytes"), int):
        limit = result_value["max_bytes"]
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{max(1, limit // 1024)} KB"
