"""The ServiceNow stand-in, driven over real HTTP the way a Table API client drives an instance."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.sandbox import (
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakeServiceNow,
)

AUTH = (DEFAULT_USERNAME, DEFAULT_PASSWORD)
SYS_ID = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
NOT_FOUND = {
    "error": {
        "message": "No Record found",
        "detail": "Record doesn't exist or ACL restricts the record retrieval",
    },
    "status": "failure",
}
NOT_AUTHENTICATED = {
    "error": {
        "message": "User Not Authenticated",
        "detail": "Required to provide Auth information",
    },
    "status": "failure",
}


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServiceNow]:
    """One stand-in on a loopback port for the whole module (reset per test)."""
    with FakeServiceNow().serve() as fake:
        yield fake


@pytest.fixture
def snow(served: FakeServiceNow) -> FakeServiceNow:
    """The served stand-in, reset and seeded with the demo's people and incidents."""
    served.reset()
    seed_demo(served)
    return served


@pytest.fixture
def client(snow: FakeServiceNow) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=snow.base_url, auth=AUTH, timeout=5.0) as http:
        yield http


def result(response: httpx.Response) -> Any:
    assert response.status_code in {200, 201}, response.text
    return response.json()["result"]


def user_id(snow: FakeServiceNow, user_name: str) -> str:
    return snow.find("sys_user", f"user_name={user_name}")[0]["sys_id"]


def numbers(rows: list[dict[str, Any]]) -> list[str]:
    return [row["number"] for row in rows]


# ------------------------------------------------------------------ Table API basics


def test_create_answers_201_with_the_generated_system_fields(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    alice = user_id(snow, "alice.example")
    response = client.post(
        "/api/now/table/incident",
        json={"short_description": "Laptop will not boot", "caller_id": alice, "urgency": 1},
    )
    assert response.status_code == 201
    created = response.json()["result"]
    assert SYS_ID.fullmatch(created["sys_id"])
    assert re.fullmatch(r"INC\d{7}", created["number"])
    assert TIMESTAMP.fullmatch(created["sys_created_on"])
    assert created["sys_updated_on"] == created["sys_created_on"]
    assert created["sys_created_by"] == created["sys_updated_by"] == DEFAULT_USERNAME
    assert created["urgency"] == "1"  # stored as text, as the API shows every value
    assert created["state"] == "1"
    assert created["active"] == "true"
    assert created["comments"] == ""
    assert response.headers["location"] == (
        f"{snow.base_url}/api/now/table/incident/{created['sys_id']}"
    )


def test_incident_numbers_count_up_from_inc0010001(client: httpx.Client) -> None:
    """The demo's four incidents took the first numbers; the next one is INC0010005."""
    seeded = result(
        client.get("/api/now/table/incident", params={"sysparm_query": "ORDERBYnumber"})
    )
    assert numbers(seeded) == ["INC0010001", "INC0010002", "INC0010003", "INC0010004"]
    created = result(client.post("/api/now/table/incident", json={"short_description": "x"}))
    assert created["number"] == "INC0010005"


def test_read_one_record_by_sys_id(client: httpx.Client) -> None:
    created = result(client.post("/api/now/table/incident", json={"short_description": "Read me"}))
    read = result(client.get(f"/api/now/table/incident/{created['sys_id']}"))
    assert read["short_description"] == "Read me"
    assert read["number"] == created["number"]


def test_unknown_record_is_404_with_servicenows_body(client: httpx.Client) -> None:
    response = client.get("/api/now/table/incident/" + "0" * 32)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert client.patch("/api/now/table/incident/" + "0" * 32, json={}).status_code == 404
    assert client.delete("/api/now/table/incident/" + "0" * 32).status_code == 404


def test_patch_and_put_both_change_only_the_fields_given(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    created = result(
        client.post("/api/now/table/incident", json={"short_description": "a", "urgency": "2"})
    )
    path = f"/api/now/table/incident/{created['sys_id']}"
    patched = result(client.patch(path, json={"state": "2"}))
    assert patched["state"] == "2"
    assert patched["urgency"] == "2"
    assert patched["short_description"] == "a"
    put = result(client.put(path, json={"short_description": "b"}))
    assert put["short_description"] == "b"
    assert put["state"] == "2"
    assert put["sys_mod_count"] == "2"


def test_delete_answers_204_and_the_record_is_gone(client: httpx.Client) -> None:
    created = result(client.post("/api/now/table/incident", json={"short_description": "gone"}))
    path = f"/api/now/table/incident/{created['sys_id']}"
    response = client.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"", b'"a string"', b"[1, 2]"])
