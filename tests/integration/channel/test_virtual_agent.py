"""The demo topics end to end: signed webhooks in, the Twilio stand-in receiving replies."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone, tiny_png
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import records
from textdesk.adapters.db.tables import record_attachments
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser

GUEST = "+15557654321"


@pytest.fixture
def converser() -> Converser | None:
    """None: the app runs its real virtual agent on the packaged demo topics."""
    return None


@pytest.fixture
async def alice(desk: Desk) -> int:
    return await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )


async def test_report_an_issue_with_a_photo_creates_an_incident(desk: Desk, alice: int) -> None:
    """Text, choice by fuzzy label, MMS photo, yes → an incident with the photo, and a card."""
    phone = Phone(desk, TEXTER)
    greeting = await phone.say("hi")
    assert "Alice" in greeting
    assert "1. Report an issue" in greeting
    assert "what's the problem" in await phone.say("1")
    menu = await phone.say("The printer on floor 2 is jammed")
    assert "1. Printer problem" in menu
    assert "photo" in (await phone.say("printr")).lower()
    confirm = await phone.say(media=[(tiny_png(), "image/png")])
    assert "YES or NO" in confirm
    card = await phone.say("yeah")
    assert "INC0010001" in card
    assert "The printer on floor 2 is jammed" in card
    assert f"{desk.url}/r/INC0010001." in card
    # Nobody is assigned yet: the card leaves the field out rather than say "(unassigned)".
    assert "Assigned to" not in card
    assert "Text START to get its updates" in card
    async with desk.db.connect() as conn:
        record = await records.get(conn, "INC0010001")
        assert record is not None
        assert record.caller_id == alice
        assert record.category == "printer"
        keys = (await conn.execute(select(record_attachments.c.media_key))).scalars().all()
    assert len(keys) == 1
    # The texted photo is stored and served back by its key.
    assert record.attachments == tuple(keys)


async def test_a_pdf_is_refused_by_the_file_picker(desk: Desk, alice: int) -> None:
    """A PDF (even labelled image/jpeg) is re-asked for, and the topic carries on."""
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("report an issue")
    await phone.say("Laptop will not boot")
    await phone.say("4")
    refused = await phone.say(media=[(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "image/jpeg")])
    assert "Only images" in refused
    assert "YES or NO" in await phone.say("skip")
    cancelled = await phone.say("no")
    assert "INC" not in cancelled
    assert await desk.scalar("SELECT count(*) FROM records") == 0


async def test_serial_number_topic_sends_an_image_by_mms(desk: Desk, alice: int) -> None:
    """The image response arrives as MMS through a signed, fetchable URL."""
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    await phone.say("where is my serial number")
    mms = [m for m in desk.fake.messages_to(TEXTER) if m.media_urls]
    assert len(mms) == 1
    url = mms[0].media_urls[0]
    assert url.startswith(f"{desk.url}/media/")
    async with httpx.AsyncClient() as client:
        image = await client.get(url)
        forged = await client.get(url[:-4] + "abcd")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert forged.status_code == 404


async def test_my_incidents_lists_only_the_texters_open_records(desk: Desk, alice: int) -> None:
    """Dynamic choice shows the texter's own open incidents; a card and a comment follow."""
    async with desk.db.begin() as conn:
        now = SystemClock().now()
        await records.create(
            conn, short_description="VPN drops", caller_id=alice, caller_phone=TEXTER, now=now
        )
        await records.create(
            conn, short_description="Someone else's", caller_id=None, caller_phone=GUEST, now=now
        )
        closed = await records.create(
            conn, short_description="Old one", caller_id=alice, caller_phone=TEXTER, now=now
        )
        await records.apply_update(conn, closed.number, {"state": "Closed"}, now)
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    listing = await phone.say("my incidents")
    assert "INC0010001 VPN drops" in listing
    assert "Someone else" not in listing
    assert "Old one" not in listing
    card = await phone.say("1")
    assert "State: New" in card
    assert "/r/INC0010001." in card
    await phone.say("yes")
    await phone.say("It drops every hour")
    async with desk.db.connect() as conn:
        record = await records.get(conn, "INC0010001")
    assert record is not None
    assert [c.body for c in record.comments] == ["It drops every hour"]


async def test_a_record_opened_by_phone_is_the_accounts_record(desk: Desk, alice: int) -> None:
    """A record created through the API with only Alice's number (as typed) is hers."""
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        created = await api.post(
            "/records",
            json={"short_description": "Badge reader broken", "caller_phone": "+1 (555) 123-0001"},
        )
        assert created.status_code == 201
        mine = await api.get("/records", params={"caller_id": alice, "caller_phone": TEXTER})
        assert [r["short_description"] for r in mine.json()] == ["Badge reader broken"]
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    listing = await phone.say("my incidents")
    assert "INC0010001 Badge reader broken" in listing
    card = await phone.say("1")
    assert "Badge reader broken" in card


async def test_guests_are_told_my_incidents_needs_an_account(desk: Desk) -> None:
    """A number without an account gets a clear answer, not a list."""
    phone = Phone(desk, GUEST)
    await phone.say("hello")
    answer = await phone.say("my incidents")
    assert "account" in answer.lower()


async def test_talk_to_a_person_says_no_agent_is_available(desk: Desk, alice: int) -> None:
    """Until live agents are configured, asking for one gets the no-agent text."""
    phone = Phone(desk, TEXTER)
    await phone.say("hi")
    answer = await phone.say("agent")
    assert "no agent" in answer.lower() or "not available" in answer.lower()
