"""The SMS channel end to end: webhook → inbox → conversation → outbox → Twilio → status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from tests.images import photo
from tests.integration.conftest import ACCOUNT_SID, AUTH_TOKEN, TEXTER, Desk
from textdesk.adapters.db import outbox as outbox_store
from textdesk.adapters.db.tables import inbox, outbox
from textdesk.adapters.twilio.rest import TwilioRestGateway
from textdesk.adapters.twilio.sandbox import sign_form
from textdesk.web.twilio import routes

PNG = photo(4, 3, "PNG")
JPEG = photo(4, 3, "JPEG")


async def test_reply_goes_out_and_is_tracked_to_delivered(desk: Desk) -> None:
    """A text is answered through Twilio's API and its status reaches delivered."""
    response = await desk.text("hello")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response" in response.text
    sent = await desk.fake.wait_for_messages(1, to=TEXTER)
    assert sent[0].body == "echo: hello"
    assert sent[0].from_ == desk.number
    assert sent[0].status_callback == f"{desk.url}/twilio/status"

    async def delivered() -> bool:
        status = await desk.scalar("SELECT status FROM outbox WHERE twilio_sid = :s", s=sent[0].sid)
        return bool(status == "delivered")

    await desk.eventually(delivered, what="status delivered")
    row = (await desk.rows("SELECT encoding, segments FROM outbox"))[0]
    assert (row.encoding, row.segments) == ("GSM-7", 1)


async def test_forged_signature_is_refused_and_nothing_stored(desk: Desk) -> None:
    """A webhook signed with the wrong token gets 403 and leaves no trace."""
    form = {"MessageSid": "SM" + "a" * 32, "From": TEXTER, "To": desk.number, "Body": "hi"}
    headers = sign_form("not-the-token", f"{desk.url}/twilio/sms", form)
    async with httpx.AsyncClient() as client:
        forged = await client.post(f"{desk.url}/twilio/sms", data=form, headers=headers)
        unsigned = await client.post(f"{desk.url}/twilio/sms", data=form)
    assert forged.status_code == 403
    assert unsigned.status_code == 403
    assert await desk.scalar("SELECT count(*) FROM inbox") == 0


async def test_signature_covers_parameters_we_do_not_know(desk: Desk) -> None:
    """Tampering with an unknown field (added after signing) breaks the signature."""
    form = {"MessageSid": "SM" + "b" * 32, "From": TEXTER, "To": desk.number, "Body": "hi"}
    headers = sign_form(AUTH_TOKEN, f"{desk.url}/twilio/sms", form)
    async with httpx.AsyncClient() as client:
        tampered = await client.post(
            f"{desk.url}/twilio/sms", data={**form, "NewField": "x"}, headers=headers
        )
        ok = await client.post(f"{desk.url}/twilio/sms", data=form, headers=headers)
    assert tampered.status_code == 403
    assert ok.status_code == 200


async def test_duplicate_message_sid_is_processed_once(desk: Desk) -> None:
    """Twilio's retry of the same MessageSid is acknowledged but answered only once."""
    sid = "SM" + "c" * 32
    first = await desk.text("once", sid=sid)
    second = await desk.text("once", sid=sid)
    assert (first.status_code, second.status_code) == (200, 200)
    await desk.fake.wait_for_messages(1, to=TEXTER)
    await desk.text("next")
    await desk.fake.wait_for_messages(2, to=TEXTER)
    bodies = [m.body for m in desk.fake.messages_to(TEXTER)]
    assert bodies == ["echo: once", "echo: next"]
    assert await desk.scalar("SELECT count(*) FROM inbox") == 2


async def test_unknown_number_gets_404_and_nothing_processed(desk: Desk) -> None:
    """A text to a number we do not serve is refused and not stored."""
    response = await desk.text("hi", to="+15559999999")
    assert response.status_code == 404
    assert await desk.scalar("SELECT count(*) FROM inbox") == 0


