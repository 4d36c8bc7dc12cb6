"""Record rules: whose record it is."""

from __future__ import annotations

from datetime import UTC, datetime

from textdesk.domain.records import Record, belongs_to

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _record(caller_id: int | None, caller_phone: str | None) -> Record:
    return Record(
        id=1,
        number="INC0010001",
        short_description="VPN drops",
        description="",
        category=None,
        state="New",
        urgency=2,
        priority=3,
        caller_id=caller_id,
        caller_name=None,
        caller_phone=caller_phone,
        assigned_to=None,
        opened_at=NOW,
        updated_at=NOW,
    )


def test_a_record_naming_the_account_or_its_phone_is_the_texters() -> None:
    """Either link makes it theirs: opened by phone (API) or by account (SMS)."""
    assert belongs_to(_record(7, None), user_id=7, phone="+15551230001")
    assert belongs_to(_record(None, "+15551230001"), user_id=7, phone="+15551230001")
    assert belongs_to(_record(None, "+15551230001"), user_id=None, phone="+15551230001")


def test_someone_elses_record_is_not_the_texters() -> None:
    """Another account's record, or another phone's, is never shown to this texter."""
    assert not belongs_to(_record(8, "+15550000000"), user_id=7, phone="+15551230001")
    assert not belongs_to(_record(8, None), user_id=None, phone="+15551230001")
    assert not belongs_to(_record(None, None), user_id=None, phone="+15551230001")
