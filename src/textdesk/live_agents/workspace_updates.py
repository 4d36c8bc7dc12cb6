"""Telling the open Workspaces what changed: the one publisher of workspace events.

Events are hints ("conversation 12 changed"); each page reads again what it shows,
through its own authorised routes.  They are published after the transaction that
made the change has committed, so a page that reads at once sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from textdesk.ports import AgentEvent, EventBus, WorkspaceEvent

# What an agent's action at the desk changed: the holder, the transcript, or the chat.
AgentChange = Literal["queue", "conversation", "ended"]


class WorkspaceUpdates:
    """Publishes workspace events on the process's bus, one method per kind of change."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    def texts_answered(self, conversation_ids: Iterable[int]) -> None:
        """Texters' texts (and the bot's replies) were added to these conversations.

        Called from the group commit's callback, which is synchronous.
        """
        for conversation_id in conversation_ids:
            self._bus.publish_nowait(WorkspaceEvent("conversation", conversation_id))

    async def status_moved(self, conversation_id: int) -> None:
        """A sent text of the conversation has a new delivery status."""
        await self._bus.publish(WorkspaceEvent("status", conversation_id))

    async def agent_acted(self, change: AgentChange, conversation_id: int, agent_id: int) -> None:
        """An agent's action at the desk (accept, reply, transfer, end) has committed."""
        await self._bus.publish(AgentEvent(change, conversation_id, agent_id))

    async def publish(self, event: WorkspaceEvent) -> None:
        """One event that a pass of the assigner or reconciler built."""
        await self._bus.publish(event)
