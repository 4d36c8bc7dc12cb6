"""The REST API for records: token auth, create, read, update, comment."""

from __future__ import annotations

import html
import io
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from tests import images
from tests.integration.conftest import Desk
from textdesk.adapters.db import media, records
from textdesk.bootstrap import admin_use_cases


@pytest.fixture
async def api(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


async def test_requests_without_a_valid_token_are_refused(desk: Desk) -> None:
    """No token, or a made-up one, gets 401 and no data."""
    async with httpx.AsyncClient(base_url=f"{desk.url}/api/v1") as client:
        assert (await client.get("/records")).status_code == 401
        forged = await client.get("/records", headers={"Authorization": "Bearer tdk_nope"})
        assert forged.status_code == 401


async def test_create_read_update_comment(api: httpx.AsyncClient, desk: Desk) -> None:
    """A record can be opened, fetched, moved along and commented on."""
    created = await api.post(
        "/records",
        json={"short_description": "Printer jams", "urgency": 2, "caller_phone": "+1 555 123 0001"},
    )
    assert created.status_code == 201
    record = created.json()
    assert record["number"] == "INC0010001"
    assert record["state"] == "New"
    assert record["caller_phone"] == "+15551230001"
    assert record["url"].startswith(f"{desk.url}/r/INC0010001.")

    updated = await api.patch(
        "/records/INC0010001", json={"state": "In Progress", "assigned_to": "Dana"}
    )
    assert updated.status_code == 200
    assert updated.json()["state"] == "In Progress"
    commented = await api.post("/records/inc0010001/comments", json={"body": "On our way."})
    assert commented.status_code == 201
    assert [c["body"] for c in commented.json()["comments"]] == ["On our way."]

    listed = (await api.get("/records", params={"caller_phone": "+15551230001"})).json()
    assert [r["number"] for r in listed] == ["INC0010001"]
    kinds = [r.kind for r in await desk.rows("SELECT kind FROM record_events ORDER BY id")]
    assert kinds == ["created", "state_changed", "assigned", "commented"]


async def test_bad_input_is_explained_and_changes_nothing(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Invalid fields get 422 with the reason; unknown records get 404."""
    await api.post("/records", json={"short_description": "VPN down"})
    bad = await api.patch("/records/INC0010001", json={"state": "Exploded"})
    assert bad.status_code == 422
    assert (await api.get("/records/INC0010001")).json()["state"] == "New"
    assert (await api.get("/records/INC9999999")).status_code == 404
    assert (await api.post("/records", json={"short_description": ""})).status_code == 422


async def test_record_link_shows_the_record_and_refuses_forgeries(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """The texted link opens a read-only page; a guessed link does not."""
    url = (await api.post("/records", json={"short_description": "Screen flickers"})).json()["url"]
    async with httpx.AsyncClient() as client:
        page = await client.get(url)
        forged = await client.get(url[:-3] + "abc")
        guessed = await client.get(f"{desk.url}/r/INC0010001")
    assert page.status_code == 200
    assert "Screen flickers" in page.text
    assert forged.status_code == 404
    assert guessed.status_code == 404


async def test_the_record_list_and_page_show_comments_and_photos(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """GET /records carries each record's comments and photos; its page shows the photo."""
    photo = images.photo(1600, 1200, "JPEG")
    async with desk.db.begin() as conn:
        now = desk.container.clock.now()
        key = await media.save(conn, data=photo, content_type="image/png", now=now)
        await records.create(
            conn,
            short_description="Cracked screen",
            caller_id=None,
            caller_phone=None,
            now=now,
            attachments=[key],
        )
    assert (await api.post("/records/INC0010001/comments", json={"body": "On it"})).is_success
    [listed] = (await api.get("/records")).json()
    one = (await api.get("/records/INC0010001")).json()
    assert listed["attachments"] == one["attachments"] == 1
    assert [c["body"] for c in listed["comments"]] == [c["body"] for c in one["comments"]]
    assert [c["body"] for c in listed["comments"]] == ["On it"]
    async with httpx.AsyncClient() as client:
        page = await client.get(one["url"])
        [(href, src)] = re.findall(r'<a href="([^"]+)"><img src="([^"]+)"', page.text)
        shown = await client.get(html.unescape(src))
        linked = await client.get(html.unescape(href))
    # The page loads a downscaled copy; the photo itself is one click away.
    assert Image.open(io.BytesIO(shown.content)).size == (1024, 768)
    assert linked.content == photo


async def test_openapi_documents_the_api(desk: Desk) -> None:
    """The API is described by OpenAPI for client generators."""
    async with httpx.AsyncClient() as client:
        spec = (await client.get(f"{desk.url}/api/v1/openapi.json")).json()
    assert "/api/v1/records/{number}" in spec["paths"]
    assert "/twilio/sms" not in spec["paths"]


async def test_a_revoked_token_is_refused_at_once(desk: Desk, api: httpx.AsyncClient) -> None:
    """An operator who fears a token leaked revokes it; it stops working immediately."""
    assert (await api.get("/records")).status_code == 200
    [listed] = await admin_use_cases(desk.db).api_tokens.all()
    assert listed.name == "tests"
    assert listed.last_used_at is not None
    assert await admin_use_cases(desk.db).api_tokens.revoke(listed.id)
    assert (await api.get("/records")).status_code == 401
    assert not await admin_use_cases(desk.db).api_tokens.revoke(listed.id)
