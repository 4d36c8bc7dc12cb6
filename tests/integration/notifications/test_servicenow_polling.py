"""Polling the ServiceNow stand-in for its incidents' changes texts their subscribed callers.

The desk serves as usual (its dispatcher sends what is queued); the rounds are run
here, one at a time, by the polling use case as bootstrap builds it, on a client of
this test's own event loop and on a clock that the test moves an interval ahead
for each round.  The stand-in's own clock stands still between changes, so each
change has the ``sys_updated_on`` the test gives it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.integration.conftest import TEXTER, Desk
from tests.integration.notify_helpers import outbox_to, settle
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import subscriptions
from textdesk.adapters.files.notification_files import NotificationFiles
from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient
from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex
from textdesk.bootstrap import admin_use_cases, servicenow_events, servicenow_polling
from textdesk.channel.answering import Converser
from textdesk.domain.servicenow_events import signature
from textdesk.notifications.instance_polling import InstancePolling
from textdesk.testing.clock import FixedClock

SECRET = "events-secret-for-the-polling-tests-0123"
EVERY = 10


@pytest.fixture(scope="module")
def instance_clock() -> FixedClock:
    """The stand-in's clock: the times its incidents are changed at."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture(scope="module")
def served(instance_clock: FixedClock) -> Iterator[FakeServiceNow]:
    with FakeServiceNow(clock=instance_clock.now).serve() as fake:
        yield fake


@pytest.fixture
def snow(served: FakeServiceNow) -> FakeServiceNow:
    served.reset()
    seed_demo(served)
    served.add_account("pat.agent", "pat-password", name="Pat Agent")
    return served


def _records(snow: FakeServiceNow) -> ServiceNowRecords:
    client = ServiceNowClient(snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD))
    return ServiceNowRecords(client, UserIndex(client))


@pytest.fixture
def remote_records(snow: FakeServiceNow) -> ServiceNowRecords:
    return _records(snow)  # the desk's: it answers the events posted to it


@pytest.fixture
def converser() -> Converser | None:
    return None


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    return {"TEXTDESK_SERVICENOW_EVENTS_SECRET": SECRET}


class MovedClock:
    """The system's clock, moved ahead as the test says: the rounds' schedule."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def now(self) -> datetime:
        return SystemClock().now() + self.ahead


@dataclass
class Poller:
    polling: InstancePolling
    clock: MovedClock

    async def round(self) -> None:
        """The next round: an interval later than the last."""
        self.clock.ahead += timedelta(seconds=EVERY)
        await self.polling.run_once()


@pytest.fixture
async def poller(desk: Desk, snow: FakeServiceNow) -> AsyncIterator[Poller]:
    """Polling as bootstrap builds it, on this test's loop, sharing the desk's database."""
    records = _records(snow)
    settings = desk.settings.model_copy(update={"servicenow_poll_seconds": EVERY})
    events = servicenow_events(
        settings,
        db=desk.db,
        clock=SystemClock(),
        remote_records=records,
        views=desk.container.record_views,
        templates=NotificationFiles(settings.notification_templates_dir),
        wake_sender=lambda: None,  # the desk's dispatcher finds the texts by itself
    )
    clock = MovedClock()
    polling = servicenow_polling(
        settings, db=desk.db, clock=clock, remote_records=records, events=events
    )
    assert polling is not None
    yield Poller(polling, clock)
    await records.aclose()


async def subscribed_alice(desk: Desk) -> None:
    user_id = await admin_use_cases(desk.db, SystemClock()).accounts.add(
        name="Alice Example", phone=TEXTER
    )
    async with desk.db.begin() as conn:
        await subscriptions.set_enabled(
            conn, [user_id], True, source="api", now=SystemClock().now()
        )


def alices_vpn(snow: FakeServiceNow) -> dict[str, str]:
    [row] = snow.find("incident", "number=INC0010001")
    return row


def change(
    snow: FakeServiceNow, clock: FixedClock, values: dict[str, str], *, by: str = "admin"
) -> dict[str, str]:
    """Change Alice's VPN incident on the instance, a minute after the last change."""
    clock.advance(60)
    return snow.update("incident", alices_vpn(snow)["sys_id"], values, user_name=by)


async def texts_to_alice(desk: Desk) -> list[str]:
    await settle(desk)
    return [sent.body for sent in await outbox_to(desk, TEXTER)]


def failed_rounds() -> float:
    found = REGISTRY.get_sample_value("textdesk_servicenow_polls_total", {"outcome": "failed"})
    return found or 0.0


async def test_a_state_change_is_texted_once_after_a_round_and_the_first_round_texts_nothing(
    desk: Desk, snow: FakeServiceNow, instance_clock: FixedClock, poller: Poller
) -> None:
    await subscribed_alice(desk)
    change(snow, instance_clock, {"comments": "An old comment, from before polling"})
    await poller.round()  # the first: it learns where things stand
    assert await texts_to_alice(desk) == []

    change(snow, instance_clock, {"state": "6"})
    await poller.round()
    [sent] = await desk.eventually(lambda: _async(desk.fake.messages_to(TEXTER)), what="a text")
    assert "INC0010001 is now Resolved: VPN disconnects every hour" in sent.body
    sys_id = alices_vpn(snow)["sys_id"]
    assert f"{snow.base_url}/sp?id=ticket&table=incident&sys_id={sys_id}" in sent.body

    await poller.round()
    assert len(await texts_to_alice(desk)) == 1
    assert len(desk.fake.messages_to(TEXTER)) == 1


