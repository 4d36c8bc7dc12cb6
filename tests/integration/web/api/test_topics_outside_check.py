"""The issue's outside check: a topic made and published through the REST API only, then
texted through Twilio's signed webhook, on a desk of two processes (one database, one
Redis) where the publish reaches one process and the texts the other."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.integration.conftest import TEXTER, Desk, second_process
from tests.integration.phone_helpers import Phone
from tests.topic_sources import printer_topic
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser

pytestmark = pytest.mark.redis

PROMPT = "What is wrong with the printer?"
TOPIC = printer_topic(
    title="Toner trouble", keyword="toner", prompt=PROMPT, options=["Paper jam", "No toner"]
)


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent, on the demo topics and whatever is published."""
    return None


@pytest.fixture
def desk_extra_settings(redis_url: str) -> dict[str, Any]:
    """Redis beside the database, as a desk of several processes runs (flushed first)."""
    with contextlib.closing(Redis.from_url(redis_url)) as redis:
        redis.flushdb()
    return {"TEXTDESK_REDIS_URL": redis_url}


async def test_a_topic_put_and_published_by_api_in_one_process_is_texted_in_another(
    desk: Desk,
) -> None:
    """PUT {"source"} and POST publish with a token, to process A, nothing else; Alice's
    texts to process B's webhook walk the topic's choice and dynamic choice to its card."""
    await admin_use_cases(desk.db, SystemClock()).demo.seed()  # Alice and her incidents
    token = await admin_use_cases(desk.db, SystemClock()).api_tokens.create("outside check")
    async with (
        second_process(desk) as other,
        httpx.AsyncClient(
            base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        ) as api,
    ):
        alice = Phone(other, TEXTER)
        assert PROMPT not in await alice.say("toner")

        put = await api.put("/topics/toner_trouble", json={"source": TOPIC})
        assert put.status_code == 201, put.text
        published = await api.post("/topics/toner_trouble/publish", json={"note": "outside"})
        assert published.status_code == 201, published.text
        assert published.json()["version"] == 1

        async def asked() -> bool:
            return PROMPT in await alice.say("toner")

        await other.eventually(asked, what="process B to serve the published topic")
        listed = await alice.say("2")
        assert "1. INC0010002 New monitor for desk 4B" in listed
        assert "2. INC0010001 VPN disconnects every hour" in listed
        card = await alice.say("2")
        assert "Number: INC0010001" in card
        assert "Short description: VPN disconnects every hour" in card
        assert "State: In Progress" in card
        assert "Thanks, we noted the No toner." in card
        # Every reply went out through Twilio (the stand-in), from the desk's number.
        assert {m.from_ for m in desk.fake.messages_to(TEXTER)} == {desk.number}
