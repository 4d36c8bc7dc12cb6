"""The published topics a process serves: reloaded on a publish; a conversation in the
middle of a topic finishes on the version it started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.domain.agent.messages import InboundText, Texter
from textdesk.domain.agent.state import ConversationState
from textdesk.testing.clock import FixedClock
from textdesk.testing.topics import TopicTables, fake_topics
from textdesk.topic_tools.topic_files import Document
from textdesk.topics.library import TopicLibrary
from textdesk.topics.live import LiveTopics

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ANA = Texter("+15551230001", user_id=7, name="Ana")
HOURS = """\
title: Opening hours
keywords: [hours]
nodes:
  - type: text
    prompt: Which office?
    var: office
  - type: end
    message: "{{ vars.office }} is open 8-18."
"""


def reply(engine_step: object) -> str:
    return "\n".join(r.body for r in engine_step.replies)  # type: ignore[attr-defined]


async def test_a_publish_reaches_new_texters_and_one_mid_topic_finishes_on_its_version() -> None:
    tables = TopicTables()
    uow = fake_topics(tables)
    library = TopicLibrary(uow, FixedClock())
    live = LiveTopics(uow, idle_close=timedelta(hours=2))
    await library.import_documents(
        [Document("hours.yaml", HOURS)], by="test", publish_changed=False
    )
    assert await live.refresh() == 1
    assert await live.refresh() == 0  # nothing changed since
    assert live.engine.topics.versions == {"hours": 1}

    engine = await live.engine_for(None)
    step = engine.handle(None, InboundText("hours"), ANA, NOW)
    assert "Which office?" in reply(step)
    started = step.state.to_dict()
    assert started["versions"] == {"hours": 1}

    await library.save_draft(
        "hours", HOURS.replace("Which office?", "Which site?").replace("8-18", "9-17"), by="Ada"
    )
    await library.publish("hours", by="Ada")
    assert await live.refresh() == 1
    # A new texter gets version 2 ...
    fresh = (await live.engine_for(None)).handle(None, InboundText("hours"), ANA, NOW)
    assert "Which site?" in reply(fresh)
    # ... and the one who was asked by version 1 finishes on it.
    pinned = await live.engine_for(started)
    done = pinned.handle(ConversationState.from_dict(started), InboundText("Leeds"), ANA, NOW)
    assert "Leeds is open 8-18." in reply(done)
    assert await live.engine_for(started) is pinned  # built once, then kept


async def test_an_unpublished_topic_is_no_longer_offered() -> None:
    tables = TopicTables()
    uow = fake_topics(tables)
    library = TopicLibrary(uow, FixedClock())
    live = LiveTopics(uow, idle_close=timedelta(hours=2))
    await library.import_documents([Document("hours.yaml", HOURS)], by="t", publish_changed=False)
    await live.refresh()
    assert live.engine.topics.get("hours") is not None
    await library.unpublish("hours", by="Ada")
    assert await live.refresh() == 1
    assert live.engine.topics.get("hours") is None
