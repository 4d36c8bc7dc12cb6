"""``If-Match`` on a topic: the revision an edit started from, and what to say when stale.

A topic's ETag is its revision, quoted (``"3"``).  Editors and scripts send it back
as they got it, or as a bare number (``3``); a weak tag (``W/"3"``) is read the same,
since a revision names the whole topic.  ``"0"`` means "create only": refused if the
topic exists.  ``*`` means "only over an existing topic".
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final, TypeAlias

from textdesk.topics.library import TopicDetail


class _Any(Enum):
    ANY = "*"


ANY: Final = _Any.ANY
# None: no If-Match (the last writer wins); ANY: "*"; else the revision.
Precondition: TypeAlias = int | _Any | None

_TAG = re.compile(r'(?:W/)?"(\d{1,9})"|(\d{1,9})')


class BadIfMatch(ValueError):
    """An If-Match that names no revision."""


def if_match(header: str | None) -> Precondition:
    """The revision (or ``ANY``) an ``If-Match`` header asks for; None without one."""
    if header is None:
        return None
    value = header.strip()
    if value == "*":
        return ANY
    found = _TAG.fullmatch(value)
    if found is None:
        raise BadIfMatch(
            f'If-Match must be one revision, as the ETag gave it ("3") or bare (3), '
            f'"0" to create only, or *; not {value[:40]!r}'
        )
    return int(found.group(1) or found.group(2))


def changed_since(current: TopicDetail, expected: Precondition) -> str:
    """Why a change from revision ``expected`` was refused: who changed the topic since."""
    if expected == 0:
        opening = f"topic {current.id} already exists (revision {current.revision})"
    else:
        opening = (
            f"topic {current.id} changed since revision {expected}: it is at revision "
            f"{current.revision}"
        )
    last = _last_change(current)
    return (
        f"{opening}{f', {last}' if last else ''}. Nothing was saved: `current` is the topic "
        f'now; make your change on it and send If-Match: "{current.revision}".'
    )


def _last_change(current: TopicDetail) -> str:
    changes = []
    if current.draft_at is not None:
        changes.append((current.draft_at, f"draft saved by {current.draft_by}"))
    if current.published_at is not None:
        changes.append(
            (
                current.published_at,
                f"version {current.published} published by {current.published_by}",
            )
        )
    if not changes:
        return ""
    at, what = max(changes, key=lambda change: change[0])
    return f"last {what} at {at:%Y-%m-%d %H:%M:%S %Z}".rstrip()
