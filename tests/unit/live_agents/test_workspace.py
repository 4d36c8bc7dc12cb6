"""The Workspace's pages on an in-memory read model: one connection each, what is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.live_agents.workspace import Timing, Workspace
from textdesk.ports import AgentRow, Backlog, ConversationHead, QueueRow
from textdesk.testing.clock import FixedClock
from textdesk.testing.desk import FakeWorkspacePage, FakeWorkspaceReads
from textdesk.testing.ops import FixedBacklog
from textdesk.testing.tables import FakeUnitOfWork

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CID = 7
DANA = AgentRow(1, "Dana Agent", "dana@example.com", "agent", "available", 3, "x")
LEE = AgentRow(2, "Lee Colleague", "lee@example.com", "agent", "available", 3, "x")


class Signer:
    def url_for(self, key: str, /) -> str:
        return f"https://desk.example/{key}"


def rig(
    visible: set[int] | None = None, backlog: Backlog | None = None
) -> tuple[Workspace, FakeUnitOfWork[FakeWorkspacePage, FakeWorkspacePage], FakeWorkspaceReads]:
    reads = FakeWorkspaceReads(
        visible=visible,
        heads={
            CID: ConversationHead(
                CID, "+15551230001", "+15550100100", "bot", None, None, None, None
            )
        },
        queue_rows=[QueueRow(1, "Service desk", True, "UTC", None)],
        agent_rows=[DANA, LEE],
    )
    uow = FakeUnitOfWork(FakeWorkspacePage(views=reads), lambda page: page)
    workspace = Workspace(
        reads=uow,
        backlog=FixedBacklog(backlog or Backlog({}, None, 0, [])),
        clock=FixedClock(NOW),
        timing=Timing(
            remind_after=timedelta(minutes=3),
            presence_grace=timedelta(seconds=45),
            give_up_after=timedelta(hours=4),
        ),
        media=Signer(),
        record_links=Signer(),
    )
    return workspace, uow, reads


async def test_a_conversation_page_reads_everything_on_one_connection() -> None:
    """The view, the inbox and the transfer targets: one reading unit, in that order."""
    workspace, uow, reads = rig()
    screen = await workspace.conversation(DANA, CID)
    assert screen.view is not None
    assert screen.targets is not None
    assert [c.name for c in screen.targets.colleagues] == ["Lee Colleague"]
    assert uow.commits == 1
    names = [q for q, _ in reads.queries]
    assert names.index("conversation") < names.index("open_handoffs") < names.index("queues")


async def test_a_conversation_not_theirs_shows_the_inbox_but_no_targets() -> None:
    """The not-found page still has the agent's inbox; nobody's queues are listed."""
    workspace, _, reads = rig(visible=set())
    screen = await workspace.conversation(DANA, CID)
    assert (screen.view, screen.targets) == (None, None)
    assert "queues" not in [q for q, _ in reads.queries]
    assert await workspace.live(DANA, CID) is None
    assert await workspace.targets(DANA, CID) is None


async def test_an_event_is_for_an_agent_who_may_see_its_conversation() -> None:
    """Visible: yes; hidden: no; an agent removed meanwhile: None, the stream ends."""
    workspace, _, _ = rig()
    assert await workspace.may_see(DANA.id, CID) is True
    assert await workspace.may_see(99, CID) is None
    hidden, _, _ = rig(visible=set())
    assert await hidden.may_see(DANA.id, CID) is False


async def test_the_banner_says_when_the_oldest_waiting_text_is_given_up() -> None:
    """Queued an hour ago with a four-hour window: given up three hours from now."""
    queued = NOW - timedelta(hours=1)
    workspace, _, _ = rig(backlog=Backlog({"pending": 2}, queued, 1, []))
    banner = await workspace.banner()
    assert (banner.backlog.total, banner.give_up_at) == (2, queued + timedelta(hours=4))
