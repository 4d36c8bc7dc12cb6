"""The live-agent timers: offers, lapsed offers, places in line, reminders, idle chats.

Runs as a background loop (in `serve` or `textdesk worker`); every pass is one
transaction and every decision in it comes from ``domain/live_agents.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from textdesk.domain.live_agents import AgentLoad, pick_agent
from textdesk.ports import (
    ActiveChat,
    AgentEvent,
    AssignmentRepositories,
    Clock,
    NewMessage,
    TranscriptEntry,
    UnitOfWork,
    WaitingHandoff,
    WorkspaceEvent,
)


@dataclass
class Timers:
    offer_timeout: timedelta = timedelta(seconds=30)
    position_every: timedelta = timedelta(minutes=1)
    remind_after: timedelta = timedelta(minutes=3)
    idle_close: timedelta = timedelta(minutes=30)
    presence_grace: timedelta = timedelta(seconds=45)


class Assigner:
    def __init__(
        self,
        *,
        uow: UnitOfWork[AssignmentRepositories],
        clock: Clock,
        timers: Timers,
        publish: Callable[[WorkspaceEvent], Awaitable[None]],
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._timers = timers
        self._publish = publish
        self._on_enqueued = on_enqueued

    async def run_once(self) -> int:
        """One pass; returns how many hand-offs changed (0 lets the loop sleep)."""
        now = self._clock.now()
        seen_since = now - self._timers.presence_grace
        events: list[WorkspaceEvent] = []
        texts = 0
        async with self._uow.begin() as uow:
            active = await self._active_chats(uow, now)
            # An offer lapses when it is not accepted in time, or at once when its agent
            # is no longer connected: nobody is there to accept it.
            lapsed = await uow.handoffs.lapsed_offers(
                offered_before=now - self._timers.offer_timeout, seen_since=seen_since
            )
            for offer in lapsed:
                await uow.handoffs.back_in_line(offer.id, [*offer.declined, offer.offered_to])
                events.append(WorkspaceEvent("queue", offer.conversation_id))

            loads_by_queue: dict[int, list[AgentLoad]] = {}
            positions: dict[int, int] = {}
            for waiting in await uow.handoffs.waiting():
                if waiting.queue_id not in loads_by_queue:
                    loads_by_queue[waiting.queue_id] = await uow.agents.loads(
                        waiting.queue_id, seen_since=seen_since
                    )
                loads = loads_by_queue[waiting.queue_id]
                chosen = pick_agent(loads, exclude=frozenset(waiting.declined))
                if chosen is None:
                    positions[waiting.queue_id] = positions.get(waiting.queue_id, 0) + 1
                    texts += await self._position_notice(
                        uow, waiting, positions[waiting.queue_id], now
                    )
                    continue
                await uow.handoffs.offer(waiting.id, chosen, now)
                await uow.agents.mark_assigned([chosen], now)
                loads_by_queue[waiting.queue_id] = [
                    dataclasses.replace(a, active=a.active + 1, last_assigned_at=now)
                    if a.id == chosen
                    else a
                    for a in loads
                ]
                events.append(AgentEvent("offer", waiting.conversation_id, chosen))

            for chat in active:
                if now - chat.last_activity() >= self._timers.idle_close:
                    await uow.chats.end_idle(chat.conversation_id, now)
                    texts += 1
                    events.append(WorkspaceEvent("ended", chat.conversation_id))
                    continue
                if (
                    chat.last_texter_at is not None
                    and (chat.last_agent_at is None or chat.last_texter_at > chat.last_agent_at)
                    and now - chat.last_texter_at >= self._timers.remind_after
                    and (chat.reminded_at is None or chat.reminded_at < chat.last_texter_at)
                ):
                    await uow.handoffs.note_reminded(chat.id, now)
                    events.append(AgentEvent("reminder", chat.conversation_id, chat.agent_id))
        for event in events:
            await self._publish(event)
        if texts:
            self._on_enqueued()
        return len(events)

    async def _active_chats(self, uow: AssignmentRepositories, now: datetime) -> list[ActiveChat]:
        """The active chats; those this pass will close have their conversations locked.

        Closing a chat waits for its conversation's lock.  Taken one by one in any
        order, after this pass had already written other rows, that could deadlock
        with a batch of inbound texts, which takes its locks sorted and up front; so
        the pass does the same, before it writes anything.
        """
        active = await uow.handoffs.active_chats()
        await uow.conversations.lock(
            {
                (c.phone, c.number)
                for c in active
                if now - c.last_activity() >= self._timers.idle_close
            }
        )
        return active

    async def _position_notice(
        self, uow: AssignmentRepositories, waiting: WaitingHandoff, position: int, now: datetime
    ) -> int:
        """Tell a waiting texter their new place in line, at most once a minute."""
        previous = waiting.position_noticed
        if previous is None or position >= previous:
            return 0
        if (
            waiting.position_noticed_at
            and now - waiting.position_noticed_at < self._timers.position_every
        ):
            return 0
        conv = await uow.conversations.get(waiting.conversation_id)
        if conv is None:
            return 0
        text = (
            "You're next in line for an agent."
            if position == 1
            else f"You're now number {position} in line for an agent."
        )
        [outbox_id] = await uow.outbox.enqueue(
            [NewMessage(conv.phone, conv.number, text, kind="reply", conversation_id=conv.id)],
            now,
        )
        await uow.conversations.append(
            [TranscriptEntry(conv.id, "bot", text, outbox_id=outbox_id)], now
        )
        await uow.handoffs.note_position(waiting.id, position, now)
        return 1
