"""The Agent Workspace over real HTTP: sign-in, CSRF, who sees what, the live stream, a chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from tests.integration.conftest import NUMBER, TEXTER, Desk, EchoConverser, desk_settings
from tests.integration.phone_helpers import Phone, tiny_png
from tests.integration.workspace_helpers import PASSWORD, AgentBrowser, new_agent
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import records as record_store
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.tables import handoffs
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.web.app import create_app
from textdesk.web.workspace.render import wake

OTHER = "+15557654321"


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent, so 'agent' hands over and the bot resumes after."""
    return None


@pytest.fixture
async def browsers(desk: Desk) -> AsyncIterator[list[AgentBrowser]]:
    """Agents' browsers, closed after the test (append to the list)."""
    opened: list[AgentBrowser] = []
    yield opened
    for browser in opened:
        await browser.close()


async def _browser(desk: Desk, browsers: list[AgentBrowser], email: str | None = None) -> Any:
    browser = AgentBrowser(desk.url)
    browsers.append(browser)
    if email:
        assert (await browser.sign_in(email)).status_code == 303
    return browser


async def _conversation_id(desk: Desk, phone: str = TEXTER) -> int:
    return int(await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=phone))


async def _handoff_status(desk: Desk, cid: int) -> str:
    return str(
        await desk.scalar(
            "SELECT status FROM handoffs WHERE conversation_id = :c ORDER BY id DESC", c=cid
        )
    )


async def _outbox_count(desk: Desk) -> int:
    return int(await desk.scalar("SELECT count(*) FROM outbox"))


async def _ask_for_agent(desk: Desk, phone_number: str = TEXTER) -> tuple[Phone, int]:
    phone = Phone(desk, phone_number)
    await phone.say("hi")
    assert "Please stand by" in await phone.say("agent")
    return phone, await _conversation_id(desk, phone_number)


async def test_nothing_is_reachable_signed_out(desk: Desk, browsers: list[AgentBrowser]) -> None:
    """Pages redirect to the sign-in form; fragments, actions and events answer 401."""
    await new_agent(desk.db, "Dana Agent")
    _, cid = await _ask_for_agent(desk)
    browser = await _browser(desk, browsers)
    for page in ("/workspace", f"/workspace/conversations/{cid}"):
        answer = await browser.http.get(page)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/workspace/login?next=")
    for fragment in (
        "/workspace/inbox",
        f"/workspace/conversations/{cid}/live",
        f"/workspace/conversations/{cid}/transfer-targets",
        "/workspace/events",
        "/workspace/sms-cost?body=hi",
    ):
        assert (await browser.http.get(fragment)).status_code == 401, fragment
    for action in ("accept", "reply", "card", "image", "transfer", "end"):
        answer = await browser.act(f"/workspace/conversations/{cid}/{action}", {"body": "x"})
        assert answer.status_code == 401, action
    assert (await browser.act("/workspace/presence", {"presence": "away"})).status_code == 401
    assert await _handoff_status(desk, cid) == "offered"
    assert "Sign in" in (await browser.http.get("/workspace/login")).text


