"""Dates as texters and agents read them: short, GSM-7, in the desk's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from textdesk.domain.agent.cards import card_text
from textdesk.domain.dates import readable
from textdesk.domain.records import Comment, Record
from textdesk.domain.topics.schema import CardField

NEW_YORK = ZoneInfo("America/New_York")


def test_a_winter_date_in_new_york_is_eastern_standard_time() -> None:
    """December is EST (UTC-5): day without a leading zero, 24-hour clock, abbreviation."""
    moment = datetime(2026, 12, 1, 18, 33, 29, 950259, tzinfo=UTC)
    assert readable(moment, NEW_YORK) == "1 Dec 2026, 13:33 EST"


def test_a_summer_date_in_new_york_is_eastern_daylight_time() -> None:
    """July is EDT (UTC-4): the zone's rules, not a fixed offset."""
    moment = datetime(2026, 7, 4, 2, 5, tzinfo=UTC)
    assert readable(moment, NEW_YORK) == "3 Jul 2026, 22:05 EDT"


def test_without_a_zone_dates_are_shown_in_utc() -> None:
    """The default zone is UTC, and says so."""
    assert readable(datetime(2026, 12, 1, 18, 33, tzinfo=UTC)) == "1 Dec 2026, 18:33 UTC"


def test_a_naive_datetime_is_taken_as_utc() -> None:
    """A datetime without a zone (as some drivers return) is UTC, not the server's clock."""
    assert readable(datetime(2026, 12, 1, 18, 33), NEW_YORK) == "1 Dec 2026, 13:33 EST"


def test_a_half_hour_zone_shows_its_own_clock() -> None:
    """Offsets that are not whole hours (India, UTC+5:30) are shown right."""
    text = readable(datetime(2026, 3, 9, 7, 0, tzinfo=UTC), ZoneInfo("Asia/Kolkata"))
    assert text == "9 Mar 2026, 12:30 IST"


def _record() -> Record:
    opened = datetime(2026, 12, 1, 18, 33, 29, 950259, tzinfo=UTC)
    return Record(
        id=1,
        number="INC0010001",
        short_description="Printer jams",
        description="",
        category=None,
        state="New",
        urgency=2,
        priority=3,
        caller_id=None,
        caller_name=None,
        caller_phone="+15551230001",
        assigned_to=None,
        opened_at=opened,
        updated_at=opened,
        comments=(Comment("Dana", "On it", datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),),
    )


def test_a_cards_opened_field_is_in_the_desks_timezone() -> None:
    """A card's "Opened" line shows the desk's time, not raw ISO."""
    fields = [CardField(field="number"), CardField(field="opened_at", label="Opened")]
    text = card_text(_record().as_dict(zone=NEW_YORK), fields, link=False)
    assert text == "Number: INC0010001\nOpened: 1 Dec 2026, 13:33 EST"


def test_a_record_keeps_its_exact_moments_for_templates() -> None:
    """``*_iso`` carries the exact UTC moment beside each readable date."""
    view = _record().as_dict(zone=NEW_YORK)
    assert view["opened_at_iso"] == "2026-12-01T18:33:29.950259+00:00"
    assert view["comments"] == [
        {
            "author": "Dana",
            "body": "On it",
            "created_at": "1 Jul 2026, 08:00 EDT",
            "created_at_iso": "2026-07-01T12:00:00+00:00",
        }
    ]
