"""The ServiceNow stand-in, driven over real HTTP the way a Table API client drives an instance."""

from __future__ import annotations

import json
import re
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from textdesk.adapters.servicenow.demo_data import seed_demo
from textdesk.adapters.servicenow.sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakeServiceNow,
)

AUTH = (DEFAULT_USERNAME, DEFAULT_PASSWORD)
# One TLS context for every client: building one costs ~150 ms, more than a test.
TLS = ssl.create_default_context()
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


@pytest.fixture
def client(snow: FakeServiceNow) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=snow.base_url, auth=AUTH, timeout=5.0) as http:
        yield http


def http_get(url: str, **kwargs: Any) -> httpx.Response:
    """A one-off GET, as a client without a session sends it."""
    return httpx.get(url, verify=TLS, timeout=5.0, **kwargs)


def http_post(url: str, **kwargs: Any) -> httpx.Response:
    """A one-off POST, as a client without a session sends it."""
    return httpx.post(url, verify=TLS, timeout=5.0, **kwargs)


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
    with strict.serve(), httpx.Client(verify=TLS, base_url=strict.base_url, auth=AUTH) as http:
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


def test_readings_other_than_the_stock_instances_can_be_switched_on(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    """Fewer operators (a condition with another is ignored), a page cap, JSON booleans."""
    query = {"sysparm_query": "active=true^mobile_phoneISNOTEMPTY", "sysparm_fields": "active"}
    assert len(result(client.get("/api/now/table/sys_user", params=query))) == 3
    snow.readings.operators = frozenset({"="})
    assert len(result(client.get("/api/now/table/sys_user", params=query))) > 3
    snow.readings.max_limit = 2
    assert len(result(client.get("/api/now/table/sys_user", params=query))) == 2
    snow.readings.json_booleans = True
    assert result(client.get("/api/now/table/sys_user", params=query))[0] == {"active": True}
    snow.reset()
    # The stock readings again: ISNOTEMPTY holds, and the account alone has no mobile phone.
    assert result(client.get("/api/now/table/sys_user", params=query)) == []


def test_a_table_whose_rows_acls_hide_lists_nothing_with_200(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    """Row-level ACLs filter a list instead of refusing it; other tables still list."""
    snow.readings.hidden_tables = frozenset({"sys_journal_field"})
    answer = client.get("/api/now/table/sys_journal_field")
    assert (answer.status_code, result(answer)) == (200, [])
    assert len(result(client.get("/api/now/table/incident"))) > 0


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
    response = httpx.get(
        verify=TLS, url=f"{snow.base_url}/api/now/table/incident", auth=(DEFAULT_USERNAME, "nope")
    )
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["www-authenticate"].lower().startswith("basic")


def test_no_credentials_is_401(snow: FakeServiceNow) -> None:
    response = httpx.post(
        verify=TLS, url=f"{snow.base_url}/api/now/table/incident", json={"short_description": "x"}
    )
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert snow.find("incident", "short_description=x") == []


def test_a_read_only_user_reads_but_cannot_write(snow: FakeServiceNow) -> None:
    snow.add_account("auditor", "auditor-pw", roles=("snc_read_only",))
    with httpx.Client(verify=TLS, base_url=snow.base_url, auth=("auditor", "auditor-pw")) as http:
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
    response = httpx.get(
        verify=TLS, url=f"{snow.base_url}/api/now/table/incident", auth=("nobody", "nobody-pw")
    )
    assert response.status_code == 403
    assert response.json()["status"] == "failure"


def test_an_inactive_users_credentials_are_refused(snow: FakeServiceNow) -> None:
    sys_id = snow.add_account("leaver", "leaver-pw")
    snow.update("sys_user", sys_id, {"active": "false"})
    response = httpx.get(
        verify=TLS, url=f"{snow.base_url}/api/now/table/incident", auth=("leaver", "leaver-pw")
    )
    assert response.status_code == 401


# ------------------------------------------------------------------ display values and references


def alices_vpn(client: httpx.Client, **params: str) -> dict[str, Any]:
    rows = result(
        client.get(
            "/api/now/table/incident",
            params={"sysparm_query": "short_description=VPN disconnects every hour", **params},
        )
    )
    assert len(rows) == 1
    row: dict[str, Any] = rows[0]
    return row


def test_values_by_default_with_reference_links(snow: FakeServiceNow, client: httpx.Client) -> None:
    row = alices_vpn(client)
    alice = user_id(snow, "alice.example")
    assert row["state"] == "2"
    assert row["urgency"] == "2"
    assert row["caller_id"] == {
        "link": f"{snow.base_url}/api/now/table/sys_user/{alice}",
        "value": alice,
    }
    assert row["assigned_to"] == ""  # an empty reference is plain empty text


def test_display_values_are_labels_and_names(snow: FakeServiceNow, client: httpx.Client) -> None:
    row = alices_vpn(client, sysparm_display_value="true")
    alice = user_id(snow, "alice.example")
    assert row["state"] == "In Progress"
    assert row["urgency"] == "2 - Medium"
    assert row["impact"] == "3 - Low"
    assert row["priority"] == "4 - Low"
    assert row["category"] == "Network"
    assert row["caller_id"] == {
        "display_value": "Alice Example",
        "link": f"{snow.base_url}/api/now/table/sys_user/{alice}",
    }
    assert TIMESTAMP.fullmatch(row["sys_created_on"])


def test_display_value_all_gives_both(snow: FakeServiceNow, client: httpx.Client) -> None:
    row = alices_vpn(client, sysparm_display_value="all")
    alice = user_id(snow, "alice.example")
    assert row["state"] == {"display_value": "In Progress", "value": "2"}
    assert row["number"] == {"display_value": "INC0010001", "value": "INC0010001"}
    assert row["caller_id"] == {
        "display_value": "Alice Example",
        "link": f"{snow.base_url}/api/now/table/sys_user/{alice}",
        "value": alice,
    }


@pytest.mark.parametrize(
    ("display", "expected"), [("false", "sys_id"), ("true", "Alice Example"), ("all", "both")]
)
def test_excluding_reference_links(
    snow: FakeServiceNow, client: httpx.Client, display: str, expected: str
) -> None:
    row = alices_vpn(client, sysparm_display_value=display, sysparm_exclude_reference_link="true")
    alice = user_id(snow, "alice.example")
    wanted: Any = {
        "sys_id": alice,
        "Alice Example": "Alice Example",
        "both": {"display_value": "Alice Example", "value": alice},
    }[expected]
    assert row["caller_id"] == wanted


def test_a_reference_link_leads_to_the_referenced_record(client: httpx.Client) -> None:
    link = alices_vpn(client)["caller_id"]["link"]
    user = result(client.get(link))
    assert user["name"] == "Alice Example"
    assert user["mobile_phone"] == "(555) 123-0001"
    assert user["email"] == "alice@example.com"


def test_users_are_stored_with_numbers_as_typed_and_one_is_inactive(client: httpx.Client) -> None:
    users = result(
        client.get(
            "/api/now/table/sys_user",
            params={
                "sysparm_query": "mobile_phoneISNOTEMPTY^ORDERBYname",
                "sysparm_fields": "name,mobile_phone,active",
            },
        )
    )
    assert users == [
        {"name": "Alice Example", "mobile_phone": "(555) 123-0001", "active": "true"},
        {"name": "Bob Example", "mobile_phone": "+1 555 123 0002", "active": "true"},
        {"name": "Carol Example", "mobile_phone": "5551230003", "active": "true"},
        {"name": "Dan Former", "mobile_phone": "555-123-0004", "active": "false"},
    ]


# ------------------------------------------------------------------ journals


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def timed(clock: Clock) -> Iterator[FakeServiceNow]:
    """A stand-in of its own on a hand-moved clock, seeded."""
    fake = FakeServiceNow(clock=clock, access_token_lifetime=60)
    seed_demo(fake)
    with fake.serve():
        yield fake


def test_writing_comments_appends_and_the_display_value_shows_entries_newest_first(
    timed: FakeServiceNow, clock: Clock
) -> None:
    with httpx.Client(verify=TLS, base_url=timed.base_url, auth=AUTH) as http:
        incident = alices_vpn(http)
        path = f"/api/now/table/incident/{incident['sys_id']}"
        first = result(http.patch(path, json={"comments": "Have you tried turning it off?"}))
        assert first["comments"] == ""  # a journal's value is empty; its entries are elsewhere
        clock.advance(60)
        result(http.patch(path, json={"comments": "Yes, twice."}))
        shown = result(http.get(path, params={"sysparm_display_value": "true"}))
    assert shown["comments"] == (
        "2026-12-02 10:01:00 - Textdesk Integration (Additional comments)\nYes, twice.\n\n"
        "2026-12-02 10:00:00 - Textdesk Integration (Additional comments)\n"
        "Have you tried turning it off?\n\n"
    )
    assert shown["sys_updated_on"] == "2026-12-02 10:01:00"


def test_journal_entries_are_rows_of_sys_journal_field(timed: FakeServiceNow, clock: Clock) -> None:
    with httpx.Client(verify=TLS, base_url=timed.base_url, auth=AUTH) as http:
        incident = alices_vpn(http)
        path = f"/api/now/table/incident/{incident['sys_id']}"
        http.patch(path, json={"comments": "one"})
        clock.advance(1)
        http.patch(path, json={"comments": "two", "work_notes": "internal only"})
        entries = result(
            http.get(
                "/api/now/table/sys_journal_field",
                params={
                    "sysparm_query": (
                        f"element_id={incident['sys_id']}^element=comments"
                        "^ORDERBYDESCsys_created_on"
                    ),
                    "sysparm_fields": "value,sys_created_on,sys_created_by",
                },
            )
        )
    assert entries == [
        {
            "value": "two",
            "sys_created_on": "2026-12-02 10:00:01",
            "sys_created_by": DEFAULT_USERNAME,
        },
        {
            "value": "one",
            "sys_created_on": "2026-12-02 10:00:00",
            "sys_created_by": DEFAULT_USERNAME,
        },
    ]
    notes = timed.journal(incident["sys_id"], "work_notes")
    assert [n["value"] for n in notes] == ["internal only"]


def test_work_notes_are_labelled_as_such_and_stay_out_of_comments(client: httpx.Client) -> None:
    incident = alices_vpn(client)
    path = f"/api/now/table/incident/{incident['sys_id']}"
    client.patch(path, json={"work_notes": "checked the tunnel logs"})
    shown = result(client.get(path, params={"sysparm_display_value": "all"}))
    assert shown["comments"] == {"display_value": "", "value": ""}
    assert "(Work notes)\nchecked the tunnel logs" in shown["work_notes"]["display_value"]


def test_a_comment_given_at_creation_is_the_first_entry(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    created = result(
        client.post("/api/now/table/incident", json={"short_description": "j", "comments": "hi"})
    )
    assert [e["value"] for e in snow.journal(created["sys_id"])] == ["hi"]


def test_two_comments_in_one_second_still_read_newest_first(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    incident = alices_vpn(client)
    path = f"/api/now/table/incident/{incident['sys_id']}"
    for text in ("first", "second", "third"):
        client.patch(path, json={"comments": text})
    assert [e["value"] for e in snow.journal(incident["sys_id"])] == ["third", "second", "first"]
    shown = result(client.get(path, params={"sysparm_display_value": "true"}))["comments"]
    assert shown.index("third") < shown.index("second") < shown.index("first")


# ------------------------------------------------------------------ attachments

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def upload(client: httpx.Client, **params: str) -> httpx.Response:
    return client.post(
        "/api/now/attachment/file",
        params=params,
        content=PNG,
        headers={"Content-Type": "image/png"},
    )


def test_an_attachment_round_trips(snow: FakeServiceNow, client: httpx.Client) -> None:
    incident = alices_vpn(client)
    response = upload(
        client, table_name="incident", table_sys_id=incident["sys_id"], file_name="photo.png"
    )
    assert response.status_code == 201
    meta = response.json()["result"]
    assert SYS_ID.fullmatch(meta["sys_id"])
    assert meta["file_name"] == "photo.png"
    assert meta["content_type"] == "image/png"
    assert meta["size_bytes"] == str(len(PNG))  # text, as the API shows it
    assert meta["table_name"] == "incident"
    assert meta["table_sys_id"] == incident["sys_id"]
    assert meta["download_link"] == f"{snow.base_url}/api/now/attachment/{meta['sys_id']}/file"
    assert response.headers["location"] == f"{snow.base_url}/api/now/attachment/{meta['sys_id']}"

    listed = result(
        client.get(
            "/api/now/attachment", params={"sysparm_query": f"table_sys_id={incident['sys_id']}"}
        )
    )
    assert [a["sys_id"] for a in listed] == [meta["sys_id"]]
    assert result(client.get(f"/api/now/attachment/{meta['sys_id']}"))["file_name"] == "photo.png"

    download = client.get(meta["download_link"])
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert json.loads(download.headers["x-attachment-metadata"])["file_name"] == "photo.png"
    assert [a.data for a in snow.attachments(incident["sys_id"])] == [PNG]


def test_attaching_to_a_record_that_does_not_exist_is_404(client: httpx.Client) -> None:
    response = upload(client, table_name="incident", table_sys_id="0" * 32, file_name="a.png")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_attaching_without_the_parameters_is_400(client: httpx.Client) -> None:
    incident = alices_vpn(client)
    response = upload(client, table_name="incident", table_sys_id=incident["sys_id"])
    assert response.status_code == 400
    assert response.json()["status"] == "failure"


def test_a_read_only_user_cannot_attach(snow: FakeServiceNow, client: httpx.Client) -> None:
    incident = alices_vpn(client)
    snow.add_account("auditor", "auditor-pw", roles=("snc_read_only",))
    with httpx.Client(verify=TLS, base_url=snow.base_url, auth=("auditor", "auditor-pw")) as http:
        response = upload(
            http, table_name="incident", table_sys_id=incident["sys_id"], file_name="a.png"
        )
    assert response.status_code == 403
    assert snow.attachments(incident["sys_id"]) == []


def test_deleting_an_attachment(client: httpx.Client) -> None:
    incident = alices_vpn(client)
    meta = result(
        upload(client, table_name="incident", table_sys_id=incident["sys_id"], file_name="a.png")
    )
    assert client.delete(f"/api/now/attachment/{meta['sys_id']}").status_code == 204
    assert client.get(meta["download_link"]).status_code == 404


# ------------------------------------------------------------------ OAuth


def token(fake: FakeServiceNow, grant: str = "password", **fields: str) -> httpx.Response:
    form = {
        "grant_type": grant,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        **fields,
    }
    if grant == "password":
        form = {"username": DEFAULT_USERNAME, "password": DEFAULT_PASSWORD, **form}
    return http_post(f"{fake.base_url}/oauth_token.do", data=form)


def bearer(fake: FakeServiceNow, access_token: str) -> httpx.Response:
    return httpx.get(
        verify=TLS,
        url=f"{fake.base_url}/api/now/table/incident",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def test_password_grant_gives_a_bearer_token_that_works(timed: FakeServiceNow) -> None:
    response = token(timed)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "scope", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 60
    answered = bearer(timed, body["access_token"])
    assert answered.status_code == 200
    assert len(answered.json()["result"]) == 4


@pytest.mark.parametrize(
    "wrong",
    [{"client_secret": "nope"}, {"client_id": "nobody"}, {"password": "nope"}, {"username": "x"}],
)
def test_wrong_client_or_user_credentials_are_refused(
    timed: FakeServiceNow, wrong: dict[str, str]
) -> None:
    response = token(timed, **wrong)
    assert response.status_code == 401
    assert response.json() == {"error_description": "access_denied", "error": "server_error"}


def test_the_token_endpoint_wants_a_form(timed: FakeServiceNow) -> None:
    response = httpx.post(
        verify=TLS,
        url=f"{timed.base_url}/oauth_token.do",
        json={"grant_type": "password", "client_id": DEFAULT_CLIENT_ID},
    )
    assert response.status_code == 400


def test_an_expired_access_token_is_401_and_a_refresh_brings_a_new_one(
    timed: FakeServiceNow, clock: Clock
) -> None:
    issued = token(timed).json()
    clock.advance(61)
    expired = bearer(timed, issued["access_token"])
    assert expired.status_code == 401
    assert expired.json() == NOT_AUTHENTICATED
    refreshed = token(timed, "refresh_token", refresh_token=issued["refresh_token"])
    assert refreshed.status_code == 200
    fresh = refreshed.json()
    assert fresh["access_token"] != issued["access_token"]
    assert bearer(timed, fresh["access_token"]).status_code == 200


def test_expire_tokens_ends_every_access_token_at_once(timed: FakeServiceNow) -> None:
    issued = token(timed).json()
    timed.expire_tokens()
    assert bearer(timed, issued["access_token"]).status_code == 401
    assert token(timed, "refresh_token", refresh_token=issued["refresh_token"]).status_code == 200


def test_a_refresh_token_only_works_for_its_own_client(timed: FakeServiceNow) -> None:
    issued = token(timed).json()
    timed.add_oauth_client("other-client", "other-secret")
    response = token(
        timed,
        "refresh_token",
        refresh_token=issued["refresh_token"],
        client_id="other-client",
        client_secret="other-secret",
    )
    assert response.status_code == 401
    assert token(timed, "refresh_token", refresh_token="made-up").status_code == 401


def test_an_unknown_grant_type_is_400(timed: FakeServiceNow) -> None:
    assert token(timed, "client_credentials").status_code == 400


def test_bearer_writes_are_made_as_the_tokens_user(timed: FakeServiceNow) -> None:
    access = token(timed).json()["access_token"]
    response = httpx.post(
        verify=TLS,
        url=f"{timed.base_url}/api/now/table/incident",
        json={"short_description": "via OAuth"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert response.status_code == 201
    assert response.json()["result"]["sys_created_by"] == DEFAULT_USERNAME


# ------------------------------------------------------------------ faults and the request log


def test_injected_503s_then_success_and_the_record_is_created_once(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    snow.fail_next(503, times=2, method="POST", path="/api/now/table/incident")
    statuses = [
        client.post("/api/now/table/incident", json={"short_description": "retried"}).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 201]
    posts = snow.requests_to("POST", "/api/now/table/incident")
    assert [p.status for p in posts] == [503, 503, 201]
    assert [p.json() for p in posts if p.status == 201] == [{"short_description": "retried"}]
    assert len(snow.find("incident", "short_description=retried")) == 1


def test_a_503_has_servicenows_error_shape_and_may_carry_retry_after(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    snow.fail_next(503, retry_after=7)
    response = client.get("/api/now/table/incident")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["status"] == "failure"


def test_a_429_says_rate_limit_exceeded_with_retry_after(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    snow.fail_next(429, retry_after=3)
    response = client.get("/api/now/table/incident")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["message"] == "Rate limit exceeded"
    assert response.json()["status"] == "failure"
    assert client.get("/api/now/table/incident").status_code == 200


def test_faults_only_hit_the_method_and_path_they_name(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    snow.fail_next(503, method="POST", path="/api/now/attachment")
    assert (
        client.post("/api/now/table/incident", json={"short_description": "x"}).status_code == 201
    )
    assert client.get("/api/now/attachment").status_code == 200
    incident = alices_vpn(client)
    response = upload(client, table_name="incident", table_sys_id=incident["sys_id"], file_name="a")
    assert response.status_code == 503


def test_faults_apply_to_the_token_endpoint_too(timed: FakeServiceNow) -> None:
    timed.fail_next(503, path="/oauth_token.do")
    assert token(timed).status_code == 503
    assert token(timed).status_code == 200


def test_a_slow_answer_arrives_late_but_whole(snow: FakeServiceNow, client: httpx.Client) -> None:
    snow.slow_next(0.3, path="/api/now/table/incident")
    started = time.monotonic()
    response = client.get("/api/now/table/incident")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert len(response.json()["result"]) == 4


def test_a_client_that_gives_up_on_a_slow_answer_times_out(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    snow.slow_next(2.0, method="POST")
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/now/table/incident", json={"short_description": "t"}, timeout=0.2)


def test_a_request_whose_answer_is_lost_is_carried_out_all_the_same(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    """``after=True``: the record is made, and the client is told only of the failure."""
    snow.fail_next(500, method="POST", path="/api/now/table/incident", after=True)
    response = client.post("/api/now/table/incident", json={"short_description": "lost"})
    assert response.status_code == 500
    assert response.json()["status"] == "failure"
    assert len(snow.find("incident", "short_description=lost")) == 1
    assert [p.status for p in snow.requests_to("POST", "/api/now/table/incident")] == [500]


def test_a_client_that_gave_up_on_a_late_answer_had_its_request_carried_out(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    snow.slow_next(2.0, method="POST", after=True)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/now/table/incident", json={"short_description": "late"}, timeout=0.2)
    deadline = time.monotonic() + 5
    # Answered (499: the client hung up) once the stand-in saw the hang-up, well after
    # the record was made; the test waits for that rather than for a guessed time.
    while snow.requests_to("POST", "/api/now/table/incident")[0].status is None:
        assert time.monotonic() < deadline, "the stand-in never answered"
        time.sleep(0.02)
    assert len(snow.find("incident", "short_description=late")) == 1


def test_the_request_log_keeps_method_path_query_body_and_user(
    snow: FakeServiceNow, client: httpx.Client
) -> None:
    client.get("/api/now/table/incident", params={"sysparm_limit": "1"})
    client.post("/api/now/table/incident", json={"short_description": "logged"})
    get, post = snow.requests[-2:]
    assert (get.method, get.path, get.params, get.status) == (
        "GET",
        "/api/now/table/incident",
        {"sysparm_limit": "1"},
        200,
    )
    assert (post.method, post.json(), post.user_name, post.status) == (
        "POST",
        {"short_description": "logged"},
        DEFAULT_USERNAME,
        201,
    )


def test_a_refused_request_is_logged_without_its_body(snow: FakeServiceNow) -> None:
    httpx.post(
        verify=TLS,
        url=f"{snow.base_url}/api/now/table/incident",
        json={"short_description": "secret"},
        auth=(DEFAULT_USERNAME, "wrong"),
    )
    refused = snow.requests[-1]
    assert (refused.status, refused.body, refused.user_name) == (401, b"", None)


def test_reset_forgets_data_faults_and_log_but_keeps_accounts(snow: FakeServiceNow) -> None:
    snow.fail_next(503, times=5)
    snow.reset()
    assert snow.requests == []
    assert snow.find("incident") == []
    response = http_get(f"{snow.base_url}/api/now/table/incident", auth=AUTH)
    assert response.status_code == 200