async def test_wrong_password_is_refused_then_throttled(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """A wrong password never signs in; after five failures even the right one waits."""
    await new_agent(desk.db, "Dana Agent")
    browser = await _browser(desk, browsers)
    answer = await browser.sign_in("dana@example.com", "not-the-password")
    assert answer.status_code == 401
    assert "Wrong email or password" in answer.text
    assert (await browser.http.get("/workspace")).status_code == 303
    for _ in range(4):
        await browser.sign_in("dana@example.com", "still-wrong")
    blocked = await browser.sign_in("dana@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    assert (await browser.http.get("/workspace/inbox")).status_code == 401


async def test_session_cookie_is_httponly_and_lax(desk: Desk, browsers: list[AgentBrowser]) -> None:
    """The session cookie cannot be read by scripts nor sent by other sites' forms."""
    await new_agent(desk.db, "Dana Agent")
    browser = await _browser(desk, browsers)
    form = await browser.http.get("/workspace/login")
    cookie = form.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # served over http here; Secure when the public URL is https


async def test_a_missing_or_wrong_csrf_token_changes_nothing(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """Without the session's token, actions and sign-in answer 403 and nothing happens."""
    await new_agent(desk.db, "Dana Agent")
    _, cid = await _ask_for_agent(desk)
    browser = await _browser(desk, browsers, "dana@example.com")
    before = await _outbox_count(desk)
    for token in ("", "forged-token"):
        refused = await browser.act(f"/workspace/conversations/{cid}/accept", token=token)
        assert refused.status_code == 403
        assert "expired or is forged" in refused.text
        presence = await browser.act("/workspace/presence", {"presence": "away"}, token=token)
        assert presence.status_code == 403
    assert await _handoff_status(desk, cid) == "offered"
    assert await _outbox_count(desk) == before
    assert await desk.scalar("SELECT presence FROM agents WHERE email = 'dana@example.com'") == (
        "available"
    )
    # The token rides in a form field too (plain forms); a wrong one there is refused as well.
    answer = await browser.http.post(
        "/workspace/presence", data={"presence": "away", "csrf_token": "nope"}
    )
    assert answer.status_code == 403
    # Signing in needs the sign-in form's token: another site cannot sign you in as itself.
    fresh = await _browser(desk, browsers)
    forged = await fresh.http.post(
        "/workspace/login", data={"email": "dana@example.com", "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert (await fresh.http.get("/workspace/inbox")).status_code == 401


async def test_agents_see_only_their_queues_and_admins_see_all(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """Another queue's agent gets 404 and no live events, until the chat is moved to them."""
    clock = SystemClock()
    await admin_use_cases(desk.db, clock).agents.add_queue(name="Service desk", is_default=True)
    hardware = await admin_use_cases(desk.db, clock).agents.add_queue(name="Hardware")
    await new_agent(desk.db, "Dana Agent", queues=["Service desk"])
    await new_agent(desk.db, "Lee Outsider", queues=["Hardware"], available=False)
    await new_agent(desk.db, "Sam Admin", role="admin", queues=["Hardware"], available=False)
    dana = await _browser(desk, browsers, "dana@example.com")
    lee = await _browser(desk, browsers, "lee@example.com")
    sam = await _browser(desk, browsers, "sam@example.com")

    # Before the hand-off the conversation is the bot's, which every agent may read:
    # the texter says hi before the streams open, so they carry only the queue's chat.
    phone = Phone(desk, TEXTER)
    await phone.say("hi")

    async def settled() -> bool:  # the greeting's status callbacks are in, too
        return not await desk.scalar("SELECT count(*) FROM outbox WHERE status <> 'delivered'")

    await desk.eventually(settled, what="the greeting's delivery")
    async with dana.events() as dana_events, lee.events() as lee_events, sam.events() as sam_events:
        assert "Please stand by" in await phone.say("agent")
        cid = await _conversation_id(desk)
        await dana_events.wait_for(lambda e: e["conversation_id"] == cid)
        await sam_events.wait_for(lambda e: e["conversation_id"] == cid)

        assert (await lee.http.get(f"/workspace/conversations/{cid}")).status_code == 404
        for part in ("live", "transfer-targets"):
            answer = await lee.http.get(f"/workspace/conversations/{cid}/{part}")
            assert answer.status_code == 404, part
        for action in ("accept", "reply", "end", "transfer"):
            answer = await lee.act(
                f"/workspace/conversations/{cid}/{action}",
                {"body": "hello", "target": f"queue:{hardware}"},
            )
            assert answer.status_code == 404, action
        assert f"/conversations/{cid}" not in (await lee.http.get("/workspace/inbox")).text
        await asyncio.sleep(0.3)  # the streams handle events in order, within milliseconds
        assert lee_events.about(cid) == []
        assert await _handoff_status(desk, cid) == "offered"

        page = await sam.http.get(f"/workspace/conversations/{cid}")
        assert page.status_code == 200
        assert TEXTER in page.text
        assert f"/conversations/{cid}" in (await sam.http.get("/workspace/inbox")).text

        # The admin hands the chat to Hardware, with a note: now it is Lee's to see.
        moved = await sam.act(
            f"/workspace/conversations/{cid}/transfer",
            {"target": f"queue:{hardware}", "note": "printer on floor 2"},
        )
        assert moved.status_code == 200
        await lee_events.wait_for(lambda e: e["conversation_id"] == cid)
        inbox = (await lee.http.get("/workspace/inbox")).text
        assert "printer on floor 2" in inbox
        assert (await lee.http.get(f"/workspace/conversations/{cid}")).status_code == 200
        assert (await dana.http.get(f"/workspace/conversations/{cid}")).status_code == 404


async def _accepted_chat(
    desk: Desk, browsers: list[AgentBrowser]
) -> tuple[AgentBrowser, Phone, int, str]:
    """Alice (with one record) asks for an agent; Dana accepts from the Workspace."""
    clock = SystemClock()
    await admin_use_cases(desk.db, clock).accounts.add(name="Alice Example", phone=TEXTER)
    async with desk.db.begin() as conn:
        record = await record_store.create(
            conn,
            short_description="VPN drops hourly",
            caller_id=None,
            caller_phone=TEXTER,
            now=clock.now(),
        )
    await new_agent(desk.db, "Dana Agent")
    dana = await _browser(desk, browsers, "dana@example.com")
    phone, cid = await _ask_for_agent(desk)
    accepted = await dana.act(f"/workspace/conversations/{cid}/accept")
    assert accepted.status_code == 200
    assert accepted.headers["hx-redirect"] == f"/workspace/conversations/{cid}"
    greeting = await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER)
    assert "this is Dana" in greeting[-1].body
    phone.seen += 1
    return dana, phone, cid, str(record.number)


async def test_the_agent_sees_the_bot_part_the_profile_and_the_records(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """The offer shows up in the inbox; the page has the whole transcript and the texter."""
    await new_agent(desk.db, "Dana Agent")
    alice = await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )
    token = await admin_use_cases(desk.db, SystemClock()).api_tokens.create("tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        held = await api.post("/notifications", json={"user_id": alice, "body": "Fixed!"})
        assert held.json()["skipped"]["not_subscribed"] == 1
    dana = await _browser(desk, browsers, "dana@example.com")
    async with dana.events() as events:
        phone = Phone(desk, TEXTER)
        await phone.say("hi")
        await phone.say("1")  # into the incident topic, then out of it
        await phone.say("My laptop will not boot")
        await phone.say("agent")
        cid = await _conversation_id(desk)
        await events.wait_for(lambda e: e["conversation_id"] == cid)
    inbox = (await dana.http.get("/workspace/inbox")).text
    assert "Offered to you" in inbox
    assert "Alice Example" in inbox
    page = (await dana.http.get(f"/workspace/conversations/{cid}")).text
    assert "Report an issue" in page  # the bot's menu, earlier in the transcript
    assert "Virtual agent" in page
    assert "My laptop will not boot" in page
    assert "Accept" in page
    assert "Guest" not in page
    # Her notification history, with why one was not sent, in words.
    assert "Fixed!" in page
    assert "notifications are off for this account" in page


async def test_replies_by_text_card_and_image(desk: Desk, browsers: list[AgentBrowser]) -> None:
    """Each reply reaches the phone (the image as MMS) and shows its delivery status."""
    dana, phone, cid, number = await _accepted_chat(desk, browsers)

    sent = await dana.act(f"/workspace/conversations/{cid}/reply", {"body": "Try a restart."})
    assert sent.status_code == 200
    assert "Try a restart." in sent.text
    received = await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER)
    assert received[-1].body == "Try a restart."

    card = await dana.act(f"/workspace/conversations/{cid}/card", {"number": number})
    assert card.status_code == 200
    card_text = (await desk.fake.wait_for_messages(phone.seen + 2, to=TEXTER))[-1].body
    assert number in card_text
    assert "VPN drops hourly" in card_text
    assert "http" in card_text  # the record's link

    # A comment and a work note on her record: kept under Dana's name, not texted.
    commented = await dana.act(
        f"/workspace/conversations/{cid}/comment",
        {"number": number, "body": "A new cable is on its way.", "visibility": "comment"},
    )
    assert commented.status_code == 200
    assert "Dana Agent added a comment on" in commented.text
    noted = await dana.act(
        f"/workspace/conversations/{cid}/comment",
        {"number": number, "body": "Cable ordered", "visibility": "work_note"},
    )
    assert noted.status_code == 200
    kept = await desk.rows("SELECT author, body, public FROM record_comments ORDER BY id")
    assert [(k.author, k.body, bool(k.public)) for k in kept] == [
        ("Dana Agent", "A new cable is on its way.", True),
        ("Dana Agent", "Cable ordered", False),
    ]
    assert len(desk.fake.messages_to(TEXTER)) == phone.seen + 2

    before = await _outbox_count(desk)
    pdf = await dana.act(
        f"/workspace/conversations/{cid}/image",
        files={"file": ("notes.pdf", b"%PDF-1.4\n%fake\n", "application/pdf")},
    )
    assert pdf.status_code == 422
    assert "only JPEG, PNG, GIF or WebP images can be sent" in pdf.text
    assert await _outbox_count(desk) == before

    image = await dana.act(
        f"/workspace/conversations/{cid}/image",
        {"caption": "Like this"},
        files={"file": ("screen.png", tiny_png(), "image/png")},
    )
    assert image.status_code == 200
    mms = (await desk.fake.wait_for_messages(phone.seen + 3, to=TEXTER))[-1]
    assert mms.body == "Like this"
    assert len(mms.media_urls) == 1

    async def delivered() -> bool:
        live = await dana.http.get(f"/workspace/conversations/{cid}/live")
        return live.text.count("delivery-delivered") >= 4  # greeting, text, card, image

    await desk.eventually(delivered, what="delivery reports shown on the page")


async def test_an_agents_curly_quotes_do_not_make_the_text_unicode(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """Pasted typography goes out as plain characters: one 160-character segment, not three."""
    dana, phone, cid, _ = await _accepted_chat(desk, browsers)
    draft = "It\u2019s \u201cfixed\u201d \u2014 restart and try again\u2026 " + "x" * 100
    counter = await dana.http.get("/workspace/sms-cost", params={"body": draft})
    assert "GSM-7" in counter.text
    assert "1 segment" in counter.text
    sent = await dana.act(f"/workspace/conversations/{cid}/reply", {"body": draft})
    assert sent.status_code == 200
    received = (await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER))[-1]
    assert received.body.startswith('It\'s "fixed" - restart and try again... xx')
    assert received.num_segments == 1
    # The transcript shows what the texter got.
    live = await dana.http.get(f"/workspace/conversations/{cid}/live")
    assert "restart and try again... xx" in live.text
    assert "\u2019" not in live.text


async def test_answers_arrive_live_and_ending_returns_to_the_bot(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """The texter's answer is announced on the stream; after End the bot answers again."""
    dana, phone, cid, _ = await _accepted_chat(desk, browsers)
    async with dana.events() as events:
        assert await phone.say("Restarted, works now") == ""
        await events.wait_for(lambda e: e == {"type": "conversation", "conversation_id": cid})
    live = await dana.http.get(f"/workspace/conversations/{cid}/live")
    assert "Restarted, works now" in live.text

    ended = await dana.act(f"/workspace/conversations/{cid}/end")
    assert ended.status_code == 200
    closing = (await desk.fake.wait_for_messages(phone.seen + 1, to=TEXTER))[-1].body
    assert "Thanks for chatting" in closing
    phone.seen += 1
    assert await _handoff_status(desk, cid) == "ended"
    assert "1. Report an issue" in await phone.say("menu")
    # The agent can still read it, but no longer reply: nobody could (a conflict, 409).
    again = await dana.act(f"/workspace/conversations/{cid}/reply", {"body": "one more"})
    assert again.status_code == 409
    assert "no open chat" in again.text


async def test_a_texter_left_waiting_is_flagged_to_the_agent(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """After the reminder delay without an answer, the stream says so and the inbox flags it."""
    dana, phone, cid, _ = await _accepted_chat(desk, browsers)
    assert await phone.say("Are you still there?") == ""
    assert "badge reminder" not in (await dana.http.get("/workspace/inbox")).text
    async with dana.events() as events:
        # The texter's text older than TEXTDESK_AGENT_REMIND_MINUTES, rather than waiting.
        now = SystemClock().now()
        moved = {
            "last_agent_at": now - timedelta(minutes=11),
            "last_texter_at": now - timedelta(minutes=10),
        }
        async with desk.db.begin() as conn:
            await conn.execute(
                update(handoffs).where(handoffs.c.conversation_id == cid).values(**moved)
            )
        wake(desk.container, "assigner")
        await events.wait_for(lambda e: e == {"type": "reminder", "conversation_id": cid})
    inbox = (await dana.http.get("/workspace/inbox")).text
    assert "badge reminder" in inbox


async def test_presence_toggle_and_sign_out(desk: Desk, browsers: list[AgentBrowser]) -> None:
    """Presence changes from the header; signing out ends the session and goes offline."""
    await new_agent(desk.db, "Dana Agent", available=False)
    dana = await _browser(desk, browsers, "dana@example.com")
    toggled = await dana.act("/workspace/presence", {"presence": "available"})
    assert toggled.status_code == 200
    assert 'value="available" selected' in toggled.text
    assert await desk.scalar("SELECT presence FROM agents") == "available"
    bad = await dana.act("/workspace/presence", {"presence": "sleeping"})
    assert bad.status_code == 422

    stolen = dict(dana.http.cookies)  # a copy taken before sign-out, e.g. from another tab
    out = await dana.act("/workspace/logout")
    assert out.status_code == 303
    assert out.headers["location"] == "/workspace/login"
    assert await desk.scalar("SELECT presence FROM agents") == "offline"
    assert (await dana.http.get("/workspace")).status_code == 303
    assert (await dana.http.get("/workspace/inbox")).status_code == 401
    async with httpx.AsyncClient(base_url=desk.url, cookies=stolen) as thief:
        assert (await thief.get("/workspace/inbox")).status_code == 401


@pytest.mark.redis
async def test_a_second_process_sees_the_events_through_redis(
    database_url: str, redis_url: str, fake_twilio: FakeTwilio
) -> None:
    """A stream on process B gets the event of a text that process A received and handled."""
    db = create_engine(database_url)
    await admin_use_cases(db, SystemClock()).numbers.add(phone=NUMBER, purpose="conversational")
    await new_agent(db, "Sam Admin", role="admin", available=False)
    try:
        socks = [bind_free_port(), bind_free_port()]
        urls = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in socks]
        extra = {"TEXTDESK_REDIS_URL": redis_url}
        # A handles Twilio's webhooks; B only serves the Workspace (no background loops).
        app_a = create_app(
            desk_settings(urls[0], database_url, fake_twilio, **extra), converser=EchoConverser()
        )
        app_b = create_app(
            desk_settings(urls[1], database_url, fake_twilio, **extra), background=False
        )
        with (
            serve_app(app_a, sock=socks[0], lifespan="on"),
            serve_app(app_b, sock=socks[1], lifespan="on"),
        ):
            sam = AgentBrowser(urls[1])
            try:
                assert (await sam.sign_in("sam@example.com")).status_code == 303
                async with sam.events() as events:
                    await fake_twilio.send_inbound(
                        webhook_url=f"{urls[0]}/twilio/sms", from_=TEXTER, to=NUMBER, body="hello"
                    )
                    event = await events.wait_for(lambda e: e["type"] == "conversation")
                async with db.connect() as conn:
                    cid = (await conn.execute(text("SELECT id FROM conversations"))).scalar_one()
                assert event == {"type": "conversation", "conversation_id": cid}
            finally:
                await sam.close()
    finally:
        await db.dispose()


async def test_an_undelivered_reply_shows_the_twilio_error_explained(
    desk: Desk, browsers: list[AgentBrowser]
) -> None:
    """The agent sees why a text did not arrive, not just that it failed."""
    dana, _phone, cid, _number = await _accepted_chat(desk, browsers)
    desk.fake.fail_delivery(TEXTER, 30003)
    sent = await dana.act(f"/workspace/conversations/{cid}/reply", {"body": "Are you there?"})
    assert sent.status_code == 200

    async def failed() -> str | None:
        live = (await dana.http.get(f"/workspace/conversations/{cid}/live")).text
        return live if "delivery-undelivered" in live else None

    page = await desk.eventually(failed, what="the failure shown on the page")
    assert "30003" in page
    assert "unreachable" in page.lower()
