"""A REST answer is sent only once its transaction has committed."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlalchemy import event

from tests.integration.conftest import TEXTER, Desk
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases


async def test_the_answer_leaves_after_the_commit_not_before(desk: Desk) -> None:
    """At the moment the change commits, the client has not been answered yet."""
    alice = await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice", phone=TEXTER)
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    answered = threading.Event()
    seen_at_commit: list[bool] = []

    def on_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SUBSCRIPTION_CHANGES"):
            conn.info["subscription_changed"] = True

    def on_commit(conn: Any) -> None:
        if not conn.info.pop("subscription_changed", False):
            return  # another transaction (the token's last use, the background loops)
        # Give an answer already on its way every chance to arrive; one that waits
        # for this commit cannot, and the wait ends after a second.
        seen_at_commit.append(answered.wait(timeout=1.0))

    engine = desk.container.db.sync_engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as api:
            changed = await api.put(
                f"{desk.url}/api/v1/users/{alice}/subscription", json={"enabled": True}
            )
            answered.set()
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "before_cursor_execute", on_statement)
    assert changed.status_code == 200
    assert seen_at_commit
    assert not any(seen_at_commit)
