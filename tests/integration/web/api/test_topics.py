"""The REST API for topics on a running desk: drafts, publishing, versions, stale saves,
and what a texter is answered through the real webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk, second_process
from tests.integration.phone_helpers import Phone
from textdesk import bootstrap
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser

CANTEEN = """\
title: Canteen hours
keywords: [canteen, lunch]
nodes:
  - type: message
    text: The canteen is open 11:30-14:00.
"""
LATER = CANTEEN.replace("11:30-14:00", "12:00-15:00")
OTHER_TEXTER = "+15551230002"

Client = Callable[[str], Coroutine[Any, Any, httpx.AsyncClient]]


@pytest.fixture
def converser() -> Converser | None:
    """None: the real virtual agent, on the demo topics and whatever is published."""
    return None


@pytest.fixture
async def clients(desk: Desk) -> AsyncIterator[Client]:
    """API clients, each with its own token named as asked."""
    opened: list[httpx.AsyncClient] = []

    async def client(name: str) -> httpx.AsyncClient:
        token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create(name)
        made = httpx.AsyncClient(
            base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
        opened.append(made)
        return made

    yield client
    for made in opened:
        await made.aclose()


@pytest.fixture
async def api(clients: Client) -> httpx.AsyncClient:
    return await clients("ada")


async def serves(phone: Phone, text: str, expected: str) -> bool:
    """Whether texting ``text`` is now answered with ``expected`` (texts it once)."""
    return expected in await phone.say(text)


async def test_a_topic_put_and_published_through_the_api_is_answered_by_text(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """PUT makes a draft nobody is served; publish serves it to the next text."""
    created = await api.put("/topics/canteen", json={"source": CANTEEN})
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert (created.json()["draft_source"], created.json()["published_version"]) == (CANTEEN, None)
    phone = Phone(desk, TEXTER)
    assert "11:30-14:00" not in await phone.say("canteen")

    published = await api.post("/topics/canteen/publish", json={"note": "first cut"})
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 1
    assert published.json()["note"] == "first cut"
    assert published.json()["published_by"] == "ada"
    await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="the new topic")

    topic = (await api.get("/topics/canteen")).json()
    assert (topic["published_version"], topic["published_source"]) == (1, CANTEEN)
    assert topic["draft_source"] is None
    [listed] = [t for t in (await api.get("/topics")).json() if t["id"] == "canteen"]
    assert listed["title"] == "Canteen hours"
    assert listed["keywords"] == ["canteen", "lunch"]
    assert (listed["origin"], listed["published_version"], listed["has_draft"]) == ("api", 1, False)
    # The demo topics imported from the folder are listed too.
    assert "report_issue" in {t["id"] for t in (await api.get("/topics")).json()}


@pytest.fixture
def topics_polled_hourly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The desk asks the database about publishes only once an hour (ask for it before
    ``desk``): what it serves sooner, it learnt from the publish in this process."""
    monkeypatch.setattr(bootstrap, "TOPICS_POLL_SECONDS", 3600.0)


async def test_a_publish_is_served_by_its_own_process_without_waiting_for_a_poll(
    topics_polled_hourly: None, api: httpx.AsyncClient, desk: Desk
) -> None:
    """The process that published wakes its own topics; publish, roll back, delete."""
    phone = Phone(desk, TEXTER)
    await api.put("/topics/canteen", json={"source": CANTEEN})
    await api.post("/topics/canteen/publish")
    await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="version 1")
    await api.put("/topics/canteen", json={"source": LATER})
    await api.post("/topics/canteen/publish")
    await desk.eventually(lambda: serves(phone, "canteen", "12:00-15:00"), what="version 2")
    await api.post("/topics/canteen/rollback", json={"version": 1})
    await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="the rollback")
    await api.delete("/topics/canteen")

    async def unserved() -> bool:
        return not await serves(phone, "canteen", "11:30-14:00")

    await desk.eventually(unserved, what="the topic to stop")


async def test_the_api_needs_a_token(desk: Desk) -> None:
    """Without a valid token nothing is read or saved."""
    async with httpx.AsyncClient(base_url=f"{desk.url}/api/v1") as anonymous:
        assert (await anonymous.get("/topics")).status_code == 401
        refused = await anonymous.put("/topics/canteen", json={"source": CANTEEN})
        assert refused.status_code == 401
    assert await desk.scalar("SELECT count(*) FROM topics WHERE id = 'canteen'") == 0


