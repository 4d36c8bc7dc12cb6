"""Listing and removing agents and queues, so that no texter is left hanging.

An agent with a chat, or an offer, is not removed; nor is a queue that chats wait or
are active in, nor the default queue.  What they leave in history stays readable
(adapters/db/staff_removal.py says how).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import staff_removal
from textdesk.adapters.db.agents import AgentRow
from textdesk.admin.agents import AgentError
from textdesk.ports import Clock, QueueRow


class StillInUse(AgentError):
    """Refused: chats are not over; ``chats`` says which."""

    def __init__(self, what: str, chats: list[staff_removal.Open]) -> None:
        listed = ", ".join(f"{c.phone} ({c.status})" for c in chats)
        super().__init__(
            f"{what} still has {len(chats)} chat(s) not over: {listed}; end or transfer "
            "them in the Workspace first"
        )
        self.chats = chats


async def list_agents(*, db: AsyncEngine) -> list[staff_removal.ListedAgent]:
    """Agents (removed ones left out) by name, with their queues."""
    async with db.connect() as conn:
        return await staff_removal.list_agents_with_queues(conn)


async def find_agent(*, db: AsyncEngine, email: str) -> AgentRow:
    async with db.connect() as conn:
        found = await agent_store.agent_by_email(conn, email.strip())
    if found is None:
        raise AgentError(f"no agent signs in as {email.strip()}")
    return found


async def agent_footprint(*, db: AsyncEngine, agent: AgentRow) -> staff_removal.AgentFootprint:
    async with db.connect() as conn:
        return await staff_removal.agent_footprint(conn, agent.id)


async def remove_agent(*, db: AsyncEngine, clock: Clock, agent: AgentRow) -> None:
    """Sign the agent out everywhere, take them out of their queues, and keep their
    name on the chats they handled; :class:`StillInUse` while a chat is theirs or
    offered to them."""
    async with db.begin() as conn:
        held = await staff_removal.remove_agent(conn, agent.id, clock.now())
        if held:
            raise StillInUse(agent.email, held)  # rolls the removal back


async def find_queue(*, db: AsyncEngine, name: str) -> QueueRow:
    async with db.connect() as conn:
        found = await agent_store.queue_by_name(conn, name)
    if found is None:
        raise AgentError(f"no queue named {name!r}")
    return found


async def queue_footprint(*, db: AsyncEngine, queue: QueueRow) -> staff_removal.QueueFootprint:
    async with db.connect() as conn:
        return await staff_removal.queue_footprint(conn, queue.id)


def refuse_default(queue: QueueRow) -> None:
    """:class:`AgentError` for the default queue, saying how to choose another."""
    if queue.is_default:
        raise AgentError(
            f"{queue.name} is the default queue (transfers without a queue go there); "
            "make another the default first: textdesk queues add NAME --default "
            "(with that queue's --timezone and --hours, which it sets again)"
        )


async def remove_queue(*, db: AsyncEngine, clock: Clock, queue: QueueRow) -> None:
    """Close the queue for good, its ended chats kept in it; refused for the default
    queue and, with :class:`StillInUse`, while chats wait or are active in it."""
    async with db.begin() as conn:
        current = await agent_store.queue_by_id(conn, queue.id)
        if current is None:
            raise AgentError(f"no queue named {queue.name!r}")
        refuse_default(current)
        held = await staff_removal.remove_queue(conn, queue.id, queue.name, clock.now())
        if held:
            raise StillInUse(f"queue {queue.name}", held)  # rolls the removal back
