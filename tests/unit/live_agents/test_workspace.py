"""The Workspace's pages on an in-memory read model: one connection each, what is read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from textdesk.domain.records import Record, new_record
from textdesk.live_agents.remote_texters import RemoteTexters
from textdesk.live_agents.workspace import Timing, Workspace
from textdesk.ports import AgentRow, Backlog, ConversationHead, QueueRow, TexterProfile
from textdesk.testing.clock import FixedClock
from textdesk.testing.desk import FakeWorkspacePage, FakeWorkspaceReads
from textdesk.testing.ops import FixedBacklog
from textdesk.testing.tables import FakeUnitOfWork
from textdesk.topic_tools.script_world import MemoryRecords

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CID = 7
DANA = AgentRow(1, "Dana Agent", "dana@example.com", "agent", "available", 3, "x")
LEE = AgentRow(2, "Lee Colleague", "lee@example.com", "agent", "available", 3, "x")


class Signer:
    def url_for(self, key: str, /) -> str:
        return f"https://desk.example/{key}"


def rig(
    visible: set[int] | None = None,
    backlog: Backlog | None = None,
    remote: RemoteTexters | None = None,
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
        remote=remote,
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


class Profiles:
    """``ports.TexterProfiles``: Alice's sys_user profile, in memory."""

    def profile(self, phone: str) -> TexterProfile | None:
        if phone != "+15551230001":
            return None
        return TexterProfile(
            phone, "Alice Example", "alice@example.com", account="a1", link="https://i/u/a1"
        )

    def settled(self, phone: str) -> bool:
        return True

    async def look_up(self, phones: Sequence[str]) -> None:
        raise AssertionError("a page never looks texters up on the instance")


class InstanceRecords(MemoryRecords):
    """A record store on another service: says whether a transaction was open when asked."""

    remote = True

    def __init__(self) -> None:
        super().__init__()
        self.asked_during: list[int] = []  # the page's commits so far, at each call
        self.uow: FakeUnitOfWork[FakeWorkspacePage, FakeWorkspacePage] | None = None

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        assert self.uow is not None
        self.asked_during.append(self.uow.commits)
        return await super().open_records_of(user_id=user_id, phone=phone, limit=limit)


class Forms:
    def url_of(self, record: Record) -> str | None:
        return f"https://i/form/{record.number}"


async def test_a_texter_kept_on_the_instance_is_shown_from_there_after_the_transaction() -> None:
    """Profile from memory; records from the store once the page's reads have committed."""
    records = InstanceRecords()
    records.add(
        new_record(short_description="VPN drops", caller_id=None, caller_phone="+15551230001"),
        now=NOW,
    )
    workspace, uow, _ = rig(remote=RemoteTexters(Profiles(), records, Forms()))
    records.uow = uow
    screen = await workspace.conversation(DANA, CID)
    assert screen.view is not None
    profile = screen.view.profile
    assert (profile.name, profile.email, profile.link) == (
        "Alice Example",
        "alice@example.com",
        "https://i/u/a1",
    )
    assert not profile.is_guest
    assert [(r.number, r.url) for r in screen.view.records] == [
        ("INC0010001", "https://i/form/INC0010001")
    ]
    live = await workspace.live(DANA, CID)
    assert live is not None
    assert live[0].profile.link == "https://i/u/a1"
    assert records.asked_during == [1, 2]  # each after its page's transaction


async def test_an_instance_that_does_not_answer_leaves_the_page_as_read() -> None:
    class Down(InstanceRecords):
        async def open_records_of(
            self, *, user_id: int | None, phone: str, limit: int
        ) -> list[Record]:
            raise TimeoutError("the instance is slow")

    workspace, _, _ = rig(remote=RemoteTexters(Profiles(), Down(), Forms()))
    screen = await workspace.conversation(DANA, CID)
    assert screen.view is not None
    assert screen.view.profile.name == "Alice Example"
    assert screen.view.records == []
