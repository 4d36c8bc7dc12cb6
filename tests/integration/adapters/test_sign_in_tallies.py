"""Sign-in throttling over real HTTP: counted before the check, shared, proxy-proof.

Each test runs on SQLite and PostgreSQL; those about counting also with the tallies
in Redis (reading forwarded headers does not depend on where they are kept).  The
servers share one fixed clock, so a test moves time instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.integration.conftest import desk_settings
from tests.integration.workspace_helpers import PASSWORD, csrf_in, new_agent
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.local_server import bind_free_port, serve_app
from textdesk.adapters.twilio.sandbox import FakeTwilio
from textdesk.testing.clock import FixedClock
from textdesk.web.app import create_app

DANA = "dana@example.com"
_ALERT = re.compile(r'role="alert">([^<]*)<')


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def tallies_in(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings that keep the tallies in the database, or in (a flushed) Redis."""
    if request.param == "database":
        return {}
    url: str = request.getfixturevalue("redis_url")
    with contextlib.closing(Redis.from_url(url)) as redis:
        redis.flushdb()
    return {"TEXTDESK_REDIS_URL": url}


@dataclass
class Door:
    """The sign-in form of one or more textdesk processes sharing a database."""

    urls: list[str]
    clock: FixedClock

    async def ready(self, via: int = 0) -> tuple[httpx.AsyncClient, str]:
        """A browser that has loaded the form: its client and the form's CSRF token."""
        # No keep-alive: the server drops idle connections after 5 s, and a POST sent on
        # one it is dropping fails; a busy machine takes longer than that to ready 40.
        http = httpx.AsyncClient(
            base_url=self.urls[via],
            follow_redirects=False,
            timeout=60,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        return http, csrf_in((await http.get("/workspace/login")).text)

    async def post(
        self,
        http: httpx.AsyncClient,
        token: str,
        email: str,
        password: str,
        forwarded_for: str | None = None,
    ) -> httpx.Response:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        data = {"email": email, "password": password, "csrf_token": token}
        return await http.post("/workspace/login", data=data, headers=headers)

    async def sign_in(
        self, email: str, password: str = PASSWORD, *, forwarded_for: str | None = None
    ) -> httpx.Response:
        """One attempt from a new browser."""
        http, token = await self.ready()
        try:
            return await self.post(http, token, email, password, forwarded_for)
        finally:
            await http.aclose()


@contextlib.contextmanager
def _serving(
    database_url: str, fake: FakeTwilio, clock: FixedClock, count: int, extra: dict[str, Any]
) -> Iterator[list[str]]:
    with contextlib.ExitStack() as stack:
        urls = []
        for _ in range(count):
            sock = bind_free_port()
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            settings = desk_settings(url, database_url, fake, **extra)
            app = create_app(settings, background=False, clock=clock)
            stack.enter_context(serve_app(app, sock=sock, lifespan="on"))
            urls.append(url)
        yield urls


@contextlib.asynccontextmanager
async def _door(
    database_url: str, fake: FakeTwilio, count: int = 1, **extra: Any
) -> AsyncIterator[Door]:
    db = create_engine(database_url)
    try:
        await new_agent(db, "Dana Agent", available=False)
        clock = FixedClock()
        with _serving(database_url, fake, clock, count, extra) as urls:
            yield Door(urls, clock)
    finally:
        await db.dispose()


def _retry_after(answer: httpx.Response) -> int:
    assert answer.status_code == 429, answer.text
    assert "Too many failed sign-ins" in answer.text
    return int(answer.headers["retry-after"])


@pytest.mark.parametrize("processes", [1, 2])
async def test_forty_wrong_passwords_at_once_reach_the_check_five_times(
    database_url: str, fake_twilio: FakeTwilio, tallies_in: dict[str, Any], processes: int
) -> None:
    """40 concurrent guesses for one email from one address: 5 checked, 35 refused (429)."""
    async with _door(database_url, fake_twilio, processes, **tallies_in) as door:
        browsers = [await door.ready(via=n % processes) for n in range(40)]
        try:
            answers = await asyncio.gather(
                *(door.post(http, token, DANA, "wrong-guess") for http, token in browsers)
            )
        finally:
            for http, _ in browsers:
                await http.aclose()
        assert Counter(a.status_code for a in answers) == {401: 5, 429: 35}
        assert all(_retry_after(a) > 60 for a in answers if a.status_code == 429)
        # The address is held back for this email even with the right password.
        assert _retry_after(await door.sign_in(DANA)) > 60


async def test_rotating_x_forwarded_for_from_an_untrusted_peer_changes_nothing(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    """A client cannot pass for other addresses: its five failures stop it, whatever it sends."""
    async with _door(database_url, fake_twilio) as door:
        for n in range(5):
            answer = await door.sign_in(DANA, "wrong-guess", forwarded_for=f"203.0.113.{n}")
            assert answer.status_code == 401
        door.clock.advance(120)  # well past the email's delay: only the pair's window is left
        answer = await door.sign_in(DANA, forwarded_for="198.51.100.7")
        assert _retry_after(answer) == 15 * 60 - 120


async def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    """Through trusted proxies, the address the outermost one saw is the client's."""
    proxies = {"TEXTDESK_TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8"}
    async with _door(database_url, fake_twilio, **proxies) as door:
        # The guesser writes a fresh address each time; the edge proxy appends what it
        # saw (203.0.113.9), an inner proxy of ours its own peer's.
        for n in range(5):
            chain = f"192.0.2.{n}, 203.0.113.9, 10.1.2.3"
            assert (await door.sign_in(DANA, "wrong", forwarded_for=chain)).status_code == 401
        door.clock.advance(120)
        stopped = await door.sign_in(DANA, forwarded_for="203.0.113.9, 10.1.2.3")
        assert _retry_after(stopped) == 15 * 60 - 120
        signed_in = await door.sign_in(DANA, forwarded_for="198.51.100.7, 10.1.2.3")
        assert signed_in.status_code == 303


async def test_the_email_delay_grows_but_the_owner_still_signs_in(
    database_url: str, fake_twilio: FakeTwilio, tallies_in: dict[str, Any]
) -> None:
    """Guesses from many addresses slow the email down (1 s doubling to 60 s), never lock it."""
    proxies = {"TEXTDESK_TRUSTED_PROXIES": "127.0.0.1"}
    async with _door(database_url, fake_twilio, **tallies_in, **proxies) as door:
        address = iter(f"203.0.113.{n}" for n in range(100))
        for _ in range(5):
            answer = await door.sign_in(DANA, "wrong", forwarded_for=next(address))
            assert answer.status_code == 401
        waits = []
        for _ in range(8):
            waits.append(_retry_after(await door.sign_in(DANA, forwarded_for=next(address))))
            door.clock.advance(waits[-1])
            answer = await door.sign_in(DANA, "wrong", forwarded_for=next(address))
            assert answer.status_code == 401
        assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
        # The owner, at an address of her own, waits the minute and is in.
        wait = _retry_after(await door.sign_in(DANA, forwarded_for="198.51.100.7"))
        assert wait == 60
        door.clock.advance(wait)
        http, token = await door.ready()
        try:
            answer = await door.post(http, token, DANA, PASSWORD, "198.51.100.7")
            assert answer.status_code == 303
            assert (await http.get("/workspace")).status_code == 200
        finally:
            await http.aclose()
        # Signing in forgave the email: the next attempt from anywhere goes ahead.
        assert (await door.sign_in(DANA, "wrong", forwarded_for="192.0.2.1")).status_code == 401


async def test_a_second_address_waits_only_the_email_delay(
    database_url: str, fake_twilio: FakeTwilio, tallies_in: dict[str, Any]
) -> None:
    """Five failures from one address stop that address for 15 minutes, another for 1 s."""
    proxies = {"TEXTDESK_TRUSTED_PROXIES": "127.0.0.1"}
    async with _door(database_url, fake_twilio, **tallies_in, **proxies) as door:
        for _ in range(5):
            answer = await door.sign_in(DANA, "wrong", forwarded_for="203.0.113.9")
            assert answer.status_code == 401
        assert _retry_after(await door.sign_in(DANA, forwarded_for="203.0.113.9")) == 15 * 60
        assert _retry_after(await door.sign_in(DANA, forwarded_for="198.51.100.7")) == 1
        door.clock.advance(1)
        answer = await door.sign_in(DANA, forwarded_for="198.51.100.7")
        assert answer.status_code == 303
        assert _retry_after(await door.sign_in(DANA, forwarded_for="203.0.113.9")) == 15 * 60 - 1


async def test_a_refusal_does_not_tell_whether_the_email_exists(
    database_url: str, fake_twilio: FakeTwilio
) -> None:
    """An unknown email is counted and refused exactly like an agent's."""
    async with _door(database_url, fake_twilio) as door:
        refusals = []
        for email in (DANA, "nobody@example.com"):
            for _ in range(5):
                assert (await door.sign_in(email, "wrong")).status_code == 401
            refused = await door.sign_in(email, "wrong")
            alert = _ALERT.search(refused.text)
            assert alert is not None
            refusals.append((_retry_after(refused), alert.group(1)))
        assert refusals[0] == refusals[1]


@pytest.mark.parametrize("email", ["dana\x00@example.com", "d" * 5000 + "@example.com"])
async def test_a_hostile_email_is_a_wrong_email(
    database_url: str, fake_twilio: FakeTwilio, email: str
) -> None:
    """A NUL or a very long email gets the usual 401 and is counted, never a 500."""
    async with _door(database_url, fake_twilio) as door:
        assert (await door.sign_in(email, "wrong")).status_code == 401
