"""REST API input the database cannot hold: a 422 naming the field, nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import TEXTER, Desk
from textdesk.adapters.clock import SystemClock
from textdesk.bootstrap import admin_use_cases


@pytest.fixture
async def api(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    token = await admin_use_cases(desk.db, desk.container.clock).api_tokens.create("tests")
    async with httpx.AsyncClient(
        base_url=f"{desk.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


@pytest.fixture
async def record(api: httpx.AsyncClient) -> str:
    created = await api.post("/records", json={"short_description": "Printer jams"})
    assert created.status_code == 201
    return str(created.json()["number"])


@pytest.fixture
async def alice(desk: Desk) -> int:
    return await admin_use_cases(desk.db, SystemClock()).accounts.add(name="Alice", phone=TEXTER)


def refused(answer: httpx.Response, field: str) -> None:
    """A 422 whose first error names ``field``."""
    assert answer.status_code == 422, (field, answer.status_code, answer.text)
    assert answer.json()["detail"][0]["loc"][-1] == field, answer.text


async def stored(desk: Desk) -> tuple[int, ...]:
    """How many records, comments, users, notifications and texts exist."""
    tables = ("records", "record_comments", "users", "notifications", "outbox")
    return tuple([await desk.scalar(f"SELECT count(*) FROM {t}") for t in tables])  # noqa: S608 - fixed names


async def test_nul_in_any_string_field_is_refused_by_name(
    api: httpx.AsyncClient, desk: Desk, record: str, alice: int
) -> None:
    """PostgreSQL cannot store NUL: every text field says so instead of a 500."""
    before = await stored(desk)
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/records", {"short_description": "a\x00b"}, "short_description"),
        ("POST", "/records", {"short_description": "x", "description": "\x00"}, "description"),
        ("POST", "/records", {"short_description": "x", "category": "\x00"}, "category"),
        ("POST", "/records", {"short_description": "x", "caller_phone": "\x00"}, "caller_phone"),
        ("PATCH", f"/records/{record}", {"assigned_to": "Dana\x00"}, "assigned_to"),
        ("POST", f"/records/{record}/comments", {"body": "\x00"}, "body"),
        ("POST", f"/records/{record}/comments", {"body": "hi", "author": "\x00"}, "author"),
        ("POST", "/users", {"name": "B\x00b", "phone": "+15551230002"}, "name"),
        ("POST", "/users", {"name": "Bob", "phone": "+15551230002", "email": "\x00"}, "email"),
        ("POST", "/notifications", {"user_id": alice, "body": "hi\x00"}, "body"),
        ("POST", "/notifications", {"user_id": alice, "template": "\x00"}, "template"),
        ("POST", "/notifications", {"record_number": "\x00", "body": "hi"}, "record_number"),
        (
            "POST",
            "/notifications",
            {"user_id": alice, "body": "hi", "params": {"a": ["\x00"]}},
            "params",
        ),
    ]
    for method, path, body, field in cases:
        refused(await api.request(method, path, json=body), field)
    refused(await api.get("/records", params={"caller_phone": "\x00"}), "caller_phone")
    refused(await api.get("/records/INC%00"), "number")
    assert await stored(desk) == before


async def test_values_longer_than_their_column_are_refused_by_name(
    api: httpx.AsyncClient, desk: Desk, record: str, alice: int
) -> None:
    """category, assigned_to, author, email, template, record_number: the column's length."""
    before = await stored(desk)
    refused(
        await api.post("/records", json={"short_description": "x", "category": "c" * 65}),
        "category",
    )
    refused(await api.patch(f"/records/{record}", json={"assigned_to": "d" * 201}), "assigned_to")
    refused(
        await api.post(f"/records/{record}/comments", json={"body": "hi", "author": "a" * 201}),
        "author",
    )
    email = "e" * 310 + "@example.com"
    refused(
        await api.post("/users", json={"name": "Bob", "phone": "+15551230002", "email": email}),
        "email",
    )
    refused(
        await api.post("/notifications", json={"user_id": alice, "template": "t" * 65}), "template"
    )
    refused(
        await api.post("/notifications", json={"record_number": "I" * 17, "body": "hi"}),
        "record_number",
    )
    assert await stored(desk) == before
    assert (await api.get(f"/records/{record}")).json()["assigned_to"] is None


async def test_a_caller_id_of_no_user_is_refused_by_name(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """A record cannot point at an account that does not exist."""
    refused(
        await api.post("/records", json={"short_description": "x", "caller_id": 4242}), "caller_id"
    )
    assert await desk.scalar("SELECT count(*) FROM records") == 0


async def test_ids_beyond_64_bits_are_refused_by_name(api: httpx.AsyncClient, desk: Desk) -> None:
    """An id no BIGINT holds is a 422, in a body, a path or a query."""
    huge = 2**63
    refused(
        await api.post("/records", json={"short_description": "x", "caller_id": huge}), "caller_id"
    )
    refused(await api.post("/notifications", json={"user_id": huge, "body": "hi"}), "user_id")
    refused(await api.post("/notifications", json={"user_ids": [1, huge], "body": "hi"}), 1)
    refused(await api.get(f"/users/{huge}/subscription"), "user_id")
    refused(await api.put(f"/users/{huge}/subscription", json={"enabled": True}), "user_id")
    refused(await api.get(f"/conversations/{huge}/transcript"), "conversation_id")
    refused(await api.get("/records", params={"caller_id": huge}), "caller_id")


LISTS = [
    "/records",
    "/users",
    "/conversations",
    "/users/{alice}/notifications",
    "/conversations/1/transcript",
]


async def test_every_list_has_a_bounded_page(
    api: httpx.AsyncClient, desk: Desk, alice: int
) -> None:
    """limit is 1..500 and offset at least 0 on every list; limit=-1 no longer means all."""
    for _ in range(3):
        assert (await api.post("/records", json={"short_description": "x"})).status_code == 201
    for template in LISTS:
        path = template.format(alice=alice)
        for limit in (-1, 0, 501):
            refused(await api.get(path, params={"limit": limit}), "limit")
        refused(await api.get(path, params={"offset": -1}), "offset")
        assert (await api.get(path, params={"limit": 500, "offset": 0})).status_code == 200
    page = (await api.get("/records", params={"limit": 2, "offset": 1})).json()
    assert [r["number"] for r in page] == ["INC0010002", "INC0010001"]


async def test_json_that_cannot_be_echoed_still_gets_its_422(
    api: httpx.AsyncClient, desk: Desk
) -> None:
    """A lone surrogate or NaN is refused by name, not turned into a 500 by the answer."""
    headers = {"Content-Type": "application/json"}
    surrogate = b'{"short_description": "\\ud800"}'
    refused(await api.post("/records", content=surrogate, headers=headers), "short_description")
    nan = b'{"short_description": "x", "urgency": NaN}'
    refused(await api.post("/records", content=nan, headers=headers), "urgency")
    big = b'{"short_description": "x", "urgency": 1e999}'
    refused(await api.post("/records", content=big, headers=headers), "urgency")
    assert await desk.scalar("SELECT count(*) FROM records") == 0
