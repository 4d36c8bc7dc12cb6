"""Notification / START / STOP over SMS, and record events notifying subscribers.

Signed webhooks in, the real virtual agent, the Twilio stand-in out (which, like
Twilio on a long code, opts a texter out by itself on STOP and answers 21610).
"""

from __future__ import annotations

import logging

import pytest

from tests.integration.conftest import NUMBER, TEXTER, Desk
from tests.integration.notify_helpers import (
    Handset,
    api_client,
    open_record,
    outbox_to,
    settle,
    update_record,
)
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import records
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser

GUEST = "+15557654321"
# Every carrier opt-out word, dressed the way people type them.
OPT_OUT_WORDS = [" stop! ", "STOPALL", "Unsubscribe", "cancel", "End.", "quit", "REVOKE", "optout"]


@pytest.fixture
def converser() -> Converser | None:
    """None: the app runs its real virtual agent (which answers the commands)."""
    return None


@pytest.fixture
async def alice(desk: Desk) -> int:
    return await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )


async def test_notifications_are_off_by_default(desk: Desk, alice: int) -> None:
    """An incident update for an account that never opted in sends nothing."""
    record = await open_record(desk, caller_id=alice, phone=TEXTER)
    await update_record(desk, record.number, state="In Progress", assigned_to="Dana")
    await settle(desk)
    assert await outbox_to(desk, TEXTER) == []
    assert desk.fake.messages_to(TEXTER) == []
    reasons = await desk.rows("SELECT status, reason FROM notifications ORDER BY id")
    assert [(r.status, r.reason) for r in reasons] == [("skipped", "not_subscribed")] * 2


async def test_start_then_an_update_sends_exactly_one_templated_text(
    desk: Desk, alice: int
) -> None:
    """START is confirmed; the next state change arrives as one text from our number."""
    phone = Handset(desk, TEXTER)
    confirmation = await phone.reply_to("START")
    assert "now ON" in confirmation
    audit = await desk.rows("SELECT enabled, source FROM subscription_changes")
    assert [(bool(r.enabled), r.source) for r in audit] == [(True, "sms")]

    record = await open_record(desk, caller_id=alice, phone=TEXTER)
    before = await phone.last_id()
    await update_record(desk, record.number, state="In Progress")
    await settle(desk)
    sent = await outbox_to(desk, TEXTER, after=before)
    assert len(sent) == 1
    assert sent[0].kind == "notification"
    assert sent[0].from_phone == NUMBER
    assert sent[0].body.startswith(f"{record.number} is now In Progress: VPN drops every hour")
    received = await desk.fake.wait_for_messages(2, to=TEXTER)
    assert received[-1].body == sent[0].body


async def test_notification_reports_the_setting(desk: Desk, alice: int) -> None:
    """ "Notification" says off, then on after START, each with how to change it."""
    phone = Handset(desk, TEXTER)
    off = await phone.reply_to("Notification")
    assert "OFF" in off
    assert "START" in off
    await phone.say("start")
    on = await phone.reply_to("notifications.")
    assert "ON" in on
    assert "STOP" in on


async def test_stop_confirms_then_nothing_more_is_sent(
    desk: Desk, alice: int, caplog: pytest.LogCaptureFixture
) -> None:
    """STOP: the confirmation is attempted (21610, once, quietly); later events send nothing."""
    phone = Handset(desk, TEXTER)
    await phone.say("START")
    record = await open_record(desk, caller_id=alice, phone=TEXTER)

    caplog.set_level(logging.INFO, logger="textdesk")
    [confirmation] = await phone.say("STOP")
    ours = [r for r in caplog.records if not r.name.startswith("textdesk.testing")]
    assert any("21610" in r.getMessage() for r in ours)  # the refusal is noted...
    assert [r.getMessage() for r in ours if r.levelno >= logging.WARNING] == []  # ...calmly
    # The stand-in, like Twilio on a long code, opted the texter out on STOP.
    assert "now OFF" in confirmation.body
    assert (confirmation.status, confirmation.error_code) == ("failed", 21610)
    refused = [a for a in desk.fake.attempts if a.to == TEXTER and a.code == 21610]
    assert len(refused) == 1  # not retried
    optout = await desk.rows("SELECT active FROM carrier_optouts WHERE phone = :p", p=TEXTER)
    assert [bool(r.active) for r in optout] == [True]
    assert not await desk.scalar("SELECT enabled FROM subscriptions")

    before = await phone.last_id()
    await update_record(desk, record.number, state="Resolved")
    await desk.text("Can I still chat?", from_=TEXTER)
    await settle(desk)
    kinds = [s.kind for s in await outbox_to(desk, TEXTER, after=before)]
    assert "notification" not in kinds
    skipped = await desk.scalar("SELECT reason FROM notifications ORDER BY id DESC LIMIT 1")
    assert skipped == "opted_out"