async def test_malformed_webhook_gets_400(desk: Desk) -> None:
    """A signed form without MessageSid/From is a clear 400, not a crash."""
    form = {"Body": "hi", "To": desk.number}
    headers = sign_form(AUTH_TOKEN, f"{desk.url}/twilio/sms", form)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{desk.url}/twilio/sms", data=form, headers=headers)
    assert response.status_code == 400
    assert "MessageSid" in response.text
    assert await desk.scalar("SELECT count(*) FROM inbox") == 0


async def test_every_media_url_is_kept_and_fetched(desk: Desk) -> None:
    """All MediaUrlN of an MMS are stored; images are fetched with auth and kept."""
    await desk.text(
        "photos", media=[(PNG, "image/png"), (JPEG, "image/jpeg"), (b"%PDF-1.4", "image/png")]
    )
    await desk.fake.wait_for_messages(1, to=TEXTER)
    async with desk.db.connect() as conn:
        media = (await conn.execute(select(inbox.c.media))).scalar_one()
    assert len(media) == 3
    assert [m["content_type"] for m in media] == ["image/png", "image/jpeg", "image/png"]
    assert media[0]["decoded"] == "image/png"
    assert media[0]["key"].startswith("att/")
    assert media[1]["decoded"] == "image/jpeg"
    # The third claims to be a PNG but its bytes are a PDF: refused, not stored.
    assert media[2]["error"] == "not_image"
    assert "key" not in media[2]
    # Each kept image is stored with the downscaled copy agents' pages load.
    keys = sorted(r.key for r in await desk.rows("SELECT key FROM media"))
    assert keys == sorted(
        [
            media[0]["key"],
            media[0]["key"] + "/preview",
            media[1]["key"],
            media[1]["key"] + "/preview",
        ]
    )


async def test_outbound_survives_three_500s_and_is_delivered_once(desk: Desk) -> None:
    """Twilio failing three times with 500 delays the reply; it is sent exactly once."""
    desk.fake.fail_next(TEXTER, status=500, times=3)
    await desk.text("retry me")
    sent = await desk.fake.wait_for_messages(1, to=TEXTER)
    assert sent[0].body == "echo: retry me"
    statuses = [a.status for a in desk.fake.attempts if a.to == TEXTER]
    assert statuses == [500, 500, 500, 201]
    assert await desk.scalar("SELECT attempts FROM outbox") == 4


async def test_timeout_is_retried(desk: Desk) -> None:
    """A send that times out is tried again."""
    desk.fake.timeout_next(TEXTER, times=1, seconds=5)
    await desk.text("slow")
    sent = await desk.fake.wait_for_messages(1, to=TEXTER, timeout=15)
    assert sent[0].body == "echo: slow"


async def test_invalid_number_21211_is_not_retried(desk: Desk) -> None:
    """A 400 with code 21211 fails the message at once, with the code kept."""
    desk.fake.fail_next(TEXTER, status=400, code=21211, times=5)
    await desk.text("hi")

    async def failed() -> bool:
        return bool(await desk.scalar("SELECT status FROM outbox") == "failed")

    await desk.eventually(failed, what="outbox failed")
    row = (await desk.rows("SELECT attempts, error_code, error_message FROM outbox"))[0]
    assert row.attempts == 1
    assert row.error_code == 21211
    assert "valid phone number" in row.error_message
    assert len([a for a in desk.fake.attempts if a.to == TEXTER]) == 1


async def test_opted_out_21610_marks_the_number(desk: Desk) -> None:
    """Twilio's 21610 records the texter as carrier-opted-out, without retrying."""
    desk.fake.opt_out(TEXTER)
    await desk.text("hello?")

    async def opted() -> bool:
        return bool(await desk.scalar("SELECT count(*) FROM carrier_optouts WHERE active"))

    await desk.eventually(opted, what="carrier opt-out recorded")
    row = (await desk.rows("SELECT status, error_code, attempts FROM outbox"))[0]
    assert (row.status, row.error_code, row.attempts) == ("failed", 21610, 1)


