"""The effect runner: what a topic's records, media and transfers do, on in-memory ports.

The same runner answers production (SQL store, prefetched media, live agents) and
``textdesk topics test`` (the script world); here it runs on the world's in-memory
record store and small fakes, with no database.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.domain.agent.chat_helpers import topic, topic_set
from textdesk.channel.effects import EffectRunner, Settled, settle
from textdesk.domain.agent.engine import Engine
from textdesk.domain.agent.messages import (
    AddComment,
    CreateRecord,
    Effect,
    EffectResult,
    FetchMedia,
    GetRecord,
    InboundText,
    MediaRef,
    QueryRecords,
    RefusedMedia,
    Texter,
    Transfer,
    UpdateRecord,
)
from textdesk.domain.records import NewRecord, Record, new_record
from textdesk.ports import Attachment, EffectScope
from textdesk.testing.effects import FixedMedia, LinkedViews, RecordingTransferDesk
from textdesk.topic_tools.script_world import MemoryRecords

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANA = Texter("+15551230001", user_id=7, name="Ana")
GUEST = Texter("+15559870000")
BOB_PHONE = "+15550001111"


@dataclass
class World:
    texter: Texter = ANA
    records: MemoryRecords = field(default_factory=lambda: MemoryRecords({7: "Ana"}))
    media: FixedMedia = field(default_factory=FixedMedia)
    agents: RecordingTransferDesk = field(default_factory=RecordingTransferDesk)

    def scope(self) -> EffectScope:
        return EffectScope(
            texter=self.texter,
            now=NOW,
            records=self.records,
            media=self.media,
            agents=self.agents,
        )

    def opened(self, caller_id: int | None, caller_phone: str | None, **fields: Any) -> Record:
        fields.setdefault("short_description", "VPN drops")
        record = new_record(caller_id=caller_id, caller_phone=caller_phone, **fields)
        return self.records.add(record, now=NOW)

    def run(self, effect: Effect, **limits: int) -> EffectResult:
        runner = EffectRunner(views=LinkedViews(), **limits)
        return asyncio.run(runner.run(effect, self.scope()))


# --- whose records ------------------------------------------------------------------


def test_a_texter_gets_their_own_record_by_number() -> None:
    """GetRecord of a record naming the texter's account gives it, in any case."""
    world = World()
    world.opened(7, None)
    result = world.run(GetRecord("inc0010001"))
    assert result.ok
    assert (result.value["number"], result.value["caller"]) == ("INC0010001", "Ana")
    assert result.value["url"] == "https://desk.example/r/INC0010001"


def test_a_record_opened_for_the_texters_phone_is_theirs_too() -> None:
    """A record with only the texter's phone (opened through the API) is theirs."""
    world = World()
    world.opened(None, ANA.phone)
    assert world.run(GetRecord("INC0010001")).ok


def test_someone_elses_record_is_as_good_as_absent() -> None:
    """Another caller's record answers not_found, exactly like a missing one."""
    world = World()
    world.opened(8, BOB_PHONE)
    assert world.run(GetRecord("INC0010001")) == EffectResult(ok=False, error="not_found")
    assert world.run(GetRecord("INC0099999")) == EffectResult(ok=False, error="not_found")


def test_a_guest_sees_only_the_records_of_their_phone() -> None:
    """With no account, only the phone links a record to the texter."""
    world = World(texter=GUEST)
    world.opened(7, None)
    world.opened(None, GUEST.phone)
    assert not world.run(GetRecord("INC0010001")).ok
    assert world.run(GetRecord("INC0010002")).ok


def test_open_records_are_the_texters_only_newest_first() -> None:
    """my_open_incidents: the texter's open records, newest first; closed and others' left out."""
    world = World()
    world.opened(7, None, short_description="First")
    world.opened(8, BOB_PHONE, short_description="Bob's")
    resolved = world.opened(None, ANA.phone, short_description="Done")
    world.records.records[2] = dataclasses.replace(resolved, state="Resolved")
    world.opened(None, ANA.phone, short_description="Latest")
    found = world.run(QueryRecords("my_open_incidents")).value
    assert [r["short_description"] for r in found] == ["Latest", "First"]


def test_open_records_list_at_most_the_fifty_newest() -> None:
    """A texter with more open records is offered the 50 newest, as the SQL store lists."""
    world = World()
    for n in range(55):
        world.opened(7, None, short_description=f"Issue {n}")
    found = world.run(QueryRecords("my_open_incidents")).value
    assert len(found) == 50
    assert (found[0]["short_description"], found[-1]["short_description"]) == (
        "Issue 54",
        "Issue 5",
    )


def test_an_unknown_record_source_is_an_error_naming_it() -> None:
    """A Dynamic Choice naming no known query gets unknown_source:<name>."""
    result = World().run(QueryRecords("all_incidents"))
    assert result == EffectResult(ok=False, error="unknown_source:all_incidents")


