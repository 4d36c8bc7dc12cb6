"""Record events posted by a ServiceNow instance: signature, freshness and shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from textdesk.domain.servicenow_events import (
    MalformedEvent,
    RefusedEvent,
    check_signature,
    parse_event,
    signature,
    split_signed,
)

SECRET = "shared-secret-for-tests"
STAMP = "1764651600"
BODY = (
    b'{"table":"incident","sys_id":"abc","number":"INC0010001","event":"state_changed",'
    b'"state":"Resolved","caller_id":"u1","sys_updated_on":"2025-12-02 05:00:00"}'
)
# Computed outside Python, as a shell on the instance's side would:
#   printf '%s' "$STAMP.$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
OPENSSL_SIGNATURE = "M/yqEo38g1ZqnzlDBDISiviFpYqkJoYTAcNZEcNVpVk="
NOW = float(STAMP) + 10


def test_the_signature_is_base64_hmac_sha256_over_timestamp_dot_body() -> None:
    assert signature(SECRET, STAMP, BODY) == OPENSSL_SIGNATURE


def test_a_good_signature_made_recently_is_believed() -> None:
    check_signature(secret=SECRET, timestamp=STAMP, signed=OPENSSL_SIGNATURE, body=BODY, now=NOW)


@pytest.mark.parametrize(
    ("secret", "stamp", "signed", "body", "why"),
    [
        (None, STAMP, OPENSSL_SIGNATURE, BODY, "not set"),
        ("", STAMP, OPENSSL_SIGNATURE, BODY, "not set"),
        (SECRET, None, OPENSSL_SIGNATURE, BODY, "required"),
        (SECRET, STAMP, None, BODY, "required"),
        (SECRET, "12.5", OPENSSL_SIGNATURE, BODY, "Unix seconds"),
        (SECRET, STAMP, OPENSSL_SIGNATURE, BODY + b" ", "does not match"),
        ("another-secret", STAMP, OPENSSL_SIGNATURE, BODY, "does not match"),
        (SECRET, STAMP, OPENSSL_SIGNATURE[:-2] + "A=", BODY, "does not match"),
        (SECRET, STAMP, "ünïcode", BODY, "does not match"),
    ],
)
def test_a_request_not_signed_with_the_secret_is_refused(
    secret: str | None, stamp: str | None, signed: str | None, body: bytes, why: str
) -> None:
    with pytest.raises(RefusedEvent, match=why):
        check_signature(secret=secret, timestamp=stamp, signed=signed, body=body, now=NOW)


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_a_timestamp_more_than_five_minutes_off_is_refused(offset: int) -> None:
    stamp = str(int(NOW) + offset)
    signed = signature(SECRET, stamp, BODY)
    with pytest.raises(RefusedEvent, match="5 minutes"):
        check_signature(secret=SECRET, timestamp=stamp, signed=signed, body=BODY, now=NOW)


@pytest.mark.parametrize("offset", [300, -300, 0])
def test_a_timestamp_within_five_minutes_is_accepted(offset: int) -> None:
    stamp = str(int(NOW) + offset)
    signed = signature(SECRET, stamp, BODY)
    check_signature(secret=SECRET, timestamp=stamp, signed=signed, body=BODY, now=NOW)


def test_an_event_reads_as_the_built_in_events_of_the_same_kind() -> None:
    event = parse_event(BODY)
    assert (event.template, event.data()) == ("state_changed", {"to": "Resolved"})
    assigned = parse_event(_body(event="assigned", assigned_to="Beth Anglin"))
    assert (assigned.template, assigned.data()) == ("assigned", {"to": "Beth Anglin"})
    unassigned = parse_event(_body(event="assigned", assigned_to=""))
    assert unassigned.data() == {"to": ""}


def test_a_comment_written_for_someone_names_them_as_its_author() -> None:
    signed = parse_event(_body(event="comment_added", comment="Pat Agent (by text): On it"))
    assert (signed.template, signed.data()) == (
        "commented",
        {"author": "Pat Agent", "body": "On it"},
    )
    plain = parse_event(_body(event="comment_added", comment="Rebooted", author="Beth Anglin"))
    assert plain.data() == {"author": "Beth Anglin", "body": "Rebooted"}
    anonymous = parse_event(_body(event="comment_added", comment="Rebooted"))
    assert anonymous.data()["author"] == "the service desk"


def test_an_events_digest_is_what_it_says_so_one_second_can_hold_two_events() -> None:
    comment = _body(event="comment_added", comment="Rebooted", author="Beth Anglin")
    assert parse_event(comment).digest == parse_event(comment).digest
    others = [
        _body(event="comment_added", comment="Try now", author="Beth Anglin"),
        _body(event="comment_added", comment="Rebooted", author="Fred Luddy"),
    ]
    assert all(parse_event(o).digest != parse_event(comment).digest for o in others)
    states = {parse_event(_body(state=s)).digest for s in ("In Progress", "On Hold")}
    assignees = {parse_event(_body(event="assigned", assigned_to=a)).digest for a in "AB"}
    assert len(states) == len(assignees) == 2
    # What a kind of event does not say is not in its digest (the rule sends it all).
    moved = parse_event(_body(state="On Hold", assigned_to="Beth Anglin", short_description="x"))
    assert moved.digest == parse_event(_body(state="On Hold")).digest


def test_a_signed_comment_is_a_texters_own_only_when_the_integration_user_wrote_it() -> None:
    """Anyone on the instance can begin a comment with a texter's signature."""
    comment = {"event": "comment_added", "comment": "Alice Example (by text): call me"}
    ours = parse_event(_body(**comment, author="Textdesk", author_user_name="textdesk.int"))
    assert ours.data(integration_user="textdesk.int") == {
        "author": "Alice Example",
        "body": "call me",
    }
    assert ours.signed_for("textdesk.int") == ("Alice Example", "call me")
    theirs = parse_event(_body(**comment, author="Fred Luddy", author_user_name="fred.luddy"))
    assert theirs.signed_for("textdesk.int") is None
    assert theirs.data(integration_user="textdesk.int") == {
        "author": "Fred Luddy",
        "body": "Alice Example (by text): call me",
    }
    # An event that does not say who wrote it (no author_user_name) is taken at its word.
    unsaid = parse_event(_body(**comment, author="Textdesk"))
    assert unsaid.signed_for("textdesk.int") == ("Alice Example", "call me")
    assert parse_event(_body(**comment)).data()["author"] == "Alice Example"