async def test_status_never_moves_backwards(desk: Desk) -> None:
    """A late 'sent' after 'delivered' is recorded as an event but ignored."""
    await desk.text("hi")
    sent = (await desk.fake.wait_for_messages(1, to=TEXTER))[0]

    async def delivered() -> bool:
        status = await desk.scalar("SELECT status FROM outbox WHERE twilio_sid = :s", s=sent.sid)
        return bool(status == "delivered")

    await desk.eventually(delivered, what="delivered")
    late = {
        "MessageSid": sent.sid,
        "MessageStatus": "sent",
        "AccountSid": desk.settings.account_sid,
    }
    for _ in range(2):  # a duplicate too
        response = await desk.fake.post_signed(f"{desk.url}/twilio/status", late)
        assert response.status_code == 204
    assert await desk.scalar("SELECT status FROM outbox") == "delivered"
    events = await desk.scalar(
        "SELECT count(*) FROM message_events WHERE twilio_sid = :s", s=sent.sid
    )
    assert events == 4  # sent and delivered from the stand-in, then the two late ones


async def test_status_callback_needs_a_valid_signature(desk: Desk) -> None:
    """A forged status callback cannot mark a message delivered."""
    form = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "delivered"}
    headers = sign_form("wrong", f"{desk.url}/twilio/status", form)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{desk.url}/twilio/status", data=form, headers=headers)
    assert response.status_code == 403
    assert await desk.scalar("SELECT count(*) FROM message_events") == 0


async def test_delivery_failure_code_is_kept(desk: Desk) -> None:
    """An undelivered callback with 30003 leaves the code and its meaning on the message."""
    desk.fake.fail_delivery(TEXTER, 30003)
    await desk.text("hi")

    async def undelivered() -> bool:
        return bool(await desk.scalar("SELECT status FROM outbox") == "undelivered")

    await desk.eventually(undelivered, what="undelivered")
    row = (await desk.rows("SELECT error_code, error_message FROM outbox"))[0]
    assert row.error_code == 30003
    assert "unreachable" in row.error_message


async def test_replies_to_one_texter_leave_in_order(desk: Desk) -> None:
    """Several replies to one texter are sent in the order they were written."""
    desk.fake.fail_next(TEXTER, status=500, times=1)
    await desk.text("burst x3")
    sent = await desk.fake.wait_for_messages(3, to=TEXTER)
    assert [m.body for m in sent] == [
        "echo 1: burst x3",
        "echo 2: burst x3",
        "echo 3: burst x3",
    ]


async def test_texts_from_one_texter_are_processed_in_arrival_order(desk: Desk) -> None:
    """Ten quick texts are answered in the order they were sent, none lost."""
    for i in range(10):
        await desk.text(f"m{i}")
    sent = await desk.fake.wait_for_messages(10, to=TEXTER)
    assert [m.body for m in sent] == [f"echo: m{i}" for i in range(10)]


async def test_health_readiness_and_metrics(desk: Desk) -> None:
    """Operators can probe the process and scrape Prometheus metrics."""
    await desk.text("hi")
    await desk.fake.wait_for_messages(1, to=TEXTER)
    async with httpx.AsyncClient(base_url=desk.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["database"] == "ok"
    metrics = await desk.metrics()
    assert 'textdesk_inbound_total{result="stored"}' in metrics
    assert "textdesk_outbound_total" in metrics
    assert "textdesk_dispatcher_lag_seconds" in metrics


async def _lost_attempt(desk: Desk, body: str, *, reached_twilio: bool) -> int:
    """An outbox row as a process leaves it when killed mid-send: claimed, lease lapsed."""
    if reached_twilio:
        async with httpx.AsyncClient() as client:
            gateway = TwilioRestGateway(
                client, api_url=desk.fake.base_url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
            )
            result = await gateway.send(
                to=TEXTER, from_=desk.number, body=body, media_urls=[], status_callback=None
            )
        assert result.sid
    async with desk.db.begin() as conn:
        now = datetime.now(UTC)
        [outbox_id] = await outbox_store.enqueue(
            conn, [outbox_store.NewMessage(TEXTER, desk.number, body)], now
        )
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(status="claimed", attempts=1, claimed_until=now - timedelta(seconds=1))
        )
    return outbox_id


