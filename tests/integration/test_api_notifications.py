"""The notifications REST API: sending, bulk pacing, send-time opt-out, history, settings."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import NUMBER, TEXTER, Desk
from tests.integration.notify_helpers import Handset, open_record, settle
from textdesk.adapters.db import subscriptions
from textdesk.adapters.db.tables import users
from textdesk.clock import SystemClock
from textdesk.services.api_tokens import create_token
from textdesk.services.processing import Converser
from textdesk.services.users import add_user


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
    token = await create_token(db=desk.db, clock=desk.container.clock, name="tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
async def alice(desk: Desk) -> int:
    return await add_user(db=desk.db, clock=SystemClock(), name="Alice", phone=TEXTER)


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


@pytest.mark.parametrize("desk_extra_settings", [{"TEXTDESK_SEND_RATE": 300}])
async def test_bulk_send_to_1000_with_10_unsubscribed_sends_990_paced(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Exactly the 990 subscribers get one text each, spread at the configured rate."""
    ids = await add_users(desk, 1000, subscribed=990)
    started = time.monotonic()
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
    received = await desk.fake.wait_for_messages(990, timeout=15)
    await settle(desk)
    assert len(desk.fake.messages) == 990
    assert len({m.to for m in received}) == 990
    assert {m.body for m in received} == {"Planned maintenance Sat 9-11."}
    spread = max(m.created_at for m in received) - min(m.created_at for m in received)
    # 990 sends at 300/s from one number take at least 989/300 s: paced, not burst.
    assert spread.total_seconds() >= 989 / 300 - 0.1
    assert time.monotonic() - started < 10


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