async def test_an_invalid_draft_is_refused_with_its_lines_and_nothing_is_saved(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Each error names its line, field and why; the topic is not made, or not changed."""
    broken = CANTEEN.replace("type: message", "type: mesage")
    refused = await api.put("/topics/canteen", json={"source": broken})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert set(error) == {"line", "field", "message"}
    assert error["line"] == 4
    assert (await api.get("/topics/canteen")).status_code == 404

    await api.put("/topics/canteen", json={"source": CANTEEN})
    unparsable = await api.put("/topics/canteen", json={"source": CANTEEN + "  - [oops\n"})
    assert unparsable.status_code == 422
    assert unparsable.json()["detail"][0]["line"] >= 6
    deep = await api.put("/topics/canteen", json={"source": "[" * 5000})
    assert deep.status_code == 422
    assert deep.json()["detail"][0]["message"] == "YAML nested more than 32 deep"
    huge = await api.put("/topics/canteen", json={"source": "#" * 64_001})
    assert huge.status_code == 422
    kept = await api.get("/topics/canteen")
    assert kept.json()["draft_source"] == CANTEEN
    assert kept.headers["ETag"] == '"1"'


async def test_a_source_naming_another_topic_is_refused(api: httpx.AsyncClient) -> None:
    """The id in the path is the topic's: a source that says otherwise saves nothing."""
    refused = await api.put("/topics/canteen", json={"source": "id: lunch\n" + CANTEEN})
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {"line": 1, "field": "id", "message": "this is topic 'lunch', not 'canteen'"}
    ]
    assert (await api.get("/topics/canteen")).status_code == 404
    assert (await api.get("/topics/lunch")).status_code == 404


async def test_an_id_that_cannot_be_a_file_name_is_refused(api: httpx.AsyncClient) -> None:
    """Ids are file name stems: anything else is a 422 before anything is read."""
    assert (await api.put("/topics/-dash", json={"source": CANTEEN})).status_code == 422
    assert (await api.get("/topics/" + "x" * 101)).status_code == 422
    assert (await api.get("/topics/no_such_topic")).status_code == 404


