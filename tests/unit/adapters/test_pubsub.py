"""Workspace events cross processes as the same JSON they always were (adapters/pubsub.py)."""

from __future__ import annotations

import asyncio
import json

import pytest

from textdesk.adapters.pubsub import MemoryBus, from_wire, to_wire
from textdesk.live_agents.workspace_updates import WorkspaceUpdates
from textdesk.ports import AgentEvent, WorkspaceEvent

# Every event textdesk publishes, beside the dict it was published as before it was typed.
PUBLISHED = [
    (WorkspaceEvent("conversation", 12), {"type": "conversation", "conversation_id": 12}),
    (WorkspaceEvent("status", 12), {"type": "status", "conversation_id": 12}),
    (WorkspaceEvent("queue", 12), {"type": "queue", "conversation_id": 12}),
    (WorkspaceEvent("ended", 12), {"type": "ended", "conversation_id": 12}),
    (
        AgentEvent("offer", 12, 3),
        {"type": "offer", "conversation_id": 12, "agent_id": 3},
    ),
    (
        AgentEvent("reminder", 12, None),
        {"type": "reminder", "conversation_id": 12, "agent_id": None},
    ),
    (
        AgentEvent("queue", 12, 3),
        {"type": "queue", "conversation_id": 12, "agent_id": 3},
    ),
    (
        AgentEvent("conversation", 12, 3),
        {"type": "conversation", "conversation_id": 12, "agent_id": 3},
    ),
    (
        AgentEvent("ended", 12, 3),
        {"type": "ended", "conversation_id": 12, "agent_id": 3},
    ),
]


@pytest.mark.parametrize(("event", "before"), PUBLISHED)
def test_an_event_goes_on_redis_as_the_json_other_processes_read(
    event: WorkspaceEvent, before: dict[str, object]
) -> None:
    """Byte for byte what ``json.dumps`` of the old dict gave, and read back as it was."""
    assert to_wire(event) == json.dumps(before)
    assert from_wire(json.dumps(before)) == event
    assert type(from_wire(to_wire(event))) is type(event)


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[1, 2]", b'{"type": "status"}', b'{"type": "status", "conversation_id": "12"}'],
)
def test_what_names_no_conversation_is_not_an_event(data: bytes) -> None:
    """Such a message is dropped, not delivered and not a failure of the listener."""
    assert from_wire(data) is None


def test_a_type_from_another_version_is_passed_on_as_it_came() -> None:
    """The browser, not this process, decides what to make of a type it added."""
    event = from_wire(b'{"type": "typing", "conversation_id": 5}')
    assert event is not None
    assert (event.type, event.conversation_id) == ("typing", 5)


async def test_answered_texts_reach_every_open_workspace_once_per_conversation() -> None:
    """What the inbound path publishes after its commit, as a subscriber receives it."""
    bus = MemoryBus()
    async with bus.subscribe() as first, bus.subscribe() as second:
        WorkspaceUpdates(bus).texts_answered({4, 9})
        for queue in (first, second):
            got = {queue.get_nowait(), queue.get_nowait()}
            assert got == {WorkspaceEvent("conversation", 4), WorkspaceEvent("conversation", 9)}
            assert queue.empty()


async def test_an_agents_action_names_the_agent_and_a_status_does_not() -> None:
    """Agent actions carry the acting agent; a status change is about the conversation only."""
    bus = MemoryBus()
    updates = WorkspaceUpdates(bus)
    async with bus.subscribe() as queue:
        await updates.agent_acted("ended", 7, 2)
        await updates.status_moved(7)
        got = [await asyncio.wait_for(queue.get(), 1) for _ in range(2)]
    assert [to_wire(e) for e in got] == [
        '{"type": "ended", "conversation_id": 7, "agent_id": 2}',
        '{"type": "status", "conversation_id": 7}',
    ]
