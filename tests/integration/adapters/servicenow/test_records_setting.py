"""TEXTDESK_RECORDS=servicenow: the desk builds its ServiceNow record store from settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Desk
from tests.integration.phone_helpers import at_the_photo_question, tiny_png
from textdesk.adapters.servicenow.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakeServiceNow,
)
from textdesk.channel.answering import Converser


@pytest.fixture
def converser() -> Converser | None:
    return None


@pytest.fixture
def desk_extra_settings(snow: FakeServiceNow) -> dict[str, Any]:
    return {
        "TEXTDESK_RECORDS": "servicenow",
        "SERVICENOW_INSTANCE_URL": snow.base_url,
        "SERVICENOW_USERNAME": DEFAULT_USERNAME,
        "SERVICENOW_PASSWORD": DEFAULT_PASSWORD,
        "SERVICENOW_CLIENT_ID": DEFAULT_CLIENT_ID,
        "SERVICENOW_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
    }


async def test_a_reported_photo_is_attached_to_the_incident_on_the_instance_once(
    desk: Desk, snow: FakeServiceNow
) -> None:
    phone = await at_the_photo_question(desk)
    photo = tiny_png()
    assert "YES or NO" in await phone.say(media=[(photo, "image/png")])
    card = await phone.say("yes")
    assert "INC0010005" in card
    [made] = snow.find("incident", "short_description=Laptop will not boot")
    assert made["category"] == "hardware"
    [attached] = snow.attachments(made["sys_id"])
    assert attached.data == photo
    assert attached.metadata["content_type"] == "image/png"
    # Signed in with OAuth, as configured, and the calls are counted for the operator.
    assert snow.requests_to("POST", "/oauth_token.do")
    assert 'textdesk_servicenow_requests_total{outcome="ok"}' in await desk.metrics()
    assert await desk.scalar("SELECT count(*) FROM records") == 0


async def test_a_reported_photo_makes_one_incident_and_one_attachment_though_503_came_first(
    desk: Desk, snow: FakeServiceNow
) -> None:
    """Reporting an issue with a photo creates the incident and its attachment on the
    instance, once, also when the instance answers 503 twice first (to each of them)."""
    phone = await at_the_photo_question(desk)
    photo = tiny_png()
    assert "YES or NO" in await phone.say(media=[(photo, "image/png")])
    snow.fail_next(503, times=2, method="POST", path="/api/now/table/incident")
    snow.fail_next(503, times=2, method="POST", path="/api/now/attachment/file")
    card = await phone.say("yes")
    assert "INC0010005" in card
    [made] = snow.find("incident", "short_description=Laptop will not boot")
    [attached] = snow.attachments(made["sys_id"])
    assert attached.data == photo
    assert [r.status for r in snow.requests_to("POST", "/api/now/table/incident")] == [
        503,
        503,
        201,
    ]
    assert [r.status for r in snow.requests_to("POST", "/api/now/attachment/file")] == [
        503,
        503,
        201,
    ]