# --- opening, changing, commenting --------------------------------------------------


def test_a_created_record_starts_new_in_the_texters_name() -> None:
    """CreateRecord: state New, priority from urgency, the texter as caller, photos kept."""
    world = World()
    fields = {"short_description": "Printer jam", "urgency": "1", "caller_id": 8}
    result = world.run(CreateRecord(fields, ("att/1", "att/2")))
    assert result.ok
    value = result.value
    assert (value["number"], value["state"], value["priority"]) == (
        "INC0010001",
        "New",
        "2 - High",
    )
    assert (value["caller"], value["caller_phone"], value["attachments"]) == ("Ana", ANA.phone, 2)
    [stored] = world.records.records
    assert (stored.caller_id, stored.opened_at) == (7, NOW)


def test_a_record_with_a_bad_urgency_is_not_created() -> None:
    """The texter-safe reason comes back as the error, and nothing is stored."""
    world = World()
    result = world.run(CreateRecord({"short_description": "x", "urgency": "asap"}))
    assert not result.ok
    assert "urgency" in str(result.error)
    assert world.records.records == []


def test_a_texter_updates_their_record_and_not_someone_elses() -> None:
    """UpdateRecord changes the texter's record; another's is not_found and untouched."""
    world = World()
    world.opened(7, None)
    world.opened(8, BOB_PHONE)
    updated = world.run(UpdateRecord("INC0010001", {"state": "Resolved", "urgency": 1}))
    assert (updated.value["state"], updated.value["priority"]) == ("Resolved", "2 - High")
    refused = world.run(UpdateRecord("INC0010002", {"state": "Resolved"}))
    assert refused == EffectResult(ok=False, error="not_found")
    assert world.records.records[1].state == "New"


def test_an_update_a_record_cannot_take_says_why() -> None:
    """A field that cannot be changed gives the validation message as the error."""
    world = World()
    world.opened(7, None)
    result = world.run(UpdateRecord("INC0010001", {"caller_phone": "+1"}))
    assert (result.ok, result.error) == (False, "cannot update field(s): caller_phone")


def test_a_comment_is_signed_with_the_texters_name_or_number() -> None:
    """An account's comment carries their name; a guest's their phone number."""
    world = World()
    world.opened(7, None)
    commented = world.run(AddComment("INC0010001", "Still broken"))
    assert commented.value["comments"][-1]["author"] == "Ana"
    assert commented.value["comments"][-1]["body"] == "Still broken"
    guest = World(texter=GUEST)
    guest.opened(None, GUEST.phone)
    assert guest.run(AddComment("INC0010001", "Hi")).value["comments"][-1]["author"] == (
        GUEST.phone
    )


def test_nobody_comments_on_someone_elses_record() -> None:
    """AddComment on another caller's record is not_found and adds nothing."""
    world = World()
    world.opened(8, BOB_PHONE)
    assert world.run(AddComment("INC0010001", "Mine?")).error == "not_found"
    assert world.records.records[0].comments == ()


# --- media --------------------------------------------------------------------------


def test_kept_images_come_back_as_keys_with_the_refused_named() -> None:
    """Kept keys are the value; the rest are refused with the cap they passed."""
    world = World(
        media=FixedMedia(
            (
                Attachment("image/jpeg", key="att/1"),
                Attachment("image/png", error="too_large"),
                Attachment("application/pdf", error="not_image"),
            )
        )
    )
    result = world.run(FetchMedia((MediaRef("u", "image/jpeg"),)), max_media_bytes=5_000_000)
    assert result.value == ["att/1"]
    assert result.refused == (
        RefusedMedia("image/png", "too_large", 5_000_000),
        RefusedMedia("application/pdf", "not_image", None),
    )


def test_when_no_image_is_kept_the_first_refusal_is_the_error_with_its_cap() -> None:
    """too_large tells the byte cap, too_many_pixels the pixel cap, others nothing."""
    limits = {"max_media_bytes": 100, "max_media_pixels": 2000}
    photo = (MediaRef("u", "image/jpeg"),)
    big = World(media=FixedMedia((Attachment("image/jpeg", error="too_large"),)))
    assert big.run(FetchMedia(photo), **limits).value == {"max_bytes": 100}
    wide = World(media=FixedMedia((Attachment("image/jpeg", error="too_many_pixels"),)))
    assert wide.run(FetchMedia(photo), **limits).value == {"max_pixels": 2000}
    lost = World(media=FixedMedia((Attachment("image/jpeg", error="fetch_failed"),)))
    assert lost.run(FetchMedia(photo), **limits) == EffectResult(ok=False, error="fetch_failed")


# --- hand-off -----------------------------------------------------------------------


