"""Exporting the built-in store: each record once, oldest first, journals as ServiceNow has them."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from textdesk.domain.records import Comment, Record
from textdesk.records.export import PAGE, all_records, as_csv, as_json
from textdesk.testing.records import FakeRecordStore, RecordTables, fake_records

OPENED = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def _record(n: int, *, comments: tuple[Comment, ...] = ()) -> Record:
    return Record(
        id=n,
        number=f"INC{10000 + n:07d}",
        short_description=f"Problem {n}",
        description="",
        category=None,
        state="New",
        urgency=3,
        priority=4,
        caller_id=None,
        caller_name=None,
        caller_phone="+15551230001",
        assigned_to=None,
        opened_at=OPENED + timedelta(minutes=n),
        updated_at=OPENED + timedelta(minutes=n),
        comments=comments,
    )


async def test_every_record_is_exported_once_oldest_first_across_pages() -> None:
    tables = RecordTables(records=[_record(n) for n in range(1, 2 * PAGE + 2)])
    exported = await all_records(fake_records(tables))
    assert [r.number for r in exported] == [r.number for r in tables.records]


async def test_csv_keeps_comments_and_internal_notes_apart_newest_first() -> None:
    comments = (
        Comment("Alice Example", "Still jammed", OPENED + timedelta(hours=1)),
        Comment("Dana Agent", "Ordered a part", OPENED + timedelta(hours=2), public=False),
        Comment("Dana Agent", "Fixed 🎉", OPENED + timedelta(hours=3)),
    )
    [row] = list(csv.DictReader(io.StringIO(as_csv([_record(1, comments=comments)]))))
    assert row["number"] == "INC0010001"
    assert row["comments"] == (
        "2026-11-02 11:30:00 - Dana Agent\nFixed 🎉\n\n"
        "2026-11-02 09:30:00 - Alice Example\nStill jammed"
    )
    assert row["work_notes"] == "2026-11-02 10:30:00 - Dana Agent\nOrdered a part"
    assert row["opened_at"] == "2026-11-02T08:31:00+00:00"


def test_json_keeps_every_comment_with_whether_the_caller_sees_it() -> None:
    note = Comment("Dana Agent", "Ordered a part", OPENED, public=False)
    [exported] = json.loads(as_json([_record(1, comments=(note,))]))
    assert exported["comments"] == [
        {
            "author": "Dana Agent",
            "body": "Ordered a part",
            "created_at": "2026-11-02T08:30:00+00:00",
            "public": False,
        }
    ]


def test_typed_text_that_looks_like_a_formula_is_kept_as_text_in_the_csv() -> None:
    """A spreadsheet opening the export shows '=HYPERLINK(…) as typed, it does not run it."""
    record = dataclasses.replace(_record(1), short_description='=HYPERLINK("http://x.example")')
    [row] = list(csv.DictReader(io.StringIO(as_csv([record]))))
    assert row["short_description"] == '\'=HYPERLINK("http://x.example")'
    assert row["caller_phone"] == "+15551230001"  # a phone's "+" is no formula


async def test_a_record_opened_during_the_export_does_not_repeat_one() -> None:
    """Pages shift by one when a record is opened between them: no record twice."""
    tables = RecordTables(records=[_record(n) for n in range(1, PAGE + 2)])
    uow = fake_records(tables)
    real_page = FakeRecordStore.page

    async def page_then_open_one(self: FakeRecordStore, **kw: Any) -> list[Record]:
        found = await real_page(self, **kw)
        if kw["offset"] == 0:
            tables.records.append(_record(PAGE + 2))  # opened while the export reads
        return found

    FakeRecordStore.page = page_then_open_one  # type: ignore[method-assign]
    try:
        exported = await all_records(uow)
    finally:
        FakeRecordStore.page = real_page  # type: ignore[method-assign]
    numbers = [r.number for r in exported]
    assert len(numbers) == len(set(numbers))
    assert numbers[: PAGE + 1] == [r.number for r in tables.records[: PAGE + 1]]
