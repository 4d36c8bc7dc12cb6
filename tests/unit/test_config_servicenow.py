"""Settings for ServiceNow as the record store: complete, or refused saying what is missing."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from textdesk.config import Settings

SECRET = "a-real-secret-Lk3jH6gF9dS2aQ5wE8rT1yU4iO7pZ0xC"
BASIC = {
    "SERVICENOW_INSTANCE_URL": "https://acme.service-now.com/",
    "SERVICENOW_USERNAME": "textdesk.integration",
    "SERVICENOW_PASSWORD": "s3cret",
}


def settings(**values: Any) -> Settings:
    return Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DEMO=True, **values)


def test_records_are_builtin_unless_told() -> None:
    """No ServiceNow setting is needed for the built-in store."""
    assert settings().records == "builtin"


def test_servicenow_with_basic_auth_is_accepted_and_its_url_kept_without_a_slash() -> None:
    chosen = settings(TEXTDESK_RECORDS="servicenow", **BASIC)
    assert chosen.records == "servicenow"
    assert chosen.servicenow_instance_url == "https://acme.service-now.com"
    assert not chosen.servicenow_oauth


def test_a_client_id_and_secret_mean_oauth() -> None:
    chosen = settings(
        TEXTDESK_RECORDS="servicenow",
        SERVICENOW_CLIENT_ID="id",
        SERVICENOW_CLIENT_SECRET="secret",
        **BASIC,
    )
    assert chosen.servicenow_oauth


def test_the_events_secret_is_read() -> None:
    chosen = settings(TEXTDESK_SERVICENOW_EVENTS_SECRET="shared", **BASIC)
    assert chosen.servicenow_events_secret == "shared"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "set SERVICENOW_INSTANCE_URL"),
        ({**BASIC, "SERVICENOW_INSTANCE_URL": "acme"}, "is not an address"),
        ({**BASIC, "SERVICENOW_INSTANCE_URL": "http://acme.service-now.com"}, "must use https"),
        ({**BASIC, "SERVICENOW_PASSWORD": ""}, "set SERVICENOW_USERNAME and SERVICENOW_PASSWORD"),
        ({**BASIC, "SERVICENOW_CLIENT_ID": "id"}, "set both SERVICENOW_CLIENT_ID"),
        ({**BASIC, "SERVICENOW_CLIENT_SECRET": "x"}, "set both SERVICENOW_CLIENT_ID"),
    ],
)
def test_an_incomplete_servicenow_configuration_is_refused_saying_what_to_set(
    values: dict[str, str], expected: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(TEXTDESK_RECORDS="servicenow", **values)
    assert "TEXTDESK_RECORDS=servicenow" in str(refused.value)
    assert expected in str(refused.value)


def test_plain_http_is_allowed_to_a_stand_in_on_this_machine() -> None:
    chosen = settings(
        TEXTDESK_RECORDS="servicenow",
        **{**BASIC, "SERVICENOW_INSTANCE_URL": "http://127.0.0.1:8765"},
    )
    assert chosen.servicenow_instance_url == "http://127.0.0.1:8765"


def test_an_unknown_record_store_is_refused() -> None:
    with pytest.raises(ValidationError, match="TEXTDESK_RECORDS"):
        settings(TEXTDESK_RECORDS="jira")
