"""A record on the instance links to its Service Portal page; a built-in one as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from textdesk.adapters.servicenow.links import InstanceViews, portal_url
from textdesk.domain.records import REMOTE_ID, Record

OPENED = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
RECORD = Record(
    id=1,
    number="INC0010001",
    short_description="VPN drops",
    description="",
    category=None,
    state="New",
    urgency=3,
    priority=4,
    caller_id=None,
    caller_name=None,
    caller_phone="+15551230001",
    assigned_to=None,
    opened_at=OPENED,
    updated_at=OPENED,
)


class LocalViews:
    def view(self, record: Record) -> dict[str, Any]:
        return {"url": f"https://desk.example.com/r/{record.number}"}


def test_a_record_on_the_instance_links_to_its_portal_page_in_the_desks_timezone() -> None:
    views = InstanceViews(
        "https://acme.service-now.com/", LocalViews(), ZoneInfo("America/New_York")
    )
    shown = views.view(replace(RECORD, id=REMOTE_ID, external_id="abc123"))
    assert shown["url"] == "https://acme.service-now.com/sp?id=ticket&table=incident&sys_id=abc123"
    assert shown["opened_at"].endswith("EST")


def test_a_built_in_record_keeps_its_own_link() -> None:
    views = InstanceViews("https://acme.service-now.com", LocalViews())
    assert views.view(RECORD) == {"url": "https://desk.example.com/r/INC0010001"}


def test_a_sys_id_is_quoted_into_the_link() -> None:
    assert portal_url("https://a.example", "a b").endswith("sys_id=a%20b")
