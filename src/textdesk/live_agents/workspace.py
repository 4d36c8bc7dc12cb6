"""What each page of the Agent Workspace reads, one connection per page.

A page is several read models at once (the inbox beside a conversation, the transfer
targets beside its transcript): each method here reads them all on one reading
connection (``ports.WorkspaceReadRepositories``), in the order the page needs them,
and stops at the first "not theirs to see".  The read models themselves are
``workspace_views``, ``conversation_list`` and ``conversation_view``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from textdesk.live_agents import conversation_list
from textdesk.live_agents.conversation_list import ConversationPage
from textdesk.live_agents.conversation_view import ConversationView, UrlFor, conversation_view
from textdesk.live_agents.remote_texters import RemoteTexters
from textdesk.live_agents.workspace_views import (
    Inbox,
    Target,
    inbox,
    transfer_targets,
    visible_among,
)
from textdesk.ports import (
    AgentRow,
    Backlog,
    Clock,
    OutboxBacklog,
    UnitOfWork,
    WorkspaceReadRepositories,
    WorkspaceReads,
)


@dataclass(frozen=True)
class Targets:
    """Where a chat can be handed: queues, and colleagues with their presence."""

    queues: list[Target]
    colleagues: list[Target]


@dataclass(frozen=True)
class ConversationScreen:
    """A conversation's page: None as ``view`` when it is not the agent's to see."""

    view: ConversationView | None
    inbox: Inbox
    targets: Targets | None


@dataclass(frozen=True)
class Banner:
    """The outbound banner: what waits to be sent, and when the oldest is given up."""

    backlog: Backlog
    give_up_at: datetime | None


@dataclass(frozen=True)
class Timing:
    """The desk's settings the pages read by."""

    remind_after: timedelta  # an unanswered text is flagged after this
    presence_grace: timedelta  # a colleague not seen for this long is "not connected"
    give_up_after: timedelta  # a waiting text is retried for this long


class Workspace:
    """The Workspace's pages; ``media`` and ``record_links`` sign what they link."""

    def __init__(
        self,
        *,
        reads: UnitOfWork[WorkspaceReadRepositories],
        backlog: OutboxBacklog,
        clock: Clock,
        timing: Timing,
        media: UrlFor,
        record_links: UrlFor,
        remote: RemoteTexters | None = None,
    ) -> None:
        self._reads = reads
        self._remote = remote
        self._backlog = backlog
        self._clock = clock
        self._timing = timing
        self._media = media
        self._record_links = record_links

    async def _inbox(self, reads: WorkspaceReads, agent: AgentRow) -> Inbox:
        return await inbox(
            reads, agent, now=self._clock.now(), remind_after=self._timing.remind_after
        )

    async def _targets(self, reads: WorkspaceReads, agent: AgentRow) -> Targets:
        seen_since = self._clock.now() - self._timing.presence_grace
        queues, colleagues = await transfer_targets(reads, agent, seen_since=seen_since)
        return Targets(queues, colleagues)

    async def _view(
        self, repositories: WorkspaceReadRepositories, agent: AgentRow, conversation_id: int
    ) -> ConversationView | None:
        return await conversation_view(
            repositories,
            agent,
            conversation_id,
            media=self._media,
            record_links=self._record_links,
        )

    async def inbox(self, agent: AgentRow) -> Inbox:
        """The agent's inbox, with reminders due after the configured wait."""
        async with self._reads.begin() as repositories:
            return await self._inbox(repositories.views, agent)

    async def listing(
        self,
        agent: AgentRow,
        *,
        state: conversation_list.State | None,
        search: str,
        page: int,
    ) -> tuple[ConversationPage, Inbox]:
        """One page of every conversation the agent may see, and the inbox beside it."""
        async with self._reads.begin() as repositories:
            found = await conversation_list.list_conversations(
                repositories.views, agent, state=state, search=search, page=page
            )
            return found, await self._inbox(repositories.views, agent)

    async def conversation(self, agent: AgentRow, conversation_id: int) -> ConversationScreen:
        """The conversation, the inbox, and (when it may be seen) the transfer targets."""
        async with self._reads.begin() as repositories:
            view = await self._view(repositories, agent, conversation_id)
            box = await self._inbox(repositories.views, agent)
            if view is None:
                return ConversationScreen(None, box, None)
            targets = await self._targets(repositories.views, agent)
        return ConversationScreen(await self._with_remote(view), box, targets)

    async def live(
        self, agent: AgentRow, conversation_id: int
    ) -> tuple[ConversationView, Targets] | None:
        """The conversation's live part and the targets; None when not theirs to see."""
        async with self._reads.begin() as repositories:
            view = await self._view(repositories, agent, conversation_id)
            if view is None:
                return None
            targets = await self._targets(repositories.views, agent)
        return await self._with_remote(view), targets

    async def _with_remote(self, view: ConversationView) -> ConversationView:
        """What another service keeps of the texter, read once the transaction is over."""
        return view if self._remote is None else await self._remote.add_to(view)

    async def targets(self, agent: AgentRow, conversation_id: int) -> Targets | None:
        """The transfer targets as they stand now; None when not theirs to see."""
        async with self._reads.begin() as repositories:
            if conversation_id not in await visible_among(
                repositories.views, agent, [conversation_id]
            ):
                return None
            return await self._targets(repositories.views, agent)

    async def may_see(self, agent_id: int, conversation_id: int) -> bool | None:
        """Whether the agent may see the conversation; None when the agent is gone."""
        async with self._reads.begin() as repositories:
            agent = await repositories.views.agent(agent_id)
            if agent is None:
                return None
            return conversation_id in await visible_among(
                repositories.views, agent, [conversation_id]
            )

    async def banner(self) -> Banner:
        """What waits to be sent, for the banner every signed-in agent sees."""
        waiting = await self._backlog.read()
        return Banner(waiting, waiting.give_up_at(self._timing.give_up_after))