async def test_stop_with_punctuation_unsubscribes(desk: Desk, alice: int) -> None:
    """ "Stop." counts as STOP: unsubscribed, opted out, confirmed."""
    phone = Handset(desk, TEXTER)
    await phone.say("START")
    [confirmation] = await phone.say("Stop.")
    assert "now OFF" in confirmation.body
    assert not await desk.scalar("SELECT enabled FROM subscriptions")
    assert await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active") == 1
    audit = await desk.rows("SELECT enabled FROM subscription_changes ORDER BY id")
    assert [bool(r.enabled) for r in audit] == [True, False]


async def test_start_after_stop_and_yes_while_opted_out_opt_back_in(desk: Desk, alice: int) -> None:
    """START lifts the carrier opt-out; YES does too, but only while opted out."""
    phone = Handset(desk, TEXTER)
    await phone.say("STOP")
    back = await phone.reply_to("start")
    assert "now ON" in back
    assert await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active") == 0
    record = await open_record(desk, caller_id=alice, phone=TEXTER)
    await update_record(desk, record.number, state="In Progress")
    await settle(desk)
    [update] = [m for m in desk.fake.messages_to(TEXTER) if record.number in m.body]
    assert update.body.startswith(f"{record.number} is now In Progress")
    await phone.say("STOP")
    enabled_before = await desk.scalar("SELECT enabled FROM subscriptions")
    again = await phone.reply_to("Yes")
    assert "You can get texts from us again" in again
    assert "now ON" not in again
    assert await desk.scalar("SELECT enabled FROM subscriptions") == enabled_before  # off
    assert not desk.fake.is_opted_out(TEXTER)
    # Not opted out any more: "yes" is an ordinary text for the virtual agent again.
    assert "again" not in await phone.reply_to("yes")


async def test_yes_after_stop_mid_topic_answers_the_question(desk: Desk, alice: int) -> None:
    """YES lifts a STOP and still confirms the pending yes/no question; no subscription."""
    phone = Handset(desk, TEXTER)
    await phone.reply_to("hi")
    await phone.reply_to("1")  # Report an issue
    await phone.reply_to("The printer jams")
    await phone.reply_to("printer")
    assert "new incident?" in await phone.reply_to("skip")
    await phone.say("STOP")
    created = "\n".join(m.body for m in await phone.say("yes"))
    assert "Thanks! Your report is INC" in created
    assert await desk.scalar("SELECT count(*) FROM records") == 1
    assert await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active") == 0
    assert not await desk.scalar("SELECT count(*) FROM subscriptions WHERE enabled")


async def test_guests_cannot_subscribe(desk: Desk) -> None:
    """A guest's START and Notification get the registered-users answer; STOP still counts."""
    phone = Handset(desk, GUEST)
    refused = await phone.reply_to("START")
    assert "registered users" in refused
    assert "To register" in refused
    assert "registered users" in await phone.reply_to("Notification")
    assert await desk.scalar("SELECT count(*) FROM subscriptions") == 0
    await phone.say("QUIT")
    assert await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active") == 1


async def test_a_command_mid_topic_keeps_the_pending_question(desk: Desk, alice: int) -> None:
    """Notification in the middle of a topic answers, reminds, and the topic carries on."""
    phone = Handset(desk, TEXTER)
    await phone.say("hi")
    assert "what's the problem" in await phone.reply_to("1")
    answer = await phone.reply_to("Notification")
    assert "OFF" in answer
    assert "reply to my last question" in answer
    menu = await phone.reply_to("The printer on floor 2 is jammed")
    assert "1. Printer problem" in menu