async def test_a_comment_and_an_assignment_are_texted_as_the_business_rule_would_post_them(
    desk: Desk, snow: FakeServiceNow, instance_clock: FixedClock, poller: Poller
) -> None:
    await subscribed_alice(desk)
    await poller.round()
    [pat] = snow.find("sys_user", "user_name=pat.agent")
    change(snow, instance_clock, {"assigned_to": pat["sys_id"]})
    change(snow, instance_clock, {"comments": "The VPN profile is renewed"}, by="pat.agent")
    await poller.round()
    assert await texts_to_alice(desk) == [
        "INC0010001 is now with Pat Agent: VPN disconnects every hour\n"
        f"{snow.base_url}/sp?id=ticket&table=incident&sys_id={alices_vpn(snow)['sys_id']}",
        'INC0010001: new comment from Pat Agent: "The VPN profile is renewed"\n'
        f"{snow.base_url}/sp?id=ticket&table=incident&sys_id={alices_vpn(snow)['sys_id']}",
    ]


async def test_a_change_both_posted_by_the_business_rule_and_polled_is_texted_once(
    desk: Desk, snow: FakeServiceNow, instance_clock: FixedClock, poller: Poller
) -> None:
    await subscribed_alice(desk)
    await poller.round()
    row = change(snow, instance_clock, {"state": "6"})
    answer = await post(
        desk,
        {
            "table": "incident",
            "sys_id": row["sys_id"],
            "number": row["number"],
            "event": "state_changed",
            "state": "Resolved",
            "caller_id": row["caller_id"],
            "sys_updated_on": row["sys_updated_on"],
        },
    )
    assert answer.json()["queued"] == 1, answer.text
    await poller.round()
    assert len(await texts_to_alice(desk)) == 1


async def test_a_comment_both_posted_by_the_business_rule_and_polled_is_texted_once(
    desk: Desk, snow: FakeServiceNow, instance_clock: FixedClock, poller: Poller
) -> None:
    await subscribed_alice(desk)
    await poller.round()
    row = change(snow, instance_clock, {"comments": "The VPN profile is renewed"}, by="pat.agent")
    answer = await post(
        desk,
        {
            "table": "incident",
            "sys_id": row["sys_id"],
            "number": row["number"],
            "event": "comment_added",
            "state": "In Progress",
            # As the rule reads it: the newest entry without its header line, trimmed.
            "comment": "The VPN profile is renewed",
            "author": "Pat Agent",
            "author_user_name": "pat.agent",
            "caller_id": row["caller_id"],
            "sys_updated_on": row["sys_updated_on"],
        },
    )
    assert answer.json()["queued"] == 1, answer.text
    await poller.round()
    [text] = await texts_to_alice(desk)
    assert 'new comment from Pat Agent: "The VPN profile is renewed"' in text


async def test_an_instance_that_answers_503_loses_nothing_the_next_good_round_texts_it(
    desk: Desk, snow: FakeServiceNow, instance_clock: FixedClock, poller: Poller
) -> None:
    await subscribed_alice(desk)
    await poller.round()
    change(snow, instance_clock, {"state": "6"})
    failed = failed_rounds()
    snow.fail_next(503, times=3, path="/api/now/table/incident")  # every try of the round's
    await poller.round()
    assert failed_rounds() == failed + 1
    assert await texts_to_alice(desk) == []
    await poller.round()
    [text] = await texts_to_alice(desk)
    assert "INC0010001 is now Resolved" in text


@pytest.mark.parametrize("desk_extra_settings", [{"TEXTDESK_SERVICENOW_POLL_SECONDS": str(EVERY)}])
async def test_a_desk_told_to_poll_its_instance_starts_with_a_round_that_only_learns(
    desk: Desk, snow: FakeServiceNow
) -> None:
    assert "servicenow-poll" in [loop.name for loop in desk.container.loops]
    newest = max(row["sys_updated_on"] for row in snow.find("incident"))

    async def started() -> Any:
        return await desk.scalar("SELECT cursor FROM instance_poll")

    assert await desk.eventually(started, what="the first round") == newest
    # The demo's three open incidents and the one resolved lately; nobody texted.
    assert await desk.scalar("SELECT count(*) FROM instance_snapshots") == 4
    assert await desk.scalar("SELECT count(*) FROM outbox") == 0


async def test_a_desk_polls_nothing_unless_told_to(desk: Desk) -> None:
    assert "servicenow-poll" not in [loop.name for loop in desk.container.loops]
    assert await desk.scalar("SELECT count(*) FROM instance_poll") == 0


async def post(desk: Desk, event: dict[str, str]) -> httpx.Response:
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Textdesk-Timestamp": stamp,
        "X-Textdesk-Signature": signature(SECRET, stamp, body),
    }
    async with httpx.AsyncClient(base_url=desk.url) as client:
        return await client.post("/api/v1/events/servicenow", content=body, headers=headers)


async def _async(value: Any) -> Any:
    return value
