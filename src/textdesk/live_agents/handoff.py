"""Handing a conversation from the virtual agent to a person, and back.

The bot's side (``LiveAgents.request``) decides from the queue's hours and its agents'
presence whether anyone can take the texter; the texter's side keeps the hand-off
current while they text.  Agents' actions live in ``live_agents/desk.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from textdesk.channel.answering import TextInContext
from textdesk.domain.agent.messages import EffectResult, Transfer
from textdesk.domain.live_agents import is_open, wait_minutes
from textdesk.ports import (
    AgentRepository,
    HandoffRepositories,
    TranscriptEntry,
)

log = logging.getLogger(__name__)


async def free_slots(
    agents: AgentRepository, queue_id: int, *, seen_since: datetime
) -> tuple[int, int]:
    """(agents on duty in the queue, chats they can still take).

    On duty: available, with a Workspace connected since ``seen_since``; an agent who
    closed the tab is no help to a texter, whatever their presence says.
    """
    loads = await agents.loads(queue_id, seen_since=seen_since)
    on_duty = [a for a in loads if a.on_duty]
    return len(on_duty), sum(max(0, a.capacity - a.active) for a in on_duty)


class LiveAgents:
    """The hand-off port of the virtual agent, on our own queues and agents.

    ``grace``: how long after their Workspace was last seen connected an agent still
    counts (``TEXTDESK_PRESENCE_GRACE_SECONDS``).  ``repositories``: those of a turn's
    transaction.
    """

    def __init__(
        self, *, grace: timedelta, repositories: Callable[[TextInContext], HandoffRepositories]
    ) -> None:
        self._grace = grace
        self._repositories = repositories

    async def request(self, turn: TextInContext, effect: Transfer) -> EffectResult:
        uow, now = self._repositories(turn), turn.now
        queue = await uow.agents.queue_by_name(effect.queue) if effect.queue else None
        if queue is None:
            if effect.queue:
                log.warning("transfer to unknown queue %r: using the default queue", effect.queue)
            queue = await uow.agents.default_queue()
        if queue is None:
            return EffectResult(value={"status": "unavailable"})
        if not is_open(queue.hours, queue.timezone, now):
            await self._note(
                uow, turn, now, f"Asked for an agent ({effect.reason}): {queue.name} is closed"
            )
            return EffectResult(value={"status": "out_of_hours"})
        present, slots = await free_slots(uow.agents, queue.id, seen_since=now - self._grace)
        if present == 0:
            await self._note(
                uow,
                turn,
                now,
                f"Asked for an agent ({effect.reason}): nobody available in {queue.name}",
            )
            return EffectResult(value={"status": "unavailable"})
        existing = await uow.handoffs.current(turn.conversation_id)
        if existing is not None:
            handoff_id, queue_id = existing.id, existing.queue_id
        else:
            handoff_id = await uow.handoffs.open(turn.conversation_id, queue.id, effect.reason, now)
            queue_id = queue.id
            await self._note(uow, turn, now, f"Transferred to {queue.name} ({effect.reason})")
        position = await uow.handoffs.position_in_line(queue_id, handoff_id)
        await uow.handoffs.note_position(handoff_id, position, now)
        return EffectResult(
            value={
                "status": "queued",
                "wait_minutes": wait_minutes(position, slots),
                "queue": queue.name,
            }
        )

    async def texter_spoke(self, turn: TextInContext) -> None:
        """A text for the agent arrived: the waiting clock for the agent's reply starts."""
        await self._repositories(turn).handoffs.texter_spoke(turn.conversation_id, turn.now)

    async def texter_left(self, turn: TextInContext) -> None:
        """The texter said BYE while queued or with an agent."""
        handoffs = self._repositories(turn).handoffs
        current = await handoffs.current(turn.conversation_id)
        if current is None:
            return
        status = "ended" if current.status == "active" else "abandoned"
        await handoffs.close(current.id, status, turn.now, ended_by="texter")

    @staticmethod
    async def _note(
        uow: HandoffRepositories, turn: TextInContext, now: datetime, text: str
    ) -> None:
        await uow.conversations.append([TranscriptEntry(turn.conversation_id, "system", text)], now)
