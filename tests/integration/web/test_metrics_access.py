"""/metrics answers only Prometheus (its bearer token); the probes stay open."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import METRICS_TOKEN, Desk


async def test_metrics_answer_only_the_bearer_of_the_token(desk: Desk) -> None:
    """No token is 401, a wrong one (or another scheme) is refused; the right one scrapes."""
    async with httpx.AsyncClient(base_url=desk.url) as client:
        anonymous = await client.get("/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert "textdesk_" not in anonymous.text
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 403
        assert "textdesk_" not in wrong.text
        prefix = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"}
        )
        assert prefix.status_code == 403
        basic = await client.get("/metrics", auth=("prometheus", METRICS_TOKEN))
        assert basic.status_code == 401
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    assert "textdesk_inbound_total" in scraped.text


@pytest.mark.parametrize("desk_extra_settings", [{"TEXTDESK_METRICS_TOKEN": None}])
async def test_metrics_do_not_exist_without_a_token_but_probes_do(desk: Desk) -> None:
    """Outside demo mode and with no token set, /metrics is 404; /healthz, /readyz answer."""
    async with httpx.AsyncClient(base_url=desk.url) as client:
        assert (await client.get("/metrics")).status_code == 404
        guessed = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert guessed.status_code == 404
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize(
    "desk_extra_settings", [{"TEXTDESK_METRICS_TOKEN": None, "TEXTDESK_DEMO": True}]
)
async def test_metrics_are_open_in_demo_mode_without_a_token(desk: Desk) -> None:
    """A demo on a laptop, with no token set, can be scraped without one."""
    async with httpx.AsyncClient(base_url=desk.url) as client:
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert "textdesk_inbound_total" in scraped.text
