"""`textdesk serve` believes X-Forwarded-For only from TEXTDESK_TRUSTED_PROXIES."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import ServerProcess
from tests.integration.workspace_helpers import PASSWORD, csrf_in, new_agent
from textdesk.adapters.db.database import create_engine


async def _sign_in(url: str, email: str, password: str, forwarded_for: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        token = csrf_in((await http.get("/workspace/login")).text)
        data = {"email": email, "password": password, "csrf_token": token}
        headers = {"X-Forwarded-For": forwarded_for}
        return await http.post("/workspace/login", data=data, headers=headers)


async def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(
    server: ServerProcess,
) -> None:
    """From loopback, untrusted, a new X-Forwarded-For per guess still gets five guesses."""
    db = create_engine(server.env["TEXTDESK_DATABASE_URL"])
    try:
        await new_agent(db, "Dana Agent", available=False)
        await new_agent(db, "Sam Admin", role="admin", available=False)
    finally:
        await db.dispose()
    server.start()
    for n in range(5):
        answer = await _sign_in(server.url, "dana@example.com", "wrong", f"203.0.113.{n}")
        assert answer.status_code == 401
    # Stopped for the window (the email's own delay would be a second).
    answer = await _sign_in(server.url, "dana@example.com", PASSWORD, "198.51.100.7")
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 60

    server.stop()
    server.env["TEXTDESK_TRUSTED_PROXIES"] = "127.0.0.1"
    server.start()
    for _ in range(5):
        answer = await _sign_in(server.url, "sam@example.com", "wrong", "203.0.113.9")
        assert answer.status_code == 401
    guesser = await _sign_in(server.url, "sam@example.com", PASSWORD, "203.0.113.9")
    assert int(guesser.headers["retry-after"]) > 60
    # Another client behind the proxy waits only the email's delay (one second), not
    # the guesser's fifteen minutes: on a slow machine that second may already be over.
    owner = await _sign_in(server.url, "sam@example.com", PASSWORD, "198.51.100.7")
    if owner.status_code == 429:
        assert int(owner.headers["retry-after"]) <= 1
    else:
        assert owner.status_code == 303  # signed in