async def test_a_commenters_own_comment_is_not_echoed_back(desk: Desk, alice: int) -> None:
    """A subscriber is notified of staff comments, not of the comment they texted."""
    await Handset(desk, TEXTER).say("START")
    record = await open_record(desk, caller_id=alice, phone=TEXTER)
    before = await Handset(desk, TEXTER).last_id()
    async with desk.db.begin() as conn:
        now = SystemClock().now()
        await records.add_comment(conn, record.number, author="Alice Example", body="x", now=now)
        await records.add_comment(conn, record.number, author="Dana", body="On it.", now=now)
    await settle(desk)
    sent = await outbox_to(desk, TEXTER, after=before)
    assert [s.body.splitlines()[0] for s in sent] == [
        f'{record.number}: new comment from Dana: "On it."'
    ]


async def test_record_changes_over_the_rest_api_notify_a_subscriber(desk: Desk, alice: int) -> None:
    """Off: an update sends nothing.  On: state, assignment and a public comment send one
    text each, from the templates; a private work note sends nothing."""
    phone = Handset(desk, TEXTER)
    async with api_client(desk) as api:
        created = await api.post(
            "/records", json={"short_description": "VPN drops every hour", "caller_id": alice}
        )
        number = created.json()["number"]
        await api.patch(f"/records/{number}", json={"state": "In Progress"})
        await settle(desk)
        assert desk.fake.messages_to(TEXTER) == []

        assert "now ON" in await phone.reply_to("START")
        before = await phone.last_id()
        await api.patch(f"/records/{number}", json={"state": "On Hold"})
        await api.patch(f"/records/{number}", json={"assigned_to": "Dana"})
        comment = {"author": "Dana", "body": "Waiting for your new token."}
        await api.post(f"/records/{number}/comments", json=comment)
        note = {"author": "Dana", "body": "Caller sounded annoyed.", "public": False}
        await api.post(f"/records/{number}/comments", json=note)
    await settle(desk)
    sent = await outbox_to(desk, TEXTER, after=before)
    assert [s.body.splitlines()[0] for s in sent] == [
        f"{number} is now On Hold: VPN drops every hour",
        f"{number} is now with Dana: VPN drops every hour",
        f'{number}: new comment from Dana: "Waiting for your new token."',
    ]
    assert {s.kind for s in sent} == {"notification"}
    received = await desk.fake.wait_for_messages(4, to=TEXTER)  # the START reply, then 3
    assert [m.body for m in received[1:]] == [s.body for s in sent]


async def test_every_carrier_opt_out_word_stops_and_start_or_unstop_resumes(
    desk: Desk, alice: int
) -> None:
    """Each opt-out word, in any case and with stray punctuation, turns notifications off
    and records the carrier opt-out; START and UNSTOP each turn them back on."""
    phone = Handset(desk, TEXTER)
    for turn, word in enumerate(OPT_OUT_WORDS):
        opt_in = "UNSTOP" if turn % 2 else "Start"
        assert "now ON" in await phone.reply_to(opt_in), opt_in
        assert await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active") == 0
        assert "now OFF" in (await phone.say(word))[0].body, word
        assert await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active") == 1, word
    audit = await desk.rows("SELECT enabled, source FROM subscription_changes ORDER BY id")
    assert [(bool(r.enabled), r.source) for r in audit] == [(True, "sms"), (False, "sms")] * len(
        OPT_OUT_WORDS
    )


async def test_stop_and_start_mid_topic_keep_the_pending_question(desk: Desk, alice: int) -> None:
    """STOP then START in the middle of a topic: both confirmed, and the next ordinary
    text still answers the question the bot had asked."""
    phone = Handset(desk, TEXTER)
    await phone.say("hi")
    assert "what's the problem" in await phone.reply_to("1")
    assert "now OFF" in (await phone.say("STOP"))[0].body
    back = await phone.reply_to("START")
    assert "now ON" in back
    assert "reply to my last question" in back
    menu = await phone.reply_to("The printer on floor 2 is jammed")
    assert "1. Printer problem" in menu


async def test_after_stop_the_bot_stays_silent_until_start(desk: Desk) -> None:
    """Texts after STOP still reach the bot, but its answers are held, not bounced (21610)."""
    phone = Handset(desk, GUEST)
    [confirmation] = await phone.say("STOP")
    [held] = await phone.say("menu")
    assert held.status == "canceled"
    assert "opted out" in (
        await desk.scalar("SELECT error_message FROM outbox WHERE id = :i", i=held.id)
    )
    # The confirmation was offered to Twilio (which refuses it after STOP); the menu never.
    tried = [a.body for a in desk.fake.attempts if a.to == GUEST]
    assert tried == [confirmation.body]
    await phone.say("START")
    assert any("1. Report an issue" in m.body for m in await phone.say("menu"))
