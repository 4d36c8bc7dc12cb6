"""Incidents on the ServiceNow stand-in through the record port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from textdesk.adapters.servicenow.client import Credentials, ServiceNowClient, ServiceNowUnavailable
from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.adapters.servicenow.resilience import RetryPolicy
from textdesk.adapters.servicenow.sandbox import DEFAULT_PASSWORD, DEFAULT_USERNAME, FakeServiceNow
from textdesk.adapters.servicenow.users import UserIndex
from textdesk.domain.records import REMOTE_ID, InvalidRecord, NewRecord, belongs_to, new_record
from textdesk.ports import StoredMedia

ALICE = "+15551230001"
BOB = "+15551230002"
GUEST = "+15557654321"
NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
TABLE = "/api/now/table/incident"
JOURNAL = "/api/now/table/sys_journal_field"
JPEG = b"\xff\xd8\xff\xe0 a photo of a jammed printer"


class Photos:
    """Textdesk's media store, in memory."""

    def __init__(self) -> None:
        self.stored = {"att/photo1": StoredMedia("att/photo1", "image/jpeg", JPEG)}

    async def load(self, key: str) -> StoredMedia | None:
        return self.stored.get(key)


async def _no_wait(seconds: float) -> None:
    return None


@pytest.fixture
async def store(snow: FakeServiceNow) -> AsyncIterator[ServiceNowRecords]:
    client = ServiceNowClient(
        snow.base_url,
        Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD),
        retry=RetryPolicy(),
        sleep=_no_wait,
    )
    yield ServiceNowRecords(client, UserIndex(client), Photos())
    await client.aclose()


def report(
    phone: str = ALICE, *, key: str | None = None, attachments: tuple[str, ...] = ()
) -> NewRecord:
    new = new_record(
        short_description="Printer on floor 3 jams",
        description="Paper stuck in tray 2",
        category="printer",
        urgency=2,
        caller_id=None,
        caller_phone=phone,
        attachments=attachments,
    )
    return replace(new, key=key)


