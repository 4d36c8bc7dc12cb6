"""The difference between two versions of a topic's source, as the designer shows it.

A unified diff (``difflib``), each line tagged so a page can colour it: what a
publish would change, what another editor saved, what a rollback brings back.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

__all__ = ["DiffLine", "source_diff"]

CONTEXT_LINES = 3


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: ``kind`` says how to show it."""

    kind: Literal["file", "hunk", "added", "removed", "same"]
    text: str


def _kind(line: str) -> Literal["file", "hunk", "added", "removed", "same"]:
    if line.startswith(("---", "+++")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return "same"


def source_diff(before: str, after: str, *, before_name: str, after_name: str) -> list[DiffLine]:
    """The unified diff from ``before`` to ``after``; empty when they are the same."""
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        fromfile=before_name,
        tofile=after_name,
        n=CONTEXT_LINES,
        lineterm="",
    )
    return [DiffLine(_kind(line), line) for line in lines]
