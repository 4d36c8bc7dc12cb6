"""The notifications REST API: sending, bulk pacing, send-time opt-out, history, settings."""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import NUMBER, TEXTER, Desk
from tests.integration.notify_helpers import Handset, api_client, open_record, settle
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import subscriptions
from textdesk.adapters.db.subscriptions import SqlSubscriptions
from textdesk.adapters.db.tables import users
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.notifications.subscriptions import set_subscription


@pytest.fixture
def converser() -> Converser | None:
    """The real virtual agent: it answers STOP during a bulk send."""
    return None


@pytest.fixture
def desk_extra_settings(tmp_path: Path) -> dict[str, Any]:
    """An operator templates folder with one extra template."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "maintenance.txt").write_text(
        "Hi {{ user.name }}: maintenance {{ params.when }}. ${number}\n"
    )
    return {"TEXTDESK_NOTIFICATION_TEMPLATES_DIR": str(folder)}


@pytest.fixture
async def api(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(desk) as client:
        yield client


@pytest.fixture
async def alice(desk: Desk) -> int:
    return await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice", phone=TEXTER)


async def add_users(desk: Desk, count: int, *, subscribed: int) -> list[int]:
    """``count`` accounts (the first ``subscribed`` opted in), in two statements."""
    now = SystemClock().now()
    rows = [
        {"name": f"User {i}", "phone": f"+1555300{i:04d}", "created_at": now} for i in range(count)
    ]
    async with desk.db.begin() as conn:
        result = await conn.execute(
            users.insert().returning(users.c.id, sort_by_parameter_order=True), rows
        )
        ids = [int(i) for i in result.scalars()]
        await subscriptions.set_enabled(conn, ids[:subscribed], True, source="api", now=now)
    return ids


async def test_the_api_needs_a_token(desk: Desk) -> None:
    """No token: 401, nothing queued."""
    async with httpx.AsyncClient(base_url=f"{desk.url}/api/v1") as client:
        answer = await client.post("/notifications", json={"user_id": 1, "body": "hi"})
    assert answer.status_code == 401


async def test_the_audit_trail_says_when_and_how_each_change_was_made(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """Changes by SMS, the API and the workspace are each kept, newest first, with a time."""
    await Handset(desk, TEXTER).say("START")
    await api.put(f"/users/{alice}/subscription", json={"enabled": False})
    async with desk.db.begin() as conn:
        await set_subscription(
            SqlSubscriptions(conn),
            user_id=alice,
            enabled=True,
            source="workspace",
            now=SystemClock().now(),
        )
    view = (await api.get(f"/users/{alice}/subscription")).json()
    assert view["enabled"] is True
    changes = view["changes"]
    assert [(c["enabled"], c["source"]) for c in changes] == [
        (True, "workspace"),
        (False, "api"),
        (True, "sms"),
    ]
    moments = [datetime.fromisoformat(c["at"]) for c in changes]
    assert moments == sorted(moments, reverse=True)


async def test_subscription_changes_through_the_api_are_audited(
    api: httpx.AsyncClient, alice: int
) -> None:
    """PUT turns notifications on and off; GET shows the setting and every change."""
    assert (await api.get(f"/users/{alice}/subscription")).json()["enabled"] is False
    on = await api.put(f"/users/{alice}/subscription", json={"enabled": True})
    assert on.status_code == 200
    assert on.json()["enabled"] is True
    await api.put(f"/users/{alice}/subscription", json={"enabled": True})  # no change
    off = (await api.put(f"/users/{alice}/subscription", json={"enabled": False})).json()
    assert [(c["enabled"], c["source"]) for c in off["changes"]] == [
        (False, "api"),
        (True, "api"),
    ]
    assert (await api.get("/users/999/subscription")).status_code == 404


async def test_send_to_a_user_and_to_a_records_caller_with_history(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """A named template and an inline body are sent; the history shows each outcome."""
    await api.put(f"/users/{alice}/subscription", json={"enabled": True})
    record = await open_record(desk, caller_id=None, phone=TEXTER)  # the caller, by phone
    sent = await api.post(
        "/notifications",
        json={"record_number": record.number, "template": "maintenance", "params": {"when": "Sat"}},
    )
    assert sent.status_code == 202
    assert sent.json()["queued"] == 1
    inline = await api.post(
        "/notifications", json={"user_id": alice, "body": "Your laptop is ready."}
    )
    assert inline.json()["queued"] == 1
    await settle(desk)
    received = await desk.fake.wait_for_messages(2, to=TEXTER)
    assert [m.body for m in received] == [
        f"Hi Alice: maintenance Sat. {record.number}",
        "Your laptop is ready.",
    ]
    assert {m.from_ for m in received} == {NUMBER}

    await api.put(f"/users/{alice}/subscription", json={"enabled": False})
    skipped = (await api.post("/notifications", json={"user_id": alice, "body": "x"})).json()
    assert skipped["queued"] == 0
    assert skipped["skipped"]["not_subscribed"] == 1

    async def delivered() -> list[dict[str, Any]] | None:
        history = (await api.get(f"/users/{alice}/notifications")).json()
        return history if history[1]["status"] == "delivered" else None

    history = await desk.eventually(delivered, what="delivery callbacks")
    assert [(h["status"], h["body"]) for h in history] == [
        ("skipped", "x"),
        ("delivered", "Your laptop is ready."),
        ("delivered", f"Hi Alice: maintenance Sat. {record.number}"),
    ]
    assert history[0]["explanation"] == "notifications are off for this account"
    assert history[2]["record_number"] == record.number


# The report's template: 113 characters that ran 64 million loop iterations on the
# event loop, holding every request (/healthz too) for seconds.
NESTED_LOOPS = (
    "{% for a in range(400) %}{% for b in range(400) %}{% for c in range(400) %}xy"
    "{% endfor %}{% endfor %}{% endfor %}"
)


async def test_a_template_that_loops_too_much_is_refused_while_the_server_answers(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """A 422 naming the body, /healthz answering beside it and after, nothing queued."""
    async with httpx.AsyncClient(base_url=desk.url) as plain:
        sent, health = await asyncio.gather(
            api.post("/notifications", json={"user_id": alice, "body": NESTED_LOOPS}),
            plain.get("/healthz"),
        )
        assert sent.status_code == 422, sent.text
        [error] = sent.json()["detail"]
        assert error["loc"] == ["body", "body"]
        assert "loop iterations" in error["msg"]
        assert health.status_code == 200
        assert (await plain.get("/healthz")).status_code == 200
    assert await desk.scalar("SELECT count(*) FROM outbox") == 0
    assert await desk.scalar("SELECT count(*) FROM notifications") == 0


async def test_a_filter_given_the_wrong_type_is_not_a_500(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """``{{ 1|wordwrap(1) }}`` fails inside Jinja2; it renders to nothing, and is said so."""
    sent = await api.post("/notifications", json={"user_id": alice, "body": "{{ 1|wordwrap(1) }}"})
    assert sent.status_code < 500, sent.text
    assert await desk.scalar("SELECT count(*) FROM outbox") == 0


async def test_bad_requests_are_explained(api: httpx.AsyncClient, alice: int) -> None:
    """Unknown template or record, a broken body, or an ambiguous request: 422 / 404."""
    cases: list[dict[str, Any]] = [
        {"user_id": alice, "template": "no_such_template"},
        {"record_number": "INC0099999", "body": "hi"},
        {"user_id": alice, "body": "{{ unclosed"},
        {"user_id": alice, "body": "hi", "template": "maintenance"},
        {"body": "hi"},
    ]
    for case in cases:
        answer = await api.post("/notifications", json=case)
        assert answer.status_code == 422, (case, answer.text)
    unknown = (await api.post("/notifications", json={"user_ids": [999], "body": "hi"})).json()
    assert unknown["skipped"]["unknown"] == 1
    assert (await api.get("/users/999/notifications")).status_code == 404


# 990 texts from one number at 100/s: about ten seconds, and fast enough that an
# unpaced dispatcher would show as a burst.
BULK_RATE = 100
# The pacer's token bucket lets one text go ahead of the steady pace.
BURST = 1
# Arrival times are taken by the stand-in, one HTTP hop after the pacer let each text
# go; scheduling jitter may carry a few texts into the next second. On a CI machine
# at load 15 one second held 107 (jitter of about 60 ms), so 100 ms is allowed: an
# unpaced dispatcher sends hundreds in a second, far past it.
TRANSIT_ALLOWANCE = BULK_RATE // 10


@pytest.mark.parametrize(
    "desk_extra_settings",
    # The product's default send timeout: this test is about pacing, not timeouts.
    [{"TEXTDESK_SEND_RATE": BULK_RATE, "TEXTDESK_SEND_TIMEOUT": 10.0}],
)
async def test_bulk_send_to_1000_with_10_unsubscribed_sends_990_paced(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Exactly the 990 subscribers get one text each, never more per second than the rate."""
    ids = await add_users(desk, 1000, subscribed=990)
    phones = {r.id: r.phone for r in await desk.rows("SELECT id, phone FROM users")}
    subscribed = {phones[i] for i in ids[:990]}
    answer = await api.post(
        "/notifications",
        json={
            "user_ids": ids,
            "body": "Planned maintenance {{ params.when }}.",
            "params": {"when": "Sat 9-11"},
        },
    )
    assert answer.status_code == 202
    assert answer.json()["queued"] == 990
    assert answer.json()["skipped"]["not_subscribed"] == 10
    # A deadline for a hung run, not a speed requirement.
    await desk.fake.wait_for_messages(990, timeout=90)
    await settle(desk)
    received = desk.fake.messages
    assert len(received) == 990  # none twice
    assert {m.to for m in received} == subscribed  # none to the 10 unsubscribed
    assert {m.body for m in received} == {"Planned maintenance Sat 9-11."}

    arrivals = sorted(m.created_at.timestamp() for m in received)
    busiest = max(bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals))
    assert busiest <= BULK_RATE + BURST + TRANSIT_ALLOWANCE, busiest
    # Paced from the start, not held back and then let go.
    assert arrivals[-1] - arrivals[0] >= (990 - BURST) / BULK_RATE - 0.1
    # The history's send times are each text's own, not one per batch.
    sent = [r.sent_at for r in await desk.rows("SELECT sent_at FROM outbox")]
    assert len(set(sent)) > 900


