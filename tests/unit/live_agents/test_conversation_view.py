"""One conversation's Workspace page on an in-memory read model: what is read, and shown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textdesk.domain.delivery import describe_error
from textdesk.live_agents.conversation_view import answers, conversation_view
from textdesk.ports import (
    AgentRow,
    Change,
    ConversationHead,
    DeliveredLine,
    HandoffView,
    RecordLine,
)
from textdesk.testing.desk import FakeWorkspacePage, FakeWorkspaceReads
from textdesk.testing.notifications import StoredUser

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CID = 7
TEXTER = "+15551230001"
DANA = AgentRow(1, "Dana Agent", "dana@example.com", "agent", "available", 3, "x")
LEE = AgentRow(2, "Lee Colleague", "lee@example.com", "agent", "available", 3, "x")


class Signer:
    """Signs a key as a URL anyone can read in an assert."""

    def url_for(self, key: str, /) -> str:
        return f"https://desk.example/{key}"


def line(line_id: int, author: str = "texter", **extra: Any) -> DeliveredLine:
    fields: dict[str, Any] = {
        "id": line_id,
        "author": author,
        "body": f"line {line_id}",
        "media": [],
        "created_at": NOW,
        "agent_name": None,
        "outbox_id": None,
        "status": None,
        "error_code": None,
        "error_message": None,
        "segments": None,
        "encoding": None,
    }
    return DeliveredLine(**(fields | extra))


def chat(status: str, **extra: Any) -> HandoffView:
    fields: dict[str, Any] = {
        "status": status,
        "queue_id": 1,
        "queue": "Service desk",
        "reason": "asked",
        "note": None,
        "agent_id": None,
        "agent_name": None,
        "offered_to": None,
        "requested_at": NOW,
        "accepted_at": None,
    }
    return HandoffView(**(fields | extra))


def page(user_id: int | None = None, **reads: Any) -> FakeWorkspacePage:
    head = ConversationHead(CID, TEXTER, "+15550100100", "bot", None, user_id, None, None)
    found = FakeWorkspacePage(views=FakeWorkspaceReads(heads={CID: head}, **reads))
    if user_id is not None:
        found.tables.users[user_id] = StoredUser(user_id, "Sam Texter", TEXTER)
    return found


async def show(found: FakeWorkspacePage, agent: AgentRow = DANA) -> Any:
    return await conversation_view(found, agent, CID, media=Signer(), record_links=Signer())


async def test_a_conversation_the_agent_may_not_see_is_not_read_at_all() -> None:
    """Hidden is the same answer as missing: None, after the one visibility query."""
    found = page(visible=set())
    assert await show(found) is None
    assert [q for q, _ in found.views.queries] == ["visible_among"]


async def test_a_guests_page_reads_no_account_and_no_notifications() -> None:
    """Only accounts subscribe: a guest's page skips both, but not the number's opt-out."""
    found = page()
    found.tables.optouts[TEXTER] = "sms"
    found.tables.opted_out_at[TEXTER] = NOW
    view = await show(found)
    assert (view.subscription, view.notifications, view.profile.is_guest) == (None, [], True)
    assert (view.opted_out.since, view.opted_out.source) == (NOW, "sms")


async def test_an_accounts_page_shows_its_setting_and_latest_change() -> None:
    """The setting and audit trail come from the notifications' repositories."""
    found = page(user_id=42)
    found.tables.subscribed[42] = True
    found.tables.changes[42] = [Change(False, "sms", NOW), Change(True, "api", NOW)]
    view = await show(found)
    assert view.subscription.enabled
    assert view.last_subscription_change == Change(True, "api", NOW)


async def test_the_transcript_reads_oldest_first_with_delivery_errors_explained() -> None:
    """Read newest first (the newest 500), shown oldest first; a code is put in words."""
    found = page(
        transcripts={
            CID: [
                line(1),
                line(2, "agent", status="undelivered", error_code=30007, agent_name="Dana"),
                line(3, "bot", status="failed", error_message="timed out"),
            ]
        }
    )
    view = await show(found)
    assert [(ln.id, ln.error) for ln in view.lines] == [
        (1, None),
        (2, f"30007: {describe_error(30007)}"),
        (3, "timed out"),
    ]
    assert ("transcript", {"id": CID, "limit": 500}) in found.views.queries


async def test_uploaded_images_show_their_preview_and_demo_images_themselves() -> None:
    """An upload (``att/``) links its downscaled copy; a demo image is its own preview."""
    found = page(transcripts={CID: [line(1, media=["att/abc", "demo/printer.png"])]})
    [shown] = (await show(found)).lines
    assert [(p.preview, p.original) for p in shown.images] == [
        ("https://desk.example/att/abc/preview", "https://desk.example/att/abc"),
        ("https://desk.example/demo/printer.png", "https://desk.example/demo/printer.png"),
    ]


async def test_the_texters_records_link_to_their_pages() -> None:
    """At most 50, by account or phone, each with its signed link."""
    found = page(texter_records=[RecordLine("INC0000001", "Printer jam", "New", 3, NOW)])
    [record] = (await show(found)).records
    assert (record.url, record.is_open) == ("https://desk.example/INC0000001", True)
    assert ("records_of", {"user_id": None, "phone": TEXTER, "limit": 50}) in found.views.queries


async def test_the_buttons_follow_who_may_act_on_the_chat() -> None:
    """Waiting: anyone may accept; active with Dana: she replies and transfers, Lee neither."""
    waiting = await show(page(shown={CID: chat("waiting")}))
    assert (waiting.can_accept, waiting.can_reply, waiting.can_transfer) == (True, False, False)
    dana = await show(page(shown={CID: chat("active", agent_id=1)}))
    assert (dana.can_accept, dana.can_reply, dana.can_transfer) == (False, True, True)
    lee = await show(page(shown={CID: chat("active", agent_id=1)}), LEE)
    assert (lee.can_accept, lee.can_reply, lee.can_transfer) == (False, False, False)
    ended = await show(page(shown={CID: chat("ended", agent_id=1)}))
    assert (ended.is_open, ended.can_accept, ended.can_reply) == (False, False, False)


def test_topic_answers_read_as_an_agent_reads_them() -> None:
    """Yes/No for booleans, a choice by its label, photos as images, blanks as a dash."""
    shown = answers(
        {
            "has_power": True,
            "printer": {"label": "HP LaserJet", "value": "hp"},
            "photos": ["att/1", "att/2"],
            "serial": "",
        },
        Signer(),
    )
    assert [(a.name, a.text, len(a.images)) for a in shown] == [
        ("Has power", "Yes", 0),
        ("Printer", "HP LaserJet", 0),
        ("Photos", "2 image(s)", 2),
        ("Serial", "—", 0),
    ]
