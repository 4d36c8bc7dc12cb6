"""Trying a draft as a texter: the real engine, a scratch copy of their records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.domain.agent.engine import Engine
from textdesk.domain.agent.messages import Texter
from textdesk.domain.records import Record, new_record
from textdesk.domain.topics.schema import TopicSet
from textdesk.testing.clock import FixedClock
from textdesk.testing.topics import fake_topics
from textdesk.topic_tools.script_world import MemoryRecords
from textdesk.topics.library import TopicLibrary
from textdesk.topics.live import FixedTopics
from textdesk.topics.trial import TopicTrial

ANA = Texter("+15551230001", user_id=7, name="Ana")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DRAFT = """\
title: Follow up
keywords: [follow]
nodes:
  - id: pick
    type: dynamic_choice
    prompt: Which one?
    source: my_open_incidents
    var: incident
    empty_text: You have no open incidents.
  - type: card
    record: incident
    fields: [number, short_description, state]
  - type: add_comment
    record: incident
    text: Any news? 🙂
  - type: end
    message: Asked for news on {{ vars.incident.value }}.
"""


def ana_records() -> list[Record]:
    """Ana's two records newest first, as the record port lists them."""
    store = MemoryRecords({7: "Ana"})
    store.add(
        new_record(short_description="VPN drops", caller_id=7, caller_phone=ANA.phone), now=NOW
    )
    store.add(
        new_record(short_description="Screen flickers", caller_id=7, caller_phone=ANA.phone),
        now=NOW + timedelta(minutes=1),
    )
    return list(reversed(store.records))


async def test_a_draft_is_played_on_a_scratch_copy_of_the_texters_records() -> None:
    library = TopicLibrary(fake_topics(), FixedClock())
    theirs = ana_records()
    asked: list[str] = []

    async def texter_of(phone: str) -> Texter:
        asked.append(phone)
        return ANA

    async def records_of(texter: Texter) -> list[Record]:
        return theirs

    trial = TopicTrial(
        library=library,
        engines=FixedTopics(Engine(TopicSet())),
        texter_of=texter_of,
        records_of=records_of,
        clock=FixedClock(NOW),
    )
    run = await trial.run("follow", DRAFT, ANA.phone, ["hi", "follow", "2"])
    assert run.errors == []
    assert asked == [ANA.phone]
    assert (run.texter, run.records) == (ANA, 2)
    listed = run.steps[1]
    assert "Which one?" in listed.replies[-1].body
    # Numbered newest first, as the desk lists them: "2" picks the same record live.
    assert "1. INC0010002 Screen flickers\n2. INC0010001 VPN drops" in listed.replies[-1].body
    last = run.steps[2]
    bodies = "\n".join(r.body for r in last.replies)
    assert "VPN drops" in bodies
    assert "Asked for news on INC0010001." in bodies
    assert last.vars["incident"]["value"] == "INC0010001"
    # The texter's own records are as they were: the comment stayed in the copy.
    assert [r.comments for r in theirs] == [(), ()]
    assert all(r.encoding in ("GSM-7", "UCS-2") and r.segments >= 1 for r in last.replies)
    # Nothing of the draft was saved.
    assert await library.summaries() == []


async def test_a_draft_with_errors_is_not_played_and_says_where() -> None:
    library = TopicLibrary(fake_topics(), FixedClock())

    async def texter_of(phone: str) -> Texter:
        return ANA

    async def records_of(texter: Texter) -> list[Record]:
        return []

    trial = TopicTrial(
        library=library,
        engines=FixedTopics(Engine(TopicSet())),
        texter_of=texter_of,
        records_of=records_of,
        clock=FixedClock(NOW),
    )
    run = await trial.run(
        "follow", DRAFT.replace("dynamic_choice", "dynamic_choise"), ANA.phone, ["follow"]
    )
    assert run.steps == []
    assert (run.errors[0].line, run.errors[0].field) == (4, "nodes[0]")