@pytest.mark.parametrize("desk_extra_settings", [{"TEXTDESK_SEND_RATE": 10}])
async def test_stop_during_a_bulk_send_cancels_the_rest_for_that_texter(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """Queued notifications to a texter who sends STOP meanwhile are canceled, not sent."""
    others = await add_users(desk, 24, subscribed=24)
    await api.put(f"/users/{alice}/subscription", json={"enabled": True})
    # Alice is last in line: at 10/s her texts are ~2 s away when her STOP arrives.
    first = await api.post("/notifications", json={"user_ids": [*others, alice], "body": "One"})
    second = await api.post("/notifications", json={"user_id": alice, "body": "Two"})
    assert (first.json()["queued"], second.json()["queued"]) == (25, 1)
    await Handset(desk, TEXTER).say("STOP")

    await settle(desk)
    canceled = await desk.rows(
        "SELECT body, error_message FROM outbox WHERE to_phone = :p AND kind = 'notification'",
        p=TEXTER,
    )
    assert [r.body for r in canceled] == ["One", "Two"]
    assert all("opted out" in r.error_message for r in canceled)
    assert await desk.scalar("SELECT count(*) FROM outbox WHERE status = 'canceled'") == 2
    assert not [m for m in desk.fake.messages_to(TEXTER) if m.body in ("One", "Two")]
    assert len([m for m in desk.fake.messages if m.body == "One"]) == 24
    history = (await api.get(f"/users/{alice}/notifications")).json()
    assert [h["status"] for h in history] == ["canceled", "canceled"]
    assert "opted out" in history[0]["explanation"]


async def test_an_event_template_sent_by_hand_is_filled_from_the_record(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """No half-filled text: the state comes from params, else from the record itself."""
    await api.put(f"/users/{alice}/subscription", json={"enabled": True})
    record = await open_record(desk, caller_id=alice, phone=TEXTER)
    await settle(desk)
    plain = {"record_number": record.number, "template": "state_changed"}
    assert (await api.post("/notifications", json=plain)).status_code == 202
    given = plain | {"params": {"to": "Resolved"}}
    assert (await api.post("/notifications", json=given)).status_code == 202
    await settle(desk)
    bodies = [m.body for m in await desk.fake.wait_for_messages(2, to=TEXTER)]
    assert bodies[0].startswith(f"{record.number} is now New: ")
    assert bodies[1].startswith(f"{record.number} is now Resolved: ")