def test_a_body_that_is_not_a_record_is_400(client: httpx.Client, body: bytes) -> None:
    response = client.post(
        "/api/now/table/incident", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status"] == "failure"
    assert set(response.json()["error"]) == {"message", "detail"}


def test_unknown_and_system_fields_in_a_write_are_ignored(client: httpx.Client) -> None:
    created = result(
        client.post(
            "/api/now/table/incident",
            json={"short_description": "x", "no_such_field": "y", "sys_created_by": "mallory"},
        )
    )
    assert "no_such_field" not in created
    assert created["sys_created_by"] == DEFAULT_USERNAME


def test_any_table_name_works_generically(client: httpx.Client) -> None:
    created = result(client.post("/api/now/table/u_custom", json={"u_colour": "blue", "u_n": 3}))
    assert created["u_colour"] == "blue"
    listed = result(client.get("/api/now/table/u_custom", params={"sysparm_query": "u_n=3"}))
    assert [row["sys_id"] for row in listed] == [created["sys_id"]]


def test_versioned_urls_reach_the_same_api(client: httpx.Client) -> None:
    assert len(result(client.get("/api/now/v2/table/incident"))) == 4


def test_a_path_no_api_serves_is_400(client: httpx.Client) -> None:
    response = client.get("/api/now/nothing/here")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Requested URI does not represent any resource"


# ------------------------------------------------------------------ incident rules


@pytest.mark.parametrize(
    ("state", "active"),
    [("1", "true"), ("2", "true"), ("3", "true"), ("6", "false"), ("7", "false"), ("8", "false")],
)
def test_active_follows_state(client: httpx.Client, state: str, active: str) -> None:
    created = result(client.post("/api/now/table/incident", json={"short_description": "s"}))
    patched = result(
        client.patch(f"/api/now/table/incident/{created['sys_id']}", json={"state": state})
    )
    assert patched["active"] == active


def test_resolving_stamps_resolved_at_and_reopening_clears_it(client: httpx.Client) -> None:
    created = result(client.post("/api/now/table/incident", json={"short_description": "s"}))
    path = f"/api/now/table/incident/{created['sys_id']}"
    resolved = result(client.patch(path, json={"state": "6"}))
    assert TIMESTAMP.fullmatch(resolved["resolved_at"])
    reopened = result(client.patch(path, json={"state": "2"}))
    assert reopened["resolved_at"] == ""
    assert reopened["active"] == "true"


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [("1", "1", "1"), ("2", "1", "2"), ("2", "2", "3"), ("3", "2", "4"), ("3", "3", "5")],
)
def test_priority_follows_impact_and_urgency(
    client: httpx.Client, impact: str, urgency: str, priority: str
) -> None:
    created = result(
        client.post(
            "/api/now/table/incident",
            json={"short_description": "p", "impact": impact, "urgency": urgency},
        )
    )
    assert created["priority"] == priority


def test_correlation_fields_are_stored_as_given(client: httpx.Client) -> None:
    created = result(
        client.post(
            "/api/now/table/incident",
            json={
                "short_description": "c",
                "correlation_id": "textdesk:abc123",
                "correlation_display": "textdesk",
            },
        )
    )
    found = result(
        client.get(
            "/api/now/table/incident",
            params={"sysparm_query": "correlation_id=textdesk:abc123", "sysparm_fields": "number"},
        )
    )
    assert found == [{"number": created["number"]}]
    assert created["correlation_display"] == "textdesk"


