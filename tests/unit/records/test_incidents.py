"""The record use cases on in-memory records: callers, pages, changes, comments, links."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from textdesk.domain.phones import InvalidPhone
from textdesk.domain.records import InvalidRecord, new_record
from textdesk.records.incidents import Incidents, InvalidLink, InvalidPage, UnknownCaller
from textdesk.testing.admin import FakeReadingUnitOfWork
from textdesk.testing.clock import FixedClock
from textdesk.testing.records import (
    FakeRecordRepositories,
    NumberLinks,
    RecordTables,
    fake_records,
)

ALICE = 7
ALICE_PHONE = "+15551230001"
BOB_PHONE = "+15551230002"


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[RecordTables, FakeRecordRepositories] = field(
        default_factory=lambda: fake_records(RecordTables(users={ALICE: "Alice"}))
    )
    clock: FixedClock = field(default_factory=FixedClock)

    @property
    def tables(self) -> RecordTables:
        return self.uow.tables

    def incidents(self) -> Incidents:
        return Incidents(self.uow, NumberLinks(), self.clock)

    async def stored(
        self,
        short_description: str = "Printer jams",
        *,
        caller_id: int | None = None,
        caller_phone: str | None = None,
        state: str | None = None,
    ) -> str:
        """A record already in the store; its number."""
        async with self.uow.begin() as repos:
            record = await repos.records.create(
                new_record(
                    short_description=short_description,
                    caller_id=caller_id,
                    caller_phone=caller_phone,
                ),
                now=self.clock.now(),
            )
            if state is not None:
                await repos.records.update(record.number, {"state": state}, now=self.clock.now())
        return record.number


async def test_a_phone_typed_as_people_type_it_is_stored_in_e164() -> None:
    r = Rig()
    record = await r.incidents().open(short_description="No Wi-Fi", caller_phone="(555) 123-0001")
    assert record.caller_phone == ALICE_PHONE


async def test_a_phone_that_is_not_one_is_refused_and_nothing_is_opened() -> None:
    r = Rig()
    with pytest.raises(InvalidPhone):
        await r.incidents().open(short_description="No Wi-Fi", caller_phone="not a phone")
    assert r.tables.records == []


async def test_a_caller_account_that_does_not_exist_is_refused_and_nothing_is_opened() -> None:
    r = Rig()
    with pytest.raises(UnknownCaller, match="no user 4242"):
        await r.incidents().open(short_description="No Wi-Fi", caller_id=4242)
    assert r.tables.records == []
    assert r.uow.rollbacks == 1


async def test_a_record_opened_for_an_account_is_named_after_it_and_starts_new() -> None:
    r = Rig()
    record = await r.incidents().open(short_description="  ", urgency=1, caller_id=ALICE)
    assert (record.caller_name, record.state, record.short_description) == (
        "Alice",
        "New",
        "(no description)",
    )
    # Priority follows urgency (high urgency, medium impact).
    assert (record.urgency, record.priority) == (1, 2)
    assert record.opened_at == r.clock.now()


async def test_a_caller_with_an_account_and_a_phone_sees_records_naming_either() -> None:
    r = Rig()
    by_account = await r.stored(caller_id=ALICE)
    by_phone = await r.stored(caller_phone=ALICE_PHONE)
    await r.stored(caller_phone=BOB_PHONE)
    page = await r.incidents().page(caller_id=ALICE, caller_phone=ALICE_PHONE)
    assert [rec.number for rec in page] == [by_phone, by_account]


async def test_a_caller_by_phone_alone_sees_only_records_naming_that_phone() -> None:
    r = Rig()
    await r.stored(caller_id=ALICE)
    by_phone = await r.stored(caller_phone=ALICE_PHONE)
    page = await r.incidents().page(caller_phone=ALICE_PHONE)
    assert [rec.number for rec in page] == [by_phone]


async def test_open_only_leaves_resolved_and_closed_records_out() -> None:
    r = Rig()
    still_open = await r.stored(state="On Hold")
    await r.stored(state="Resolved")
    await r.stored(state="Closed")
    assert [rec.number for rec in await r.incidents().page(open_only=True)] == [still_open]


async def test_pages_run_newest_first_from_the_offset() -> None:
    r = Rig()
    numbers = [await r.stored(f"Report {i}") for i in range(5)]
    page = await r.incidents().page(limit=2, offset=1)
    assert [rec.number for rec in page] == [numbers[3], numbers[2]]
    assert await r.incidents().page(limit=2, offset=5) == []


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (-1, 0), (10, -1)])
async def test_a_page_of_nothing_or_before_the_first_is_refused(limit: int, offset: int) -> None:
    r = Rig()
    await r.stored()
    with pytest.raises(InvalidPage):
        await r.incidents().page(limit=limit, offset=offset)
    assert r.uow.commits == 1  # only the arranging one: the store was not asked


async def test_a_change_a_record_cannot_take_is_refused_and_nothing_changes() -> None:
    r = Rig()
    number = await r.stored()
    before = r.tables.record(number)
    with pytest.raises(InvalidRecord, match="state must be one of"):
        await r.incidents().change(number, {"state": "Lost"})
    with pytest.raises(InvalidRecord, match="cannot update field"):
        await r.incidents().change(number, {"caller_id": 99})
    assert r.tables.record(number) == before


async def test_a_change_of_urgency_changes_the_priority_and_the_update_time() -> None:
    r = Rig()
    number = await r.stored()
    r.clock.advance(60)
    changed = await r.incidents().change(number.lower(), {"urgency": "High"})
    assert changed is not None
    assert (changed.urgency, changed.priority, changed.updated_at) == (1, 2, r.clock.now())


async def test_changing_or_commenting_on_a_record_that_does_not_exist_answers_none() -> None:
    r = Rig()
    assert await r.incidents().change("INC0099999", {"state": "Closed"}) is None
    assert await r.incidents().comment("INC0099999", author="Desk", body="hi") is None


async def test_an_internal_comment_is_kept_but_not_shown_to_the_caller() -> None:
    r = Rig()
    number = await r.stored()
    await r.incidents().comment(number, author="Dana", body="Ordered toner", public=False)
    record = await r.incidents().comment(number, author="Dana", body="On its way")
    assert record is not None
    assert [c.body for c in record.comments] == ["Ordered toner", "On its way"]
    assert [c["body"] for c in record.as_dict()["comments"]] == ["On its way"]


async def test_a_link_opens_its_record_whoever_holds_it() -> None:
    r = Rig()
    number = await r.stored(caller_id=ALICE)
    token = r.incidents().url_for(number).rsplit("/", 1)[1]
    found = await r.incidents().linked(token)
    assert found is not None
    assert found.number == number
    # A page view only reads: on SQLite it must not queue for the write lock.
    assert (r.uow.reads, r.uow.commits) == (1, 1)


async def test_a_link_we_did_not_make_is_refused_before_the_store_is_asked() -> None:
    r = Rig()
    number = await r.stored()
    with pytest.raises(InvalidLink):
        await r.incidents().linked(f"{number}.forged")
    assert r.uow.commits == 1


async def test_a_link_to_a_record_that_is_gone_answers_none() -> None:
    r = Rig()
    assert await r.incidents().linked("INC0010042.2400100CNI") is None