async def _settled(desk: Desk, outbox_id: int) -> Any:
    async def sent() -> Any:
        rows = await desk.rows("SELECT status, twilio_sid FROM outbox WHERE id = :i", i=outbox_id)
        return rows[0] if rows[0].twilio_sid else None

    return await desk.eventually(sent, within=15, what="the lost attempt to settle")


async def test_a_send_lost_in_a_crash_is_not_sent_twice(desk: Desk) -> None:
    """Twilio took the text but the process died before noting it: it is not resent."""
    outbox_id = await _lost_attempt(desk, "sent just before the crash", reached_twilio=True)
    row = await _settled(desk, outbox_id)
    sent = desk.fake.messages_to(TEXTER)
    assert [m.body for m in sent] == ["sent just before the crash"]
    assert row.twilio_sid == sent[0].sid


async def test_a_send_that_never_left_is_sent_once_after_a_crash(desk: Desk) -> None:
    """The process died before calling Twilio: the text goes out, once."""
    outbox_id = await _lost_attempt(desk, "never left", reached_twilio=False)
    row = await _settled(desk, outbox_id)
    sent = desk.fake.messages_to(TEXTER)
    assert [m.body for m in sent] == ["never left"]
    assert row.twilio_sid == sent[0].sid


async def test_a_timed_out_send_that_twilio_took_is_not_resent(desk: Desk) -> None:
    """A read timeout after Twilio accepted: the retry finds the message instead of resending."""
    desk.fake.hold_answer_next(TEXTER, seconds=3)
    await desk.text("slow answer")
    sent = await desk.fake.wait_for_messages(1, to=TEXTER, timeout=15)

    async def settled() -> Any:
        return await desk.scalar("SELECT twilio_sid FROM outbox WHERE twilio_sid IS NOT NULL")

    assert await desk.eventually(settled, within=15) == sent[0].sid
    assert [m.body for m in desk.fake.messages_to(TEXTER)] == ["echo: slow answer"]


async def test_a_status_callback_that_overtakes_the_send_record_is_kept(desk: Desk) -> None:
    """Twilio calls back 'delivered' before the dispatcher has noted the sid: it still counts."""
    async with desk.db.begin() as conn:
        now = datetime.now(UTC)
        [outbox_id] = await outbox_store.enqueue(
            conn, [outbox_store.NewMessage(TEXTER, desk.number, "fast")], now
        )
        # Claimed by a dispatcher that is still waiting on the rest of its batch.
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(status="claimed", attempts=1, claimed_until=now + timedelta(minutes=5))
        )
    sid = "SM" + "e" * 32
    callback = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    headers = sign_form(AUTH_TOKEN, f"{desk.url}/twilio/status", callback)
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{desk.url}/twilio/status", data=callback, headers=headers)
    assert answer.status_code == 204
    async with desk.db.begin() as conn:
        now = datetime.now(UTC)
        await outbox_store.mark_accepted(conn, [(outbox_id, sid, "queued", now)], now)
    rows = await desk.rows("SELECT status, twilio_sid FROM outbox WHERE id = :i", i=outbox_id)
    assert (rows[0].status, rows[0].twilio_sid) == ("delivered", sid)


async def test_webhook_paths_answer_other_methods_405_and_failures_500(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short path for Twilio's POSTs keeps the answers of the ordinary one."""
    async with httpx.AsyncClient(timeout=10) as client:
        for path in ("/twilio/sms", "/twilio/status"):
            assert (await client.get(desk.url + path)).status_code == 405

    async def broken(**kwargs: Any) -> Any:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(routes, "accept_inbound", broken)
    answer = await desk.text("hello?")
    assert (answer.status_code, answer.text) == (500, "Internal Server Error")