async def test_a_save_over_someone_elses_change_is_refused_showing_it(
    clients: Client, desk: Desk
) -> None:
    """If-Match with the revision an editor started from: a stale save gets 412 with the
    other person's draft and name, and changes nothing; without If-Match the last wins."""
    ada, bea = await clients("ada"), await clients("bea")
    created = await ada.put(
        "/topics/canteen", json={"source": CANTEEN}, headers={"If-Match": '"0"'}
    )
    assert created.status_code == 201
    started_from = (await ada.get("/topics/canteen")).headers["ETag"]
    assert started_from == '"1"'

    theirs = await bea.put("/topics/canteen", json={"source": LATER}, headers={"If-Match": '"1"'})
    assert theirs.status_code == 200, theirs.text
    assert theirs.headers["ETag"] == '"2"'

    mine = CANTEEN.replace("11:30", "11:00")
    stale = await ada.put("/topics/canteen", json={"source": mine}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    body = stale.json()
    assert "draft saved by bea" in body["detail"]
    assert 'If-Match: "2"' in body["detail"]
    assert body["current"]["draft_source"] == LATER
    assert body["current"]["draft_by"] == "bea"
    assert body["current"]["revision"] == 2
    assert (await ada.get("/topics/canteen")).json()["draft_source"] == LATER

    # Create-only refuses an existing topic; a bare revision number is read as the ETag.
    again = await ada.put("/topics/canteen", json={"source": mine}, headers={"If-Match": "0"})
    assert again.status_code == 412
    assert "already exists" in again.json()["detail"]
    merged = await ada.put("/topics/canteen", json={"source": mine}, headers={"If-Match": "2"})
    assert merged.status_code == 200
    assert merged.json()["draft_by"] == "ada"
    # An If-Match that names no revision is a client's mistake, said so.
    nonsense = await ada.put("/topics/canteen", json={"source": mine}, headers={"If-Match": "xyz"})
    assert nonsense.status_code == 400
    # No If-Match: the last writer's.
    last = await bea.put("/topics/canteen", json={"source": LATER})
    assert last.status_code == 200
    assert (await ada.get("/topics/canteen")).json()["draft_source"] == LATER


async def test_saves_at_the_same_moment_from_one_revision_keep_exactly_one(
    clients: Client,
) -> None:
    """Editors saving together from the same revision: one is saved, the others are told."""
    ada = await clients("ada")
    await ada.put("/topics/canteen", json={"source": CANTEEN})
    editors = [await clients(f"editor{i}") for i in range(8)]
    answers = await asyncio.gather(
        *(
            editor.put(
                "/topics/canteen",
                json={"source": CANTEEN.replace("11:30", f"11:3{i}")},
                headers={"If-Match": '"1"'},
            )
            for i, editor in enumerate(editors)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * 7
    [won] = [a for a in answers if a.status_code == 200]
    now = (await ada.get("/topics/canteen")).json()
    assert (now["draft_source"], now["revision"]) == (won.json()["draft_source"], 2)


async def test_a_publish_with_a_stale_if_match_publishes_nothing(clients: Client) -> None:
    """Publishing the draft one reviewed: a draft changed since is not published."""
    ada, bea = await clients("ada"), await clients("bea")
    await ada.put("/topics/canteen", json={"source": CANTEEN})
    await bea.put("/topics/canteen", json={"source": LATER})
    stale = await ada.post("/topics/canteen/publish", headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current"]["draft_source"] == LATER
    assert (await ada.get("/topics/canteen")).json()["published_version"] is None
    fresh = await ada.post("/topics/canteen/publish", headers={"If-Match": '"2"'})
    assert fresh.status_code == 201
    assert (await ada.post("/topics/canteen/publish")).status_code == 409


async def test_rollback_serves_the_earlier_text_again_and_versions_are_listed(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Version 2 serves, a rollback to 1 serves the first text, as version 3."""
    phone = Phone(desk, TEXTER)
    await api.put("/topics/canteen", json={"source": CANTEEN})
    await api.post("/topics/canteen/publish")
    await api.put("/topics/canteen", json={"source": LATER})
    await api.post("/topics/canteen/publish", json={"note": "summer hours"})
    await desk.eventually(lambda: serves(phone, "canteen", "12:00-15:00"), what="version 2")

    rolled = await api.post("/topics/canteen/rollback", json={"version": 1})
    assert rolled.status_code == 201, rolled.text
    assert (rolled.json()["version"], rolled.json()["note"]) == (3, "rollback to version 1")
    await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="version 1 again")

    versions = (await api.get("/topics/canteen/versions")).json()
    assert [(v["version"], v["source"]) for v in versions] == [
        (3, CANTEEN),
        (2, LATER),
        (1, CANTEEN),
    ]
    assert versions[1]["note"] == "summer hours"
    missing = await api.post("/topics/canteen/rollback", json={"version": 9})
    assert missing.status_code == 404
    assert (await api.get("/topics/nothing/versions")).status_code == 404


async def test_delete_stops_serving_a_topic_and_keeps_its_versions(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """Unpublished, the keyword finds nothing; the versions stay, to roll back to."""
    phone = Phone(desk, TEXTER)
    await api.put("/topics/canteen", json={"source": CANTEEN})
    await api.post("/topics/canteen/publish")
    await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="the topic")

    assert (await api.delete("/topics/canteen")).status_code == 204

    async def unserved() -> bool:
        return not await serves(phone, "canteen", "11:30-14:00")

    await desk.eventually(unserved, what="the topic to stop")
    topic = (await api.get("/topics/canteen")).json()
    assert (topic["published_version"], topic["published_source"]) == (None, None)
    assert [v["version"] for v in (await api.get("/topics/canteen/versions")).json()] == [1]
    assert (await api.post("/topics/canteen/publish")).status_code == 409  # no draft
    assert (await api.delete("/topics/nothing")).status_code == 404
    back = await api.post("/topics/canteen/rollback", json={"version": 1})
    assert back.status_code == 201
    await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="it back")


async def test_a_publish_reaches_a_second_process(api: httpx.AsyncClient, desk: Desk) -> None:
    """Published through one process, a topic (and then its new version) answers the
    texts another process receives, without a restart."""
    async with second_process(desk) as other:
        phone = Phone(other, OTHER_TEXTER)
        assert "11:30-14:00" not in await phone.say("canteen")
        await api.put("/topics/canteen", json={"source": CANTEEN})
        await api.post("/topics/canteen/publish")
        await desk.eventually(lambda: serves(phone, "canteen", "11:30-14:00"), what="version 1")
        await api.put("/topics/canteen", json={"source": LATER})
        await api.post("/topics/canteen/publish")
        await desk.eventually(lambda: serves(phone, "canteen", "12:00-15:00"), what="version 2")


async def test_openapi_documents_the_topic_routes(desk: Desk) -> None:
    """Client generators see every topic operation, its token, If-Match and its errors."""
    async with httpx.AsyncClient() as client:
        spec = (await client.get(f"{desk.url}/api/v1/openapi.json")).json()
    paths = spec["paths"]
    assert set(paths["/api/v1/topics/{id}"]) == {"get", "put", "delete"}
    for path in ("/api/v1/topics", "/publish", "/versions", "/rollback"):
        assert any(p.endswith(path) for p in paths), path
    put = paths["/api/v1/topics/{id}"]["put"]
    assert {"If-Match", "id"} <= {p["name"] for p in put["parameters"]}
    assert {"200", "201", "412", "422"} <= set(put["responses"])
    assert put["security"]
