"""The Table API client against the ServiceNow stand-in: auth, retries, the breaker."""

from __future__ import annotations

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