def test_opened_by_is_the_caller_of_the_api(snow: FakeServiceNow, client: httpx.Client) -> None:
    created = result(client.post("/api/now/table/incident", json={"short_description": "o"}))
    assert created["opened_by"]["value"] == user_id(snow, DEFAULT_USERNAME)


# ------------------------------------------------------------------ queries and paging


def test_a_callers_open_incidents_newest_first(snow: FakeServiceNow, client: httpx.Client) -> None:
    """The query textdesk's "My incidents" sends: caller, active, newest first."""
    alice = user_id(snow, "alice.example")
    rows = result(
        client.get(
            "/api/now/table/incident",
            params={
                "sysparm_query": f"caller_id={alice}^active=true^ORDERBYDESCsys_created_on",
                "sysparm_fields": "number,short_description,state",
            },
        )
    )
    # Both were created in the same second: the later insert comes first among equals.
    assert [row["short_description"] for row in rows] == [
        "New monitor for desk 4B",
        "VPN disconnects every hour",
    ]
    assert set(rows[0]) == {"number", "short_description", "state"}


def test_or_in_and_like_filter_over_http(snow: FakeServiceNow, client: httpx.Client) -> None:
    alice, bob = user_id(snow, "alice.example"), user_id(snow, "bob.example")

    def count(query: str) -> int:
        return len(result(client.get("/api/now/table/incident", params={"sysparm_query": query})))

    assert count(f"caller_id={alice}^ORcaller_id={bob}") == 4
    assert count(f"caller_idIN{alice},{bob}^stateIN1,2") == 3
    assert count("short_descriptionLIKEmailbox") == 1
    assert count("short_descriptionSTARTSWITHNew") == 1
    assert count("short_descriptionENDSWITHjams") == 1
    assert count("stateNOT IN6,7,8") == 3
    assert count("assigned_toISEMPTY") == 4
    assert count("state!=1") == 2
    assert count("active=false^NQstate=1") == 3


def test_polling_by_sys_updated_on(snow: FakeServiceNow, client: httpx.Client) -> None:
    """Changes since a moment: ``sys_updated_on>…`` compares timestamps."""
    rows = result(client.get("/api/now/table/incident", params={"sysparm_query": "ORDERBYnumber"}))
    stamp = rows[0]["sys_updated_on"]
    assert (
        result(
            client.get(
                "/api/now/table/incident", params={"sysparm_query": f"sys_updated_on>{stamp}"}
            )
        )
        == []
    )
    assert (
        len(
            result(
                client.get(
                    "/api/now/table/incident", params={"sysparm_query": f"sys_updated_on>={stamp}"}
                )
            )
        )
        == 4
    )


def test_dot_walked_query_matches_the_referenced_users_field(client: httpx.Client) -> None:
    rows = result(
        client.get(
            "/api/now/table/incident",
            params={"sysparm_query": "caller_id.mobile_phone=(555) 123-0001^active=true"},
        )
    )
    assert len(rows) == 2


def test_dot_walked_field_in_sysparm_fields(client: httpx.Client) -> None:
    rows = result(
        client.get(
            "/api/now/table/incident",
            params={
                "sysparm_query": "short_description=Cannot open shared mailbox",
                "sysparm_fields": "number,caller_id.name",
            },
        )
    )
    assert rows == [{"number": "INC0010003", "caller_id.name": "Bob Example"}]


def test_name_value_pairs_filter_like_equals(client: httpx.Client) -> None:
    rows = result(client.get("/api/now/table/incident", params={"active": "false"}))
    assert [row["short_description"] for row in rows] == ["Printer on floor 2 jams"]


def test_a_query_part_naming_an_unknown_field_is_ignored(client: httpx.Client) -> None:
    """As an instance does by default: a misspelt field widens the result, it does not fail."""
    rows = result(
        client.get(
            "/api/now/table/incident", params={"sysparm_query": "caler_id=nobody^active=true"}
        )
    )
    assert len(rows) == 3


