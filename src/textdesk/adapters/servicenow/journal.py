"""A journal field (``comments``, ``work_notes``) as the Table API shows it in text.

Read when the instance will not let the integration user read ``sys_journal_field``
(its ACLs, or an instance that does not expose it): the record's ``comments`` display
value is every entry, newest first, each under a line
``<when> - <who> (Additional comments)``, its text, then a blank line.  ``<when>`` is
in the integration user's date format; the ISO-like default is read exactly, any
other keeps the entry with no time (the order is still the instance's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

LABELS = {"comments": "Additional comments", "work_notes": "Work notes"}
_HEADER = re.compile(
    r"^(?P<when>\S.*?) - (?P<who>.+?) \((?P<label>Additional comments|Work notes)\)\s*$",
    re.MULTILINE,
)
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%m-%d-%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S")


@dataclass(frozen=True)
class Entry:
    """One journal entry: who wrote it (their name as shown), when, what."""

    who: str
    when: datetime | None
    text: str
    element: str


def _moment(raw: str) -> datetime | None:
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(raw.strip(), pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def entries(shown: str) -> list[Entry]:
    """The entries of a journal's display value, oldest first."""
    elements = {label: element for element, label in LABELS.items()}
    headers = list(_HEADER.finditer(shown))
    found: list[Entry] = []
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(shown)
        text = shown[header.end() : end].strip("\n")
        found.append(
            Entry(
                who=header["who"],
                when=_moment(header["when"]),
                text=text.rstrip(),
                element=elements[header["label"]],
            )
        )
    return list(reversed(found))
