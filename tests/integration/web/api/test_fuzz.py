"""Arbitrary JSON bodies and query strings on every REST API write and list route: no 500."""

from __future__ import annotations

import httpx
from hypothesis import HealthCheck, given, settings

from tests.integration.conftest import TEXTER, Desk
from tests.strategies import ApiCall, api_calls
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases

# Examples per database: enough to reach every route with most kinds of bad value,
# few enough that both databases take well under a minute.
EXAMPLES = 300


def fuzz(base_url: str, token: str, user_id: int) -> None:
    """Post hostile requests with a blocking client (the server has its own thread)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
        created = client.post("/records", json={"short_description": "Printer jams"})
        number = created.json()["number"]

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(call=api_calls(number=number, user_id=user_id))
        def no_500(call: ApiCall) -> None:
            headers = {"Content-Type": "application/json"} if call.body is not None else {}
            answer = client.request(
                call.method, call.path, params=call.query, content=call.body, headers=headers
            )
            assert answer.status_code < 500, (call, answer.status_code, answer.text)

        no_500()
        assert client.get("/records").status_code == 200


async def test_arbitrary_api_requests_never_get_a_500(desk: Desk) -> None:
    """One server per database, hundreds of hostile requests, each answered below 500."""
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("fuzz")
    user_id = await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice", phone=TEXTER)
    fuzz(f"{desk.url}/api/v1", token, user_id)
