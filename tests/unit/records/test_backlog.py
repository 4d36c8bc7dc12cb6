"""Reports kept while the record store was down are made once it is back, and texted."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textdesk.domain.records import new_record
from textdesk.ports import PendingRecord
from textdesk.records.backlog import RecordBacklogLoop, wait_after
from textdesk.records.incidents import RecordViews
from textdesk.testing.clock import FixedClock
from textdesk.testing.record_backlog import BacklogTables, fake_record_backlog
from textdesk.testing.records import FakeRemoteRecords, NumberLinks

TEXTER = "+15551230001"
OURS = "+15550001111"


def pending(key: str = "textdesk-SM1-1", conversation_id: int | None = 7) -> PendingRecord:
    return PendingRecord(
        key=key,
        record=new_record(short_description="Printer jammed", caller_id=None, caller_phone=TEXTER),
        phone=TEXTER,
        number=OURS,
        conversation_id=conversation_id,
        message='Your report "{{ record.short_description }}" is {{ record.number }}.',
    )


def world() -> tuple[BacklogTables, FakeRemoteRecords, FixedClock, RecordBacklogLoop, list[int]]:
    tables = BacklogTables()
    store = FakeRemoteRecords()
    clock = FixedClock()
    said: list[int] = []
    loop = RecordBacklogLoop(
        uow=fake_record_backlog(tables),
        store=store,
        views=RecordViews(NumberLinks()),
        clock=clock,
        on_said=said.extend,
    )
    return tables, store, clock, loop, said


async def keep(tables: BacklogTables, clock: FixedClock, report: PendingRecord) -> None:
    async with fake_record_backlog(tables).begin() as repos:
        await repos.backlog.keep(report, clock.now())


async def test_a_kept_report_is_made_when_the_store_is_back_and_its_number_texted() -> None:
    tables, store, clock, loop, said = world()
    await keep(tables, clock, pending())
    store.down = True
    assert await loop.run_once() == 0
    assert store.records == []
    assert tables.outbox == []
    [kept] = tables.kept
    assert kept.made_at is None
    assert "does not answer" in (kept.last_error or "")
    # Not tried again before its time.
    clock.advance(10)
    assert await loop.run_once() == 0
    assert store.calls == 1
    store.down = False
    clock.advance(30)
    assert await loop.run_once() == 1
    [made] = store.records
    assert made.short_description == "Printer jammed"
    [text] = tables.outbox
    assert (text.to_phone, text.from_phone, text.kind) == (TEXTER, OURS, "reply")
    assert text.body == f'Your report "Printer jammed" is {made.number}.'
    assert text.conversation_id == 7
    # The Workspace's transcript shows the line, tied to the text that carries it.
    [line] = tables.transcript
    assert (line.conversation_id, line.author, line.body, line.outbox_id) == (
        7,
        "bot",
        text.body,
        text.id,
    )
    assert said == [7]
    assert tables.kept[0].record_number == made.number
    # Made: never tried again.
    clock.advance(3600)
    assert await loop.run_once() == 0
    assert len(store.records) == 1
    assert len(tables.outbox) == 1


async def test_a_try_whose_answer_was_lost_is_found_by_its_key_not_made_twice() -> None:
    tables, store, clock, loop, _ = world()
    report = pending()
    # The turn's own last try made it on the instance, but its answer never came.
    first = await store.create(replace(report.record, key=report.key), now=clock.now())
    await keep(tables, clock, report)
    assert await loop.run_once() == 1
    assert store.records == [first]
    assert first.number in tables.outbox[0].body


async def test_the_same_turn_kept_twice_is_one_report() -> None:
    tables, _, clock, loop, _ = world()
    await keep(tables, clock, pending())
    await keep(tables, clock, pending())
    assert len(tables.kept) == 1
    assert await loop.run_once() == 1
    assert len(tables.outbox) == 1


async def test_a_wording_that_does_not_render_still_texts_the_number() -> None:
    tables, store, clock, loop, _ = world()
    await keep(tables, clock, replace(pending(), message="{{ record.x("))
    assert await loop.run_once() == 1
    assert tables.outbox[0].body == f"Your report is logged as {store.records[0].number}."


def test_tries_are_spaced_out_to_a_quarter_of_an_hour() -> None:
    waits = [wait_after(n) for n in range(1, 8)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert waits[-1] == timedelta(minutes=15)
    assert wait_after(10_000) == timedelta(minutes=15)
