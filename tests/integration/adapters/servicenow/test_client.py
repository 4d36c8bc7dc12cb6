"""The Table API client against the ServiceNow stand-in: auth, retries, the breaker."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import httpx
import pytest
from prometheus_client import REGISTRY

from textdesk.adapters.servicenow.client import (
    Credentials,
    ServiceNowClient,
    ServiceNowError,
    ServiceNowUnavailable,
)
from textdesk.adapters.servicenow.resilience import Breaker, RetryPolicy
from textdesk.adapters.servicenow.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakeServiceNow,
)

BASIC = Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD)
OAUTH = Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
TABLE = "/api/now/table/incident"


class Waits:
    """The client's sleep: remembers each wait instead of taking it."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def answered(snow: FakeServiceNow, method: str, path: str) -> None:
    """Wait until the stand-in has answered every such request (the client may have
    hung up first): what they did is done then."""
    for _ in range(250):
        if all(r.status is not None for r in snow.requests_to(method, path)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the stand-in never answered {method} {path}")


def counted(outcome: str) -> float:
    value = REGISTRY.get_sample_value("textdesk_servicenow_requests_total", {"outcome": outcome})
    return value or 0.0


def client_for(
    snow: FakeServiceNow,
    credentials: Credentials = BASIC,
    *,
    waits: Waits | None = None,
    breaker: Breaker | None = None,
    clock: Ticks | None = None,
    timeout: float = 5.0,
) -> ServiceNowClient:
    ticks = clock or Ticks()
    return ServiceNowClient(
        snow.base_url,
        credentials,
        retry=RetryPolicy(attempts=3, base=0.25, cap=2.0, budget=4.0),
        breaker=breaker or Breaker(ticks, threshold=5, cool_down=30),
        sleep=waits or Waits(),
        clock=ticks,
        timeout=httpx.Timeout(timeout),
    )


async def test_rows_come_with_values_and_display_values(snow: FakeServiceNow) -> None:
    client = client_for(snow)
    try:
        rows = await client.rows(
            "incident", query="active=true^ORDERBYnumber", fields=("number", "state", "caller_id")
        )
    finally:
        await client.aclose()
    assert rows[0]["number"] == {"display_value": "INC0010001", "value": "INC0010001"}
    assert rows[0]["state"] == {"display_value": "In Progress", "value": "2"}
    assert rows[0]["caller_id"]["display_value"] == "Alice Example"
    assert len(rows) == 3  # the resolved one is not active


async def test_a_create_answered_503_twice_is_made_once_after_growing_waits(
    snow: FakeServiceNow,
) -> None:
    waits = Waits()
    client = client_for(snow, waits=waits)
    snow.fail_next(503, times=2, method="POST", path=TABLE)
    before = counted("server_error")
    try:
        row = await client.create("incident", {"short_description": "Projector is dead"})
    finally:
        await client.aclose()
    assert row["number"]["value"] == "INC0010005"
    assert waits.taken == [0.25, 0.5]
    assert [r.status for r in snow.requests_to("POST", TABLE)] == [503, 503, 201]
    assert len(snow.find("incident", "short_description=Projector is dead")) == 1
    assert counted("server_error") == before + 2


async def test_a_429_waits_as_long_as_retry_after_says(snow: FakeServiceNow) -> None:
    waits = Waits()
    client = client_for(snow, waits=waits)
    snow.fail_next(429, retry_after=2, path=TABLE)
    try:
        assert await client.rows("incident", fields=("number",))
    finally:
        await client.aclose()
    assert waits.taken == [2.0]


async def test_an_instance_that_keeps_failing_is_given_up_on_within_the_budget(
    snow: FakeServiceNow,
) -> None:
    waits = Waits()
    client = client_for(snow, waits=waits)
    snow.fail_next(503, times=10, path=TABLE)
    try:
        with pytest.raises(ServiceNowUnavailable):
            await client.rows("incident")
    finally:
        await client.aclose()
    assert len(snow.requests_to("GET", TABLE)) == 3
    assert sum(waits.taken) <= 4.0


async def test_a_retry_after_past_the_budget_gives_up_at_once(snow: FakeServiceNow) -> None:
    waits = Waits()
    client = client_for(snow, waits=waits)
    snow.fail_next(429, retry_after=60, path=TABLE)
    try:
        with pytest.raises(ServiceNowUnavailable):
            await client.rows("incident")
    finally:
        await client.aclose()
    assert waits.taken == []


async def test_a_refusal_is_not_retried_and_says_what_the_instance_said(
    snow: FakeServiceNow,
) -> None:
    client = client_for(snow, Credentials(DEFAULT_USERNAME, "wrong"))
    try:
        with pytest.raises(ServiceNowError) as refused:
            await client.rows("incident")
    finally:
        await client.aclose()
    assert not isinstance(refused.value, ServiceNowUnavailable)
    assert refused.value.status == 401
    assert refused.value.message == "User Not Authenticated"
    assert len(snow.requests_to("GET", TABLE)) == 1


async def test_an_open_breaker_fails_fast_without_calling_then_lets_one_probe_through(
    snow: FakeServiceNow,
) -> None:
    clock = Ticks()
    client = client_for(snow, breaker=Breaker(clock, threshold=2, cool_down=30), clock=clock)
    snow.fail_next(503, times=2, path=TABLE)
    try:
        with pytest.raises(ServiceNowUnavailable):
            await client.rows("incident")
        calls = len(snow.requests_to("GET", TABLE))
        before = counted("breaker_open")
        with pytest.raises(ServiceNowUnavailable, match="not called"):
            await client.rows("incident")
        assert len(snow.requests_to("GET", TABLE)) == calls
        assert counted("breaker_open") == before + 1
        clock.now += 30
        assert await client.rows("incident", fields=("number",))
    finally:
        await client.aclose()


async def test_a_slow_answer_times_out_and_the_next_try_gets_it(snow: FakeServiceNow) -> None:
    client = client_for(snow, timeout=0.3)
    snow.slow_next(2.0, path=TABLE)
    before = counted("timeout")
    try:
        assert await client.rows("incident", fields=("number",))
    finally:
        await client.aclose()
    assert counted("timeout") == before + 1


async def test_oauth_signs_in_once_and_reuses_its_token(snow: FakeServiceNow) -> None:
    client = client_for(snow, OAUTH)
    try:
        await client.rows("incident", fields=("number",))
        await client.rows("incident", fields=("number",))
    finally:
        await client.aclose()
    assert len(snow.requests_to("POST", "/oauth_token.do")) == 1
    assert {r.status for r in snow.requests_to("GET", TABLE)} == {200}


async def test_an_expired_token_is_refreshed(snow: FakeServiceNow) -> None:
    client = client_for(snow, OAUTH)
    try:
        await client.rows("incident", fields=("number",))
        snow.expire_tokens()
        assert await client.rows("incident", fields=("number",))
    finally:
        await client.aclose()
    # The password grant, then one refresh grant: not a second sign-in.
    assert [r.status for r in snow.requests_to("POST", "/oauth_token.do")] == [200, 200]
    assert [r.status for r in snow.requests_to("GET", TABLE)] == [200, 401, 200]


async def test_a_token_near_its_expiry_is_refreshed_before_the_call() -> None:
    clock = Ticks()
    with FakeServiceNow(refresh_token_lifetime=0).serve() as snow:
        client = client_for(snow, OAUTH, clock=clock)
        try:
            await client.rows("incident", fields=("number",))
            clock.now += 1800
            # The refresh token is refused (its lifetime is over): signed in again.
            assert await client.rows("incident", fields=("number",)) == []
        finally:
            await client.aclose()
        assert [r.status for r in snow.requests_to("POST", "/oauth_token.do")] == [200, 401, 200]
        assert {r.status for r in snow.requests_to("GET", TABLE)} == {200}


def grants(snow: FakeServiceNow) -> list[str]:
    """The grant types asked of /oauth_token.do, in order."""
    return [
        dict(parse_qsl(r.body.decode())).get("grant_type", "")
        for r in snow.requests_to("POST", "/oauth_token.do")
    ]


async def test_a_refresh_grant_that_answers_no_refresh_token_keeps_the_one_it_had(
    snow: FakeServiceNow,
) -> None:
    """ServiceNow's refresh grant "returns only an access token": no sign-in each time."""
    snow.readings.refresh_grant_returns_refresh_token = False
    client = client_for(snow, OAUTH)
    try:
        for _ in range(3):
            assert await client.rows("incident", fields=("number",))
            snow.expire_tokens()
    finally:
        await client.aclose()
    assert grants(snow) == ["password", "refresh_token", "refresh_token"]


async def test_a_short_lived_token_is_used_for_more_than_one_call() -> None:
    clock = Ticks()
    with FakeServiceNow(access_token_lifetime=30).serve() as snow:
        client = client_for(snow, OAUTH, clock=clock)
        try:
            for _ in range(3):
                await client.rows("incident", fields=("number",))
                clock.now += 5
            assert grants(snow) == ["password"]
            clock.now += 20  # 30 s on: past its lifetime, less a tenth
            await client.rows("incident", fields=("number",))
        finally:
            await client.aclose()
        assert grants(snow) == ["password", "refresh_token"]
        assert {r.status for r in snow.requests_to("GET", TABLE)} == {200}


async def test_attachments_are_uploaded_as_raw_bytes(snow: FakeServiceNow) -> None:
    incident = snow.find("incident", "active=true")[0]
    client = client_for(snow)
    try:
        await client.attach(
            "incident",
            incident["sys_id"],
            file_name="photo.jpg",
            content_type="image/jpeg",
            data=b"\xff\xd8jpeg",
        )
        listed = await client.attachments(incident["sys_id"])
    finally:
        await client.aclose()
    [stored] = snow.attachments(incident["sys_id"])
    assert stored.data == b"\xff\xd8jpeg"
    assert stored.metadata["content_type"] == "image/jpeg"
    assert [a["file_name"] for a in listed] == ["photo.jpg"]


async def test_a_create_that_timed_out_is_not_sent_again_blindly(snow: FakeServiceNow) -> None:
    """The instance may have made it: a second POST could make a second incident."""
    waits = Waits()
    client = client_for(snow, waits=waits, timeout=0.3)
    snow.slow_next(1.0, method="POST", path=TABLE)
    try:
        with pytest.raises(ServiceNowUnavailable, match="timed out"):
            await client.create("incident", {"short_description": "Projector is dead"})
    finally:
        await client.aclose()
    assert len(snow.requests_to("POST", TABLE)) == 1
    assert waits.taken == []


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_create_whose_answer_is_lost_after_a_5xx_is_not_made_twice(
    snow: FakeServiceNow, status: int
) -> None:
    """The instance made the incident, then answered an error: another POST would make
    a second one (the record store looks it up by its key before it tries again)."""
    waits = Waits()
    client = client_for(snow, waits=waits)
    snow.fail_next(status, method="POST", path=TABLE, after=True)
    try:
        with pytest.raises(ServiceNowUnavailable, match=str(status)):
            await client.create("incident", {"short_description": "Projector is dead"})
    finally:
        await client.aclose()
    assert [r.status for r in snow.requests_to("POST", TABLE)] == [status]
    assert len(snow.find("incident", "short_description=Projector is dead")) == 1
    assert waits.taken == []


async def test_an_upload_whose_answer_is_lost_is_not_sent_again(snow: FakeServiceNow) -> None:
    incident = snow.find("incident", "active=true")[0]
    client = client_for(snow)
    snow.fail_next(500, method="POST", path="/api/now/attachment/file", after=True)
    try:
        with pytest.raises(ServiceNowUnavailable):
            await client.attach(
                "incident",
                incident["sys_id"],
                file_name="photo.jpg",
                content_type="image/jpeg",
                data=b"\xff\xd8jpeg",
            )
    finally:
        await client.aclose()
    assert len(snow.attachments(incident["sys_id"])) == 1


async def test_an_upload_answered_429_is_sent_again_after_retry_after(
    snow: FakeServiceNow,
) -> None:
    """429 turns the request away before anything runs: safe to send again."""
    incident = snow.find("incident", "active=true")[0]
    waits = Waits()
    client = client_for(snow, waits=waits)
    snow.fail_next(429, retry_after=1, method="POST", path="/api/now/attachment/file")
    try:
        await client.attach(
            "incident",
            incident["sys_id"],
            file_name="photo.jpg",
            content_type="image/jpeg",
            data=b"\xff\xd8jpeg",
        )
    finally:
        await client.aclose()
    assert waits.taken == [1.0]
    assert len(snow.attachments(incident["sys_id"])) == 1


async def test_a_comment_that_timed_out_is_not_sent_again_blindly(snow: FakeServiceNow) -> None:
    """The instance may have added it: a second PATCH of ``comments`` adds a second."""
    incident = snow.find("incident", "active=true")[0]
    path = f"{TABLE}/{incident['sys_id']}"
    client = client_for(snow, timeout=0.3)
    snow.slow_next(1.0, method="PATCH", path=path, after=True)
    try:
        with pytest.raises(ServiceNowUnavailable, match="timed out"):
            await client.update("incident", incident["sys_id"], {"comments": "Still broken"})
    finally:
        await client.aclose()
    await answered(snow, "PATCH", path)
    assert len(snow.requests_to("PATCH", path)) == 1
    assert [e["value"] for e in snow.journal(incident["sys_id"])] == ["Still broken"]


async def test_a_comment_answered_500_is_not_sent_again(snow: FakeServiceNow) -> None:
    incident = snow.find("incident", "active=true")[0]
    client = client_for(snow)
    snow.fail_next(500, method="PATCH", after=True)
    try:
        with pytest.raises(ServiceNowUnavailable, match="500"):
            await client.update("incident", incident["sys_id"], {"comments": "Still broken"})
    finally:
        await client.aclose()
    assert [e["value"] for e in snow.journal(incident["sys_id"])] == ["Still broken"]


async def test_a_state_change_that_timed_out_is_sent_again(snow: FakeServiceNow) -> None:
    """Setting a field twice leaves it as once: that PATCH is retried like a read."""
    incident = snow.find("incident", "active=true")[0]
    path = f"{TABLE}/{incident['sys_id']}"
    client = client_for(snow, timeout=0.3)
    snow.slow_next(1.0, method="PATCH", path=path)
    snow.fail_next(502, method="PATCH", path=path)
    try:
        row = await client.update("incident", incident["sys_id"], {"state": "6"})
    finally:
        await client.aclose()
    assert row is not None
    assert row["state"]["value"] == "6"
    assert len(snow.requests_to("PATCH", path)) == 3


async def test_a_create_waits_for_an_oauth_token_the_instance_could_not_give_at_first(
    snow: FakeServiceNow,
) -> None:
    """No token, no call: the create was never sent, so it is sent once a token comes."""
    client = client_for(snow, OAUTH)
    snow.fail_next(503, path="/oauth_token.do")
    try:
        row = await client.create("incident", {"short_description": "Projector is dead"})
    finally:
        await client.aclose()
    assert row["number"]["value"] == "INC0010005"
    assert [r.status for r in snow.requests_to("POST", "/oauth_token.do")] == [503, 200]
    assert [r.status for r in snow.requests_to("POST", TABLE)] == [201]
