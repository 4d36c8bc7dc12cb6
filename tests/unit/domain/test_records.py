"""Record rules: whose record it is, and what a new record starts as."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from textdesk.domain.agent.messages import Texter
from textdesk.domain.records import (
    InvalidRecord,
    NewRecord,
    Record,
    belongs_to,
    new_record,
    requested_record,
)

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


def test_a_new_record_starts_new_with_the_priority_its_urgency_gives() -> None:
    """State New; urgency High (1) at medium impact is priority 2; text urgencies read."""
    opened = new_record(
        short_description="  VPN drops  ", urgency="High", caller_id=7, caller_phone=None
    )
    assert opened == NewRecord(
        short_description="VPN drops",
        description="",
        category=None,
        urgency=1,
        priority=2,
        caller_id=7,
        caller_phone=None,
    )
    assert opened.state == "New"
    assert new_record(short_description="x", caller_id=None, caller_phone="+1").priority == 4


def test_a_blank_or_long_short_description_is_made_readable() -> None:
    """Blank reads "(no description)"; past 160 characters it is cut."""
    blank = new_record(short_description="   ", caller_id=None, caller_phone="+15551230001")
    assert blank.short_description == "(no description)"
    long = new_record(short_description="x" * 200, caller_id=None, caller_phone="+15551230001")
    assert long.short_description == "x" * 160


def test_a_new_record_with_no_real_urgency_is_refused() -> None:
    """An urgency that is not 1-3 or High/Medium/Low raises InvalidRecord."""
    with pytest.raises(InvalidRecord, match="urgency"):
        new_record(short_description="x", urgency="soon", caller_id=None, caller_phone="+1")


def test_a_topic_opens_a_record_in_the_texters_name_whatever_its_fields_say() -> None:
    """The texter's account and phone are the caller; caller fields are not taken."""
    member = Texter("+15551230001", user_id=7, name="Ana")
    fields = {"short_description": "Printer", "category": "", "caller_id": 99, "urgency": "2"}
    opened = requested_record(fields, texter=member, attachments=["att/1"])
    assert (opened.caller_id, opened.caller_phone) == (7, "+15551230001")
    assert (opened.category, opened.urgency, opened.attachments) == (None, 2, ("att/1",))
    guest = requested_record({"short_description": "Wi-Fi"}, texter=Texter("+15559870000"))
    assert (guest.caller_id, guest.caller_phone, guest.urgency) == (None, "+15559870000", 3)