def test_split_signed_wants_one_line_of_author_before_the_signature() -> None:
    assert split_signed("Alice (by text): hi (by text): there") == ("Alice", "hi (by text): there")
    assert split_signed("no signature") is None
    assert split_signed(" (by text): no author") is None
    assert split_signed("two\nlines (by text): x") is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "missing sys_id, number, event, caller_id, sys_updated_on"),
    ],
)
def test_a_body_that_is_not_an_event_says_what_is_wrong(body: bytes, why: str) -> None:
    with pytest.raises(MalformedEvent, match=why):
        parse_event(body)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"table": "problem"}, "table must be 'incident'"),
        ({"event": "deleted"}, "event must be one of"),
        ({"state": 3}, "state must be a string"),
        ({"state": ""}, "needs state"),
        ({"event": "comment_added", "comment": "  "}, "needs comment"),
        ({"sys_id": ""}, "missing sys_id"),
    ],
)
def test_an_event_missing_what_its_kind_needs_is_refused(
    change: dict[str, object], why: str
) -> None:
    with pytest.raises(MalformedEvent, match=why):
        parse_event(_body(**change))


def test_the_record_as_the_event_tells_it_is_what_templates_read() -> None:
    event = parse_event(_body(short_description="VPN drops"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = event.record(caller_phone="+15551230001", now=now)
    shown = record.as_dict()
    assert shown["number"] == "INC0010001"
    assert shown["state"] == "Resolved"
    assert shown["short_description"] == "VPN drops"
    assert record.updated_at == datetime(2025, 12, 2, 5, 0, tzinfo=UTC)
    assert record.external_id == "abc"


def _body(**change: object) -> bytes:
    values: dict[str, object] = json.loads(BODY)
    values.update(change)
    return json.dumps(values).encode()