def test_a_transfer_asks_the_live_agent_desk_and_passes_its_answer_on() -> None:
    """The Transfer effect goes to the desk as is; its answer is the result."""
    world = World(agents=RecordingTransferDesk(status="out_of_hours"))
    result = world.run(Transfer(queue="Service desk", reason="topic"))
    assert result.value == {"status": "out_of_hours"}
    assert world.agents.asked == [Transfer(queue="Service desk", reason="topic")]


def test_an_effect_the_runner_does_not_know_is_unsupported() -> None:
    """An Effect subclass with no meaning here is refused by name, not run."""

    @dataclass(frozen=True)
    class Teleport(Effect):
        pass

    assert World().run(Teleport()) == EffectResult(ok=False, error="unsupported:Teleport")


# --- settling a step ----------------------------------------------------------------


class CountingRecords(MemoryRecords):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    async def get(self, number: str) -> Record | None:
        self.gets += 1
        return await super().get(number)


def _settle(world: World, topics: Any, text: str) -> Any:
    engine = Engine(topics)

    async def go() -> Any:
        runner = EffectRunner(views=LinkedViews())
        first = engine.handle(None, InboundText("hi"), world.texter, NOW)
        rested = (await settle(engine, first, runner, world.scope())).step
        step = engine.handle(rested.state, InboundText(text), world.texter, NOW)
        return (await settle(engine, step, runner, world.scope())).step

    return asyncio.run(go())


def test_settling_runs_each_effect_and_keeps_every_reply_in_order() -> None:
    """A topic that opens a record and shows its card says both, in order, with no effect left."""
    world = World()
    topics = topic_set(
        topic(
            "report",
            {"type": "message", "text": "Opening it"},
            {
                "type": "create_record",
                "table": "incident",
                "fields": {"short_description": "Printer jam", "urgency": 2},
                "var": "incident",
            },
            {"type": "card", "record": "incident"},
        )
    )
    step = _settle(world, topics, "1")
    assert step.effect is None
    said = "\n".join(r.body for r in step.replies)
    assert said.startswith("Opening it")
    assert said.index("Opening it") < said.index("Number: INC0010001")
    assert "Short description: Printer jam" in said


def test_a_topic_looping_through_effects_stops_after_twenty_as_in_production() -> None:
    """Scripts and the desk stop a looping topic at the same point: 20 effects."""
    world = World(records=CountingRecords())
    topics = topic_set(
        topic(
            "t",
            {"id": "a", "type": "card", "record": "{{ 'INC1' }}"},
            {"type": "goto", "goto": "a"},
        )
    )
    with pytest.raises(RuntimeError, match="loops"):
        _settle(world, topics, "1")
    assert isinstance(world.records, CountingRecords)
    assert world.records.gets == 20


def test_settling_stops_before_a_remote_effect_with_the_replies_said_so_far() -> None:
    """A remote store's effect is left to run outside the transaction; resumed, the turn
    goes on with the same budget of effects."""
    world = World()
    topics = topic_set(
        topic(
            "report",
            {"type": "message", "text": "Opening it"},
            {
                "type": "create_record",
                "table": "incident",
                "fields": {"short_description": "Printer jam", "urgency": 2},
                "var": "incident",
            },
            {"type": "card", "record": "incident"},
        )
    )
    engine = Engine(topics)
    runner = EffectRunner(views=LinkedViews())

    def remote(effect: Effect) -> bool:
        return isinstance(effect, CreateRecord)

    async def go() -> tuple[Settled, Settled]:
        first = engine.handle(None, InboundText("hi"), world.texter, NOW)
        rested = (await settle(engine, first, runner, world.scope())).step
        step = engine.handle(rested.state, InboundText("1"), world.texter, NOW)
        stopped = await settle(engine, step, runner, world.scope(), stop_before=remote)
        assert stopped.step.effect is not None
        result = await runner.run(stopped.step.effect, world.scope())
        again = engine.resume(stopped.step.state, result, world.texter, NOW)
        return stopped, await settle(
            engine, again, runner, world.scope(), stop_before=remote, done=stopped.effects + 1
        )

    stopped, finished = asyncio.run(go())
    assert isinstance(stopped.step.effect, CreateRecord)
    assert [r.body for r in stopped.step.replies] == ["Opening it"]
    assert stopped.effects == 0  # none ran before it
    assert finished.step.effect is None
    assert "Number: INC0010001" in "\n".join(r.body for r in finished.step.replies)
    assert finished.effects == 1


def test_the_in_memory_store_numbers_records_as_the_sql_store_does() -> None:
    """INC0010001, INC0010002…: a script's expected numbers are production's."""
    store = MemoryRecords()
    new = NewRecord("a", "", None, 3, 4, None, "+1")
    assert [store.add(new, now=NOW).number for _ in range(2)] == ["INC0010001", "INC0010002"]
