"""Nothing a texter sent is lost when the server dies."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from tests.e2e.conftest import ServerProcess
from textdesk.adapters.twilio.sandbox import FakeTwilio

TEXTER = "+15551230001"


def _inbox(server: ServerProcess) -> list[tuple[str, str, str | None]]:
    path = server.env["TEXTDESK_DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT message_sid, body, processed_at FROM inbox ORDER BY id"))


async def test_message_survives_kill_between_inbox_commit_and_processing(
    server: ServerProcess, fake_twilio: FakeTwilio
) -> None:
    """A text acknowledged just before a SIGKILL is processed after the restart."""
    # Accept, but do not process: the crash window between the two commits, held open.
    server.env["TEXTDESK_INLINE_PROCESSING"] = "0"
    server.start("--no-dispatcher")
    response = await fake_twilio.send_inbound(
        webhook_url=f"{server.url}/twilio/sms", from_=TEXTER, to="+15550100100", body="still there?"
    )
    assert response.status_code == 200
    server.kill()
    rows = _inbox(server)
    assert [(r[1], r[2]) for r in rows] == [("still there?", None)]

    del server.env["TEXTDESK_INLINE_PROCESSING"]
    server.start()
    deadline = time.monotonic() + 15
    while _inbox(server)[0][2] is None:
        assert time.monotonic() < deadline, "the stored text was not processed after restart"
        await asyncio.sleep(0.1)
    assert len(_inbox(server)) == 1
