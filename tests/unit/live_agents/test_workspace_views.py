"""The Workspace's inbox, visibility and transfer targets, on an in-memory read model."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from textdesk.live_agents.workspace_views import inbox, transfer_targets, visible_among
from textdesk.ports import AgentRow, InboxRow, QueueRow
from textdesk.testing.desk import FakeWorkspaceReads

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
REMIND = timedelta(minutes=3)
DANA = AgentRow(1, "Dana Agent", "dana@example.com", "agent", "available", 3, "x")
LEE = AgentRow(2, "Lee Colleague", "lee@example.com", "agent", "available", 3, "x")
ADMIN = AgentRow(9, "Ada Admin", "ada@example.com", "admin", "available", 3, "x")


def handoff(conversation_id: int, status: str = "waiting", **extra: Any) -> InboxRow:
    row = InboxRow(
        conversation_id=conversation_id,
        queue_id=1,
        phone=f"+1555123{conversation_id:04d}",
        texter_name=None,
        queue_name="Service desk",
        status=status,
        reason="asked",
        note=None,
        requested_at=NOW - timedelta(minutes=10),
        offered_to=None,
        offered_name=None,
        agent_id=None,
        agent_name=None,
        last_texter_at=None,
        last_agent_at=None,
        preview=None,
    )
    return dataclasses.replace(row, **extra)


async def test_the_inbox_sorts_chats_into_waiting_mine_and_the_teams() -> None:
    """Waiting and offered chats wait; active ones are the agent's or a colleague's."""
    reads = FakeWorkspaceReads(
        members={1: {1}},
        handoffs=[
            handoff(10),
            handoff(11, "active", agent_id=1),
            handoff(12, "active", agent_id=2),
            handoff(13, "offered", offered_to=2),
        ],
    )
    box = await inbox(reads, DANA, now=NOW, remind_after=REMIND)
    assert [i.conversation_id for i in box.waiting] == [10, 13]
    assert [i.conversation_id for i in box.mine] == [11]
    assert [i.conversation_id for i in box.team] == [12]
    assert box.active_count == 1


async def test_an_offer_to_me_comes_first_among_the_waiting() -> None:
    """However long others have waited, the offer the agent must answer is on top."""
    reads = FakeWorkspaceReads(
        members={1: {1}},
        handoffs=[
            handoff(10),
            handoff(11, "offered", offered_to=2),
            handoff(12, "offered", offered_to=1),
        ],
    )
    box = await inbox(reads, DANA, now=NOW, remind_after=REMIND)
    assert [(i.conversation_id, i.offered_to_me) for i in box.waiting] == [
        (12, True),
        (10, False),
        (11, False),
    ]


async def test_an_agent_sees_the_open_chats_of_their_own_queues_and_an_admin_all() -> None:
    """The queue filter is the agent's memberships; an admin's inbox is not filtered."""
    rows = [handoff(10), dataclasses.replace(handoff(11), queue_id=2)]
    reads = FakeWorkspaceReads(members={1: {1}}, handoffs=rows)
    assert [
        i.conversation_id for i in (await inbox(reads, DANA, now=NOW, remind_after=REMIND)).waiting
    ] == [10]
    admin_reads = FakeWorkspaceReads(handoffs=rows)
    box = await inbox(admin_reads, ADMIN, now=NOW, remind_after=REMIND)
    assert [i.conversation_id for i in box.waiting] == [10, 11]
    assert [q[0] for q in admin_reads.queries] == ["open_handoffs"]  # no membership query


async def test_an_unanswered_text_is_flagged_once_it_waited_past_the_reminder() -> None:
    """The texter spoke last: waiting since then; past the reminder wait, flagged."""
    reads = FakeWorkspaceReads(
        members={1: {1}},
        handoffs=[
            handoff(
                10,
                "active",
                agent_id=1,
                last_agent_at=NOW - timedelta(minutes=5),
                last_texter_at=NOW - timedelta(minutes=4),
            ),
            handoff(11, "active", agent_id=1, last_texter_at=NOW - timedelta(minutes=1)),
            handoff(
                12,
                "active",
                agent_id=1,
                last_texter_at=NOW - timedelta(minutes=9),
                last_agent_at=NOW - timedelta(minutes=8),
            ),
        ],
    )
    mine = (await inbox(reads, DANA, now=NOW, remind_after=REMIND)).mine
    assert [(i.waiting_since, i.needs_reminder) for i in mine] == [
        (NOW - timedelta(minutes=4), True),
        (NOW - timedelta(minutes=1), False),
        (None, False),  # the agent answered last
    ]


async def test_a_waiting_texter_is_never_flagged_for_a_reminder() -> None:
    """Reminders are about chats an agent holds; the line has its own notices."""
    reads = FakeWorkspaceReads(
        members={1: {1}}, handoffs=[handoff(10, last_texter_at=NOW - timedelta(hours=1))]
    )
    [waiting] = (await inbox(reads, DANA, now=NOW, remind_after=REMIND)).waiting
    assert (waiting.waiting_since, waiting.needs_reminder) == (None, False)


async def test_visibility_of_no_conversations_asks_nothing() -> None:
    """An empty set is answered without a query; otherwise the read model decides."""
    reads = FakeWorkspaceReads(visible={5})
    assert await visible_among(reads, DANA, []) == set()
    assert reads.queries == []
    assert await visible_among(reads, DANA, [5, 6, 5]) == {5}


async def test_transfer_targets_show_hours_and_whether_colleagues_are_connected() -> None:
    """Not yourself; a colleague not seen within the grace is "not connected"."""
    seen_since = NOW - timedelta(seconds=45)
    reads = FakeWorkspaceReads(
        queue_rows=[
            QueueRow(1, "Billing", False, "Europe/Paris", {"mon": ["09:00", "17:00"]}),
            QueueRow(2, "Service desk", True, "UTC", None),
        ],
        agent_rows=[
            dataclasses.replace(DANA, last_seen_at=NOW),
            dataclasses.replace(LEE, last_seen_at=NOW - timedelta(minutes=5)),
            dataclasses.replace(ADMIN, presence="away", last_seen_at=NOW),
            AgentRow(4, "Kim Offline", "kim@example.com", "agent", "offline", 3, "x"),
        ],
    )
    queues, colleagues = await transfer_targets(reads, DANA, seen_since=seen_since)
    assert [(q.name, q.detail) for q in queues] == [
        ("Billing", "hours in Europe/Paris"),
        ("Service desk", "always open"),
    ]
    assert [(c.name, c.detail) for c in colleagues] == [
        ("Lee Colleague", "available, not connected"),
        ("Ada Admin", "away"),
        ("Kim Offline", "offline"),
    ]
