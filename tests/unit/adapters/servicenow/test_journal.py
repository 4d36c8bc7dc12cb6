"""Journal entries read back from a journal field's display value."""

from __future__ import annotations

from datetime import UTC, datetime

from textdesk.adapters.servicenow.journal import entries

SHOWN = (
    "2026-12-02 09:15:00 - Beth Agent (Work notes)\n"
    "caller is impatient\n\n"
    "2026-12-02 09:10:00 - Beth Agent (Additional comments)\n"
    "Try the new client.\nIt reconnects by itself.\n\n"
    "2026-12-02 09:00:00 - Integration (Additional comments)\n"
    "Alice Example (by text): Still dropping\n\n"
)


def test_entries_are_read_oldest_first_with_author_time_and_journal() -> None:
    found = entries(SHOWN)
    assert [(e.who, e.text, e.element) for e in found] == [
        ("Integration", "Alice Example (by text): Still dropping", "comments"),
        ("Beth Agent", "Try the new client.\nIt reconnects by itself.", "comments"),
        ("Beth Agent", "caller is impatient", "work_notes"),
    ]
    assert found[0].when == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_a_date_in_another_format_keeps_the_entry_without_a_time() -> None:
    [entry] = entries("02.12.2026 09:00 - Beth Agent (Additional comments)\nHello\n\n")
    assert (entry.who, entry.text, entry.when) == ("Beth Agent", "Hello", None)


def test_nothing_shown_is_no_entries() -> None:
    assert entries("") == []
    assert entries("not a journal at all") == []
