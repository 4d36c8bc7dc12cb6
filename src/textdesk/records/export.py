"""Exporting the built-in store's records, for a team moving them to ServiceNow.

JSON keeps everything; CSV is one row per record, the form an Import Set takes, with
the public comments and the internal notes in two columns, as ServiceNow keeps them
(``comments`` and ``work_notes``).  Dates are UTC, ISO 8601.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime

from textdesk.domain.dates import as_utc
from textdesk.domain.records import Comment, Record
from textdesk.ports import ReadingUnitOfWork, RecordRepositories

# Records read per query: a few hundred keep memory flat without many round trips.
PAGE = 500

CSV_COLUMNS = (
    "number",
    "short_description",
    "description",
    "category",
    "state",
    "urgency",
    "priority",
    "caller_name",
    "caller_phone",
    "assigned_to",
    "opened_at",
    "updated_at",
    "comments",
    "work_notes",
    "attachments",
)


async def all_records(uow: ReadingUnitOfWork[RecordRepositories]) -> list[Record]:
    """Every record once, oldest first.

    The store pages newest first by offset, and each page is its own read: a record
    opened meanwhile shifts the pages by one, so the next page repeats a record (it
    never skips one: records are not deleted).  Repeats are dropped by number.
    """
    found: list[Record] = []
    offset = 0
    async with uow.read() as repos:
        while True:
            page = await repos.records.page(
                caller_id=None, caller_phone=None, open_only=False, limit=PAGE, offset=offset
            )
            found.extend(page)
            offset += len(page)
            if len(page) < PAGE:
                break
    unique = {r.number: r for r in reversed(found)}  # oldest first, each once
    return list(unique.values())


def _when(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def _journal(comments: Sequence[Comment], *, public: bool) -> str:
    """A journal as ServiceNow shows one: newest first, each under its date and author."""
    entries = [c for c in comments if c.public is public]
    return "\n\n".join(
        f"{as_utc(c.created_at):%Y-%m-%d %H:%M:%S} - {c.author}\n{c.body}"
        for c in reversed(entries)
    )


def as_json(records: Sequence[Record]) -> str:
    return json.dumps(
        [
            {
                "number": r.number,
                "short_description": r.short_description,
                "description": r.description,
                "category": r.category,
                "state": r.state,
                "urgency": r.urgency,
                "priority": r.priority,
                "caller_name": r.caller_name,
                "caller_phone": r.caller_phone,
                "assigned_to": r.assigned_to,
                "opened_at": _when(r.opened_at),
                "updated_at": _when(r.updated_at),
                "comments": [
                    {
                        "author": c.author,
                        "body": c.body,
                        "created_at": _when(c.created_at),
                        "public": c.public,
                    }
                    for c in r.comments
                ],
                "attachments": list(r.attachments),
            }
            for r in records
        ],
        ensure_ascii=False,
        indent=2,
    )


def _cell(value: str) -> str:
    """A texter's words as a spreadsheet shows them, never as a formula it runs."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(records: Sequence[Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        # Free text (what a texter or agent typed) is guarded; the phone's "+" is not a
        # formula and stays as it is, for the import to match it.
        writer.writerow(
            [
                r.number,
                _cell(r.short_description),
                _cell(r.description),
                _cell(r.category or ""),
                r.state,
                r.urgency,
                r.priority,
                _cell(r.caller_name or ""),
                r.caller_phone or "",
                _cell(r.assigned_to or ""),
                _when(r.opened_at),
                _when(r.updated_at),
                _cell(_journal(r.comments, public=True)),
                _cell(_journal(r.comments, public=False)),
                len(r.attachments),
            ]
        )
    return out.getvalue()
