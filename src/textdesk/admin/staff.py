"""Listing and removing agents and queues, so that no texter is left hanging.

An agent with a chat, or an offer, is not removed; nor is a queue that chats wait or
are active in, nor the default queue.  What they leave in history stays readable
(adapters/db/staff_removal.py says how).
"""

from __future__ import annotations

from textdesk.admin.agents import AgentError
from textdesk.ports import (
    AgentFootprint,
    AgentRow,
    Clock,
    ListedAgent,
    OpenChat,
    QueueFootprint,
    QueueRow,
    ReadingUnitOfWork,
    StaffRepositories,
)


class StillInUse(AgentError):
    """Refused: chats are not over; ``chats`` says which."""

    def __init__(self, what: str, chats: list[OpenChat]) -> None:
        listed = ", ".join(f"{c.phone} ({c.status})" for c in chats)
        super().__init__(
            f"{what} still has {len(chats)} chat(s) not over: {listed}; end or transfer "
            "them in the Workspace first"
        )
        self.chats = chats


def refuse_default(queue: QueueRow) -> None:
    """:class:`AgentError` for the default queue, saying how to choose another."""
    if queue.is_default:
        raise AgentError(
            f"{queue.name} is the default queue (transfers without a queue go there); "
            "make another the default first: textdesk queues add NAME --default "
            "(with that queue's --timezone and --hours, which it sets again)"
        )


class Staff:
    """Lists agents, and removes agents and queues once no chat needs them."""

    def __init__(self, uow: ReadingUnitOfWork[StaffRepositories], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def list_agents(self) -> list[ListedAgent]:
        """Agents (removed ones left out) by name, with their queues."""
        async with self._uow.read() as repos:
            return await repos.staff.agents_with_queues()

    async def find_agent(self, *, email: str) -> AgentRow:
        async with self._uow.read() as repos:
            found = await repos.staff.agent_by_email(email.strip())
        if found is None:
            raise AgentError(f"no agent signs in as {email.strip()}")
        return found

    async def agent_footprint(self, *, agent: AgentRow) -> AgentFootprint:
        async with self._uow.read() as repos:
            return await repos.staff.agent_footprint(agent.id)

    async def remove_agent(self, *, agent: AgentRow) -> None:
        """Sign the agent out everywhere, take them out of their queues, and keep their
        name on the chats they handled; :class:`StillInUse` while a chat is theirs or
        offered to them."""
        async with self._uow.begin() as repos:
            held = await repos.staff.remove_agent(agent.id, self._clock.now())
            if held:
                raise StillInUse(agent.email, held)  # rolls the removal back

    async def find_queue(self, *, name: str) -> QueueRow:
        async with self._uow.read() as repos:
            found = await repos.staff.queue_by_name(name)
        if found is None:
            raise AgentError(f"no queue named {name!r}")
        return found

    async def queue_footprint(self, *, queue: QueueRow) -> QueueFootprint:
        async with self._uow.read() as repos:
            return await repos.staff.queue_footprint(queue.id)

    async def remove_queue(self, *, queue: QueueRow) -> None:
        """Close the queue for good, its ended chats kept in it; refused for the default
        queue and, with :class:`StillInUse`, while chats wait or are active in it."""
        async with self._uow.begin() as repos:
            current = await repos.staff.queue_by_id(queue.id)
            if current is None:
                raise AgentError(f"no queue named {queue.name!r}")
            refuse_default(current)
            held = await repos.staff.remove_queue(queue.id, queue.name, self._clock.now())
            if held:
                raise StillInUse(f"queue {queue.name}", held)  # rolls the removal back
