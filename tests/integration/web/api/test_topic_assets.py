"""A topic's images and scripts through the REST API: raw-body PUTs, the listing in
GET /api/v1/topics/{id}, refusals, images in use, and the token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.images import bomb_png, photo
from tests.integration.conftest import Desk
from tests.topic_sources import PLAIN_ROUTER, ROUTER
from textdesk.bootstrap import admin_use_cases

SCRIPT = "name: Router\nsteps:\n  - say: router\n    expect: ten seconds\n"
PNG = photo(6, 6)


@pytest.fixture
async def api(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("ci")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


async def test_an_image_and_a_script_put_as_raw_bodies_are_listed_and_used(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    assert (await api.put("/topics/router", json={"source": PLAIN_ROUTER})).status_code == 201
    image = await api.put(
        "/topics/router/media/back.png", content=PNG, headers={"Content-Type": "image/png"}
    )
    assert image.status_code == 201, image.text
    assert image.json()["key"] == "topics/router/back.png"
    script = await api.put("/topics/router/scripts/happy", content=SCRIPT.encode())
    assert script.status_code == 201, script.text
    again = await api.put("/topics/router/scripts/happy", content=SCRIPT.encode())
    assert again.status_code == 200
    saved = await api.put("/topics/router", json={"source": ROUTER})
    assert saved.status_code == 200, saved.text
    assert (await api.post("/topics/router/publish")).status_code == 201

    topic = (await api.get("/topics/router")).json()
    assert [(i["name"], i["key"], i["size"]) for i in topic["images"]] == [
        ("back.png", "topics/router/back.png", len(PNG))
    ]
    assert [(s["name"], s["updated_by"]) for s in topic["scripts"]] == [("happy", "ci")]
    in_use = await api.delete("/topics/router/media/back.png")
    assert in_use.status_code == 409
    assert "router (published) uses this image" in in_use.json()["detail"]["message"]
    assert (await api.delete("/topics/router/scripts/happy")).status_code == 204
    schema = (await api.get("/openapi.json")).json()
    media = schema["paths"]["/api/v1/topics/{id}/media/{name}"]["put"]
    assert "image/png" in media["requestBody"]["content"]
    assert "put" in schema["paths"]["/api/v1/topics/{id}/scripts/{name}"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("media/big.png", b"\x89PNG" + b"\x00" * (20 * 1024 * 1024), "larger than 5 MB"),
        ("media/bomb.png", bomb_png(20_000, 20_000), "more than 25 megapixels"),
        ("media/fake.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not a JPEG, PNG"),
        ("media/empty.png", b"", "the file is empty"),
        ("scripts/nul", b"steps:\n  - say: \x00\n", "no NUL bytes"),
        ("scripts/typo", b"steps:\n  - sya: hi\n", "typo.yaml:2: steps[0].sya: unknown field"),
    ],
    ids=["20MB", "20000x20000", "pdf-as-png", "empty", "nul-script", "script-typo"],
)
async def test_a_hostile_body_is_refused_with_422_and_nothing_stored(
    api: httpx.AsyncClient, desk: Desk, path: str, body: bytes, message: str
) -> None:
    assert (await api.put("/topics/router", json={"source": PLAIN_ROUTER})).status_code == 201
    answer = await api.put(f"/topics/router/{path}", content=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert message in detail["message"] + " ".join(detail["errors"])
    assert await desk.scalar("SELECT count(*) FROM topic_assets") == 0


async def test_without_a_token_nothing_is_stored(desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=f"{desk.url}/api/v1") as anonymous:
        answer = await anonymous.put("/topics/greeting/media/x.png", content=PNG)
        assert answer.status_code == 401
    assert await desk.scalar("SELECT count(*) FROM topic_assets") == 0