async def test_a_callers_open_incidents_are_theirs_only_newest_first(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    found = await store.open_records_of(user_id=7, phone=ALICE, limit=50)
    assert [r.short_description for r in found] == [
        "New monitor for desk 4B",
        "VPN disconnects every hour",
    ]
    vpn = found[1]
    assert vpn.number == "INC0010001"
    assert vpn.state == "In Progress"
    assert vpn.urgency == 2
    assert vpn.priority == 4  # the instance's impact 3 × urgency 2
    assert vpn.caller_name == "Alice Example"
    assert vpn.caller_phone == ALICE  # typed "(555) 123-0001" on the profile
    assert vpn.id == REMOTE_ID
    assert vpn.external_id == snow.find("incident", "number=INC0010001")[0]["sys_id"]
    assert belongs_to(vpn, user_id=7, phone=ALICE)
    assert not belongs_to(vpn, user_id=None, phone=BOB)
    [query] = [r.params for r in snow.requests_to("GET", TABLE)]
    assert query["sysparm_query"].endswith("^active=true^ORDERBYDESCsys_created_on")
    assert "description" in query["sysparm_fields"].split(",")
    assert "work_notes" not in query["sysparm_fields"]


async def test_a_texter_who_is_no_sys_user_has_no_incidents(store: ServiceNowRecords) -> None:
    assert await store.open_records_of(user_id=None, phone=GUEST, limit=50) == []
    assert await store.open_records_of(user_id=None, phone="+15551230004", limit=50) == []


async def test_a_record_is_read_by_number_in_any_case(store: ServiceNowRecords) -> None:
    record = await store.get("inc0010003")
    assert record is not None
    assert record.short_description == "Cannot open shared mailbox"
    assert record.caller_phone == BOB
    assert await store.get("INC0099999") is None
    assert await store.get("INC0010001^ORnumber=INC0010003") is None


async def test_a_create_names_the_caller_and_carries_its_key(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    created = await store.create(report(key="textdesk-41-1"), now=NOW)
    assert created.number == "INC0010005"
    assert created.state == "New"
    assert created.caller_phone == ALICE
    [row] = snow.find("incident", "correlation_id=textdesk-41-1")
    assert row["correlation_display"] == "textdesk"
    assert row["caller_id"] == snow.find("sys_user", "user_name=alice.example")[0]["sys_id"]
    assert row["category"] == "hardware"
    assert (row["urgency"], row["impact"], row["priority"]) == ("2", "2", "3")
    assert row["sys_created_by"] == DEFAULT_USERNAME


async def test_a_create_tried_again_finds_the_first_instead_of_making_another(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    new = report(key="textdesk-41-1")
    first = await store.create(new, now=NOW)
    again = await store.create(new, now=NOW)
    assert again.number == first.number
    assert len(snow.find("incident", "correlation_id=textdesk-41-1")) == 1
    assert len(snow.requests_to("POST", TABLE)) == 1


async def test_a_create_answered_503_twice_is_made_once(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    snow.fail_next(503, times=2, method="POST", path=TABLE)
    created = await store.create(report(key="textdesk-9-1"), now=NOW)
    assert created.number == "INC0010005"
    assert len(snow.find("incident", "short_description=Printer on floor 3 jams")) == 1


async def test_the_texters_photo_is_attached_once_even_when_the_create_is_tried_again(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    new = report(attachments=("att/photo1",), key="textdesk-5-1")
    snow.fail_next(503, times=5, method="POST", path="/api/now/attachment/file")
    with pytest.raises(ServiceNowUnavailable, match="503"):
        await store.create(new, now=NOW)  # made, but its photo could not follow
    created = await store.create(new, now=NOW)
    await store.create(new, now=NOW)
    assert created.attachments == ("photo1.jpg",)
    assert created.external_id is not None
    [photo] = snow.attachments(created.external_id)
    assert photo.data == JPEG
    assert photo.metadata["content_type"] == "image/jpeg"
    assert photo.metadata["file_name"] == "photo1.jpg"


async def test_a_guests_report_says_who_to_call_back(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    created = await store.create(report(GUEST), now=NOW)
    [row] = snow.find("incident", f"number={created.number}")
    assert row["caller_id"] == ""
    assert GUEST in row["description"]


async def test_an_update_writes_the_instances_values(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    updated = await store.update(
        "INC0010001", {"state": "On Hold", "urgency": "High", "assigned_to": "Bob Example"}, now=NOW
    )
    assert updated is not None
    assert (updated.state, updated.urgency, updated.assigned_to) == ("On Hold", 1, "Bob Example")
    [row] = snow.find("incident", "number=INC0010001")
    assert (row["state"], row["urgency"], row["priority"]) == ("3", "1", "2")
    assert row["assigned_to"] == snow.find("sys_user", "user_name=bob.example")[0]["sys_id"]
    assert await store.update("INC0099999", {"state": "Resolved"}, now=NOW) is None


async def test_assigning_to_nobody_on_the_instance_is_refused(store: ServiceNowRecords) -> None:
    with pytest.raises(InvalidRecord, match="Nobody Here"):
        await store.update("INC0010001", {"assigned_to": "Nobody Here"}, now=NOW)


async def test_a_comment_is_written_by_the_integration_user_with_its_authors_name(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    commented = await store.add_comment(
        "INC0010001", author="Alice Example", body="Still dropping at 3pm", now=NOW
    )
    assert commented is not None
    sys_id = commented.external_id
    assert sys_id is not None
    [entry] = snow.journal(sys_id)
    assert entry["value"] == "Alice Example (by text): Still dropping at 3pm"
    assert entry["sys_created_by"] == DEFAULT_USERNAME
    [comment] = commented.comments
    assert (comment.author, comment.body) == ("Alice Example", "Still dropping at 3pm")
    assert await store.add_comment("INC0099999", author="A", body="b", now=NOW) is None


async def test_comments_are_read_back_oldest_first_with_their_authors_work_notes_internal(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    [vpn] = snow.find("incident", "number=INC0010001")
    snow.insert("sys_user", {"user_name": "beth.agent", "name": "Beth Agent"})
    await store.add_comment("INC0010001", author="Alice Example", body="Still dropping", now=NOW)
    snow.update(
        "incident", vpn["sys_id"], {"comments": "Try the new client"}, user_name="beth.agent"
    )
    snow.update(
        "incident", vpn["sys_id"], {"work_notes": "caller is impatient"}, user_name="beth.agent"
    )
    record = await store.get("INC0010001")
    assert record is not None
    assert [(c.author, c.body, c.public) for c in record.comments] == [
        ("Alice Example", "Still dropping", True),
        ("Beth Agent", "Try the new client", True),
        ("Beth Agent", "caller is impatient", False),
    ]
    # What a texter is shown of it (cards, templates) leaves the work note out.
    assert [c["body"] for c in record.as_dict()["comments"]] == [
        "Still dropping",
        "Try the new client",
    ]


def _journal_table(snow: FakeServiceNow, reading: str) -> None:
    """An instance whose ACLs keep the integration user out of sys_journal_field: they
    refuse it (403), or hide its rows from lists (200 [])."""
    if reading == "refused":
        snow.fail_next(403, times=10, path=JOURNAL)
    elif reading == "hidden":
        snow.readings.hidden_tables = frozenset({"sys_journal_field"})


@pytest.mark.parametrize("journal_table", ["refused", "hidden"])
async def test_comments_are_read_from_the_journal_fields_when_sys_journal_field_is_closed(
    store: ServiceNowRecords, snow: FakeServiceNow, journal_table: str
) -> None:
    [vpn] = snow.find("incident", "number=INC0010001")
    snow.insert("sys_user", {"user_name": "beth.agent", "name": "Beth Agent"})
    await store.add_comment("INC0010001", author="Alice Example", body="Still dropping", now=NOW)
    snow.update(
        "incident", vpn["sys_id"], {"comments": "Try the new client"}, user_name="beth.agent"
    )
    snow.update(
        "incident", vpn["sys_id"], {"work_notes": "caller is impatient"}, user_name="beth.agent"
    )
    _journal_table(snow, journal_table)
    record = await store.get("INC0010001")
    assert record is not None
    assert [(c.author, c.body, c.public) for c in record.comments] == [
        ("Alice Example", "Still dropping", True),
        ("Beth Agent", "Try the new client", True),
        ("Beth Agent", "caller is impatient", False),
    ]


async def test_a_refused_sys_journal_field_is_not_asked_again_for_ten_minutes(
    snow: FakeServiceNow,
) -> None:
    """Each record read would otherwise make the refused call first; after a while the
    table is asked again, in case its ACLs were opened."""
    now = [1000.0]
    client = ServiceNowClient(
        snow.base_url, Credentials(DEFAULT_USERNAME, DEFAULT_PASSWORD), sleep=_no_wait
    )
    store = ServiceNowRecords(client, UserIndex(client), clock=lambda: now[0])
    try:
        await store.add_comment("INC0010001", author="Alice Example", body="Still down", now=NOW)
        asked = len(snow.requests_to("GET", JOURNAL))
        snow.fail_next(403, path=JOURNAL)
        for _ in range(3):
            record = await store.get("INC0010001")
            assert record is not None
            assert [c.body for c in record.comments] == ["Still down"]
        assert len(snow.requests_to("GET", JOURNAL)) == asked + 1
        now[0] += 601
        assert await store.get("INC0010001") is not None
        assert len(snow.requests_to("GET", JOURNAL)) == asked + 2
    finally:
        await client.aclose()


async def test_a_caller_whose_phone_the_instance_did_not_dot_walk_is_known_from_the_index(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    await store.users.refresh()
    [row] = snow.find("incident", "number=INC0010001")
    alice = snow.find("sys_user", "user_name=alice.example")[0]["sys_id"]
    # As an instance answers that leaves dot-walked fields out.
    shown = {k: v for k, v in row.items() if k != "caller_id.mobile_phone"} | {"caller_id": alice}
    record = store.record_of(shown)
    assert record.caller_phone == ALICE
    assert belongs_to(record, user_id=None, phone=ALICE)


async def test_a_create_whose_answer_was_lost_is_found_when_tried_again(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    """The instance made the incident and answered 500: the retry finds it by its key."""
    new = report(key="textdesk-77-1")
    snow.fail_next(500, method="POST", path=TABLE, after=True)
    with pytest.raises(ServiceNowUnavailable, match="500"):
        await store.create(new, now=NOW)
    again = await store.create(new, now=NOW)
    [row] = snow.find("incident", "short_description=Printer on floor 3 jams")
    assert again.number == row["number"]
    assert len(snow.requests_to("POST", TABLE)) == 1


@pytest.mark.parametrize("journal_table", ["readable", "refused", "hidden"])
async def test_a_comment_whose_answer_was_lost_is_not_added_again_when_made_again(
    store: ServiceNowRecords, snow: FakeServiceNow, journal_table: str
) -> None:
    """Looked for in sys_journal_field, or, where its ACLs refuse it or hide its rows,
    in the incident's ``comments`` as shown."""
    [vpn] = snow.find("incident", "number=INC0010001")
    _journal_table(snow, journal_table)
    snow.fail_next(500, method="PATCH", after=True)
    with pytest.raises(ServiceNowUnavailable, match="500"):
        await store.add_comment("INC0010001", author="Alice Example", body="Still down", now=NOW)
    again = await store.add_comment(
        "INC0010001",
        author="Alice Example",
        body="Still down",
        now=datetime.now(UTC),
        may_repeat=True,
    )
    assert again is not None
    assert [(c.author, c.body) for c in again.comments] == [("Alice Example", "Still down")]
    assert [e["value"] for e in snow.journal(vpn["sys_id"])] == [
        "Alice Example (by text): Still down"
    ]
    assert len(snow.requests_to("PATCH", f"{TABLE}/{vpn['sys_id']}")) == 1


async def test_a_comment_whose_first_try_surely_failed_is_added_when_made_again(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    [vpn] = snow.find("incident", "number=INC0010001")
    await store.add_comment("INC0010001", author="Alice Example", body="Still down", now=NOW)
    snow.update("incident", vpn["sys_id"], {"comments": "Try the new client"}, user_name="admin")
    snow.fail_next(503, times=3, method="PATCH")
    with pytest.raises(ServiceNowUnavailable, match="503"):
        await store.add_comment("INC0010001", author="Alice Example", body="It works", now=NOW)
    await store.add_comment(
        "INC0010001",
        author="Alice Example",
        body="It works",
        now=datetime.now(UTC),
        may_repeat=True,
    )
    assert [e["value"] for e in snow.journal(vpn["sys_id"])] == [
        "Alice Example (by text): It works",
        "Try the new client",
        "Alice Example (by text): Still down",
    ]


async def test_the_same_words_commented_again_are_a_second_comment(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    """Only a call the inbox loop may be making again looks for its comment, and only
    among the last minutes': a texter may say the same thing twice."""
    [vpn] = snow.find("incident", "number=INC0010001")
    for _ in range(2):
        await store.add_comment("INC0010001", author="Alice Example", body="Any news?", now=NOW)
    an_hour_on = datetime.now(UTC) + timedelta(hours=1)
    await store.add_comment(
        "INC0010001", author="Alice Example", body="Any news?", now=an_hour_on, may_repeat=True
    )
    assert len(snow.journal(vpn["sys_id"])) == 3


async def test_a_create_whose_key_the_instance_cannot_filter_on_makes_the_texters_incident(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    """The look-up by key comes back with every incident: none of them is the key's."""
    snow.readings.unfiltered_fields = frozenset({"correlation_id"})
    created = await store.create(report(key="textdesk-12-1"), now=NOW)
    assert created.number == "INC0010005"
    assert created.short_description == "Printer on floor 3 jams"
    [row] = snow.find("incident", "correlation_id=textdesk-12-1")
    assert row["number"] == "INC0010005"


async def test_a_number_the_instance_cannot_filter_on_finds_that_incident_or_none(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    snow.readings.unfiltered_fields = frozenset({"number"})
    assert await store.get("INC0099999") is None
    assert await store.update("INC0099999", {"state": "Resolved"}, now=NOW) is None
    assert snow.find("incident", "number=INC0010001")[0]["state"] != "6"


async def test_lists_keep_only_the_callers_incidents_when_the_instance_drops_the_filter(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    """An instance without the IN operator (and one that cannot filter on caller_id)."""
    snow.readings.operators = frozenset({"=", "!="})
    listed = await store.page(phones=[ALICE], open_only=True, limit=50, offset=0)
    assert sorted(r.number for r in listed) == ["INC0010001", "INC0010002"]
    snow.readings.unfiltered_fields = frozenset({"caller_id", "active"})
    mine = await store.open_records_of(user_id=None, phone=ALICE, limit=50)
    assert sorted(r.number for r in mine) == ["INC0010001", "INC0010002"]


async def test_an_incident_shows_only_its_own_comments_when_the_journal_filter_is_dropped(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    await store.add_comment("INC0010001", author="Alice Example", body="Still dropping", now=NOW)
    snow.readings.unfiltered_fields = frozenset({"element_id"})
    bobs = await store.get("INC0010003")
    assert bobs is not None
    assert bobs.comments == ()


async def test_assigning_to_a_name_the_instance_cannot_filter_on_is_refused(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    """Not given to whichever user came back first."""
    snow.readings.unfiltered_fields = frozenset({"name"})
    with pytest.raises(InvalidRecord, match="Nobody Here"):
        await store.update("INC0010001", {"assigned_to": "Nobody Here"}, now=NOW)
    assert snow.find("incident", "number=INC0010001")[0]["assigned_to"] == ""


async def test_a_report_with_a_photo_is_made_where_attachments_cannot_be_listed(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    snow.readings.attachment_listing = False
    created = await store.create(report(attachments=("att/photo1",), key="textdesk-6-1"), now=NOW)
    assert created.attachments == ("photo1.jpg",)
    assert created.external_id is not None
    [photo] = snow.attachments(created.external_id)
    assert photo.data == JPEG
    assert snow.requests_to("GET", "/api/now/attachment") == []  # just made: nothing to list


async def test_a_photo_left_out_is_uploaded_on_the_next_try_where_attachments_cannot_be_listed(
    store: ServiceNowRecords, snow: FakeServiceNow
) -> None:
    snow.readings.attachment_listing = False
    new = report(attachments=("att/photo1",), key="textdesk-6-2")
    snow.fail_next(503, times=5, method="POST", path="/api/now/attachment/file")
    with pytest.raises(ServiceNowUnavailable, match="503"):
        await store.create(new, now=NOW)  # made, but its photo could not follow
    again = await store.create(new, now=NOW)
    assert again.external_id is not None
    assert [a.metadata["file_name"] for a in snow.attachments(again.external_id)] == ["photo1.jpg"]
    assert [r.status for r in snow.requests_to("GET", "/api/now/attachment")] == [400]