def test_invalid_queries_can_return_no_rows_instead() -> None:
    """glide.invalid_query.returns_no_rows=true, for tests that want typos to show."""
    strict = FakeServiceNow(invalid_query_returns_no_rows=True)
    seed_demo(strict)
    with strict.serve(), httpx.Client(base_url=strict.base_url, auth=AUTH) as http:
        rows = result(
            http.get("/api/now/table/incident", params={"sysparm_query": "caler_id=x^active=true"})
        )
        assert rows == []
        assert (
            len(
                result(http.get("/api/now/table/incident", params={"sysparm_query": "active=true"}))
            )
            == 3
        )


def test_paging_with_limit_offset_and_total_count(client: httpx.Client) -> None:
    pages = []
    for offset in (0, 2, 4):
        response = client.get(
            "/api/now/table/incident",
            params={"sysparm_query": "ORDERBYnumber", "sysparm_limit": 2, "sysparm_offset": offset},
        )
        assert response.headers["x-total-count"] == "4"
        pages.append(numbers(result(response)))
    assert pages == [["INC0010001", "INC0010002"], ["INC0010003", "INC0010004"], []]


def test_link_header_points_at_the_next_and_last_pages(client: httpx.Client) -> None:
    response = client.get(
        "/api/now/table/incident", params={"sysparm_limit": 1, "sysparm_offset": 1}
    )
    links = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', response.headers["link"])
    )
    assert set(links) == {"first", "prev", "next", "last"}
    assert "sysparm_offset=2" in links["next"]
    assert "sysparm_offset=3" in links["last"]
    assert len(result(client.get(links["next"]))) == 1


def test_sysparm_no_count_leaves_out_the_total(client: httpx.Client) -> None:
    response = client.get("/api/now/table/incident", params={"sysparm_no_count": "true"})
    assert "x-total-count" not in response.headers


def test_sysparm_fields_ignores_fields_that_do_not_exist(client: httpx.Client) -> None:
    rows = result(
        client.get(
            "/api/now/table/incident",
            params={"sysparm_fields": "number,nonsense", "sysparm_limit": 1},
        )
    )
    assert rows == [{"number": "INC0010001"}]


# ------------------------------------------------------------------ basic auth


def test_wrong_password_is_401_with_servicenows_body(snow: FakeServiceNow) -> None:
    response = httpx.get(f"{snow.base_url}/api/now/table/incident", auth=(DEFAULT_USERNAME, "nope"))
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["www-authenticate"].lower().startswith("basic")


def test_no_credentials_is_401(snow: FakeServiceNow) -> None:
    response = httpx.post(
        f"{snow.base_url}/api/now/table/incident", json={"short_description": "x"}
    )
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert snow.find("incident", "short_description=x") == []


def test_a_read_only_user_reads_but_cannot_write(snow: FakeServiceNow) -> None:
    snow.add_account("auditor", "auditor-pw", roles=("snc_read_only",))
    with httpx.Client(base_url=snow.base_url, auth=("auditor", "auditor-pw")) as http:
        assert len(result(http.get("/api/now/table/incident"))) == 4
        response = http.post("/api/now/table/incident", json={"short_description": "no"})
        assert response.status_code == 403
        assert response.json() == {
            "error": {
                "message": "Operation Failed",
                "detail": "ACL Exception Insert Failed due to security constraints",
            },
            "status": "failure",
        }


def test_a_user_without_roles_cannot_read(snow: FakeServiceNow) -> None:
    snow.add_account("nobody", "nobody-pw", roles=())
    response = httpx.get(f"{snow.base_url}/api/now/table/incident", auth=("nobody", "nobody-pw"))
    assert response.status_code == 403
    assert response.json()["status"] == "failure"


def test_an_inactive_users_credentials_are_refused(snow: FakeServiceNow) -> None:
    sys_id = snow.add_account("leaver", "leaver-pw")
    snow.update("sys_user", sys_id, {"active": "false"})
    response = httpx.get(f"{snow.base_url}/api/now/table/incident", auth=("leaver", "leaver-pw"))
    assert response.status_code == 401
