"""A conversation survives the server process dying in the middle of a topic."""

from __future__ import annotations

from tests.e2e.conftest import ServerProcess
from textdesk.adapters.twilio.sandbox import FakeTwilio

TEXTER = "+15551230007"
DESK = "+15550100100"


async def _say(server: ServerProcess, fake: FakeTwilio, body: str, wait: float = 15) -> str:
    """Text the desk and return the bot's next reply to this texter."""
    before = len(fake.messages_to(TEXTER))
    response = await fake.send_inbound(
        webhook_url=f"{server.url}/twilio/sms", from_=TEXTER, to=DESK, body=body
    )
    assert response.status_code == 200
    replies = await fake.wait_for_messages(before + 1, to=TEXTER, timeout=wait)
    return replies[-1].body


async def test_a_killed_server_resumes_the_pending_question(
    server: ServerProcess, fake_twilio: FakeTwilio
) -> None:
    server.start()
    assert "1. Report an issue" in await _say(server, fake_twilio, "hi")
    assert "what's the problem?" in await _say(server, fake_twilio, "1")

    server.kill()  # SIGKILL: nothing is flushed on the way down
    server.start()

    # The answer lands on the question asked before the crash, not on the greeting.  The
    # kill may catch the last reply's send unrecorded: its lease (9 s here) must lapse
    # and Twilio be asked before this texter's next reply may leave.
    reply = await _say(server, fake_twilio, "The scanner on floor 3 is offline", wait=40)
    assert "Which fits best?" in reply
    assert "1. Printer problem" in reply
    reply = await _say(server, fake_twilio, "something else")
    assert "Send a photo of the problem, or reply SKIP." in reply
    reply = await _say(server, fake_twilio, "skip")
    assert '"The scanner on floor 3 is offline"' in reply

    bodies = [m.body for m in fake_twilio.messages_to(TEXTER)]
    assert len(bodies) == len(set(bodies)) == 5, "a reply was lost or sent twice"
