"""The live-agent timers: offers, lapsed offers, places in line, reminders, idle chats.

Runs as a background loop (in `serve` or `textdesk worker`); every pass is one
transaction and every decision in it comes from ``domain/handoff.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import conversations
from textdesk.adapters.db.dialect import lock_keys
from textdesk.adapters.db.outbox import enqueue
from textdesk.adapters.db.tables import conversations as conversation_table
from textdesk.adapters.db.tables import handoffs
from textdesk.domain.handoff import pick_agent
from textdesk.ports import AgentEvent, Clock, NewMessage, WorkspaceEvent
from textdesk.services.agent_desk import Desk


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
        db: AsyncEngine,
        clock: Clock,
        desk: Desk,
        timers: Timers,
        publish: Callable[[WorkspaceEvent], Awaitable[None]],
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._desk = desk
        self._timers = timers
        self._publish = publish
        self._on_enqueued = on_enqueued

    async def run_once(self) -> int:
        """One pass; returns how many hand-offs changed (0 lets the loop sleep)."""
        now = self._clock.now()
        seen_since = now - self._timers.presence_grace
        events: list[WorkspaceEvent] = []
        texts = 0
        async with self._db.begin() as conn:
            active = await self._active_chats(conn, now)
            # An offer lapses when it is not accepted in time, or at once when its agent
            # is no longer connected: nobody is there to accept it.
            lapsed = (
                await conn.execute(
                    select(
                        handoffs.c.id,
                        handoffs.c.offered_to,
                        handoffs.c.declined,
                        handoffs.c.conversation_id,
                    ).where(
                        handoffs.c.status == "offered",
                        or_(
                            handoffs.c.offered_at < now - self._timers.offer_timeout,
                            handoffs.c.offered_to.in_(agent_store.unreachable_ids(seen_since)),
                        ),
                    )
                )
            ).all()
            for row in lapsed:
                declined = [*(row.declined or []), row.offered_to]
                await conn.execute(
                    update(handoffs)
                    .where(handoffs.c.id == row.id)
                    .values(status="waiting", offered_to=None, offered_at=None, declined=declined)
                )
                events.append(WorkspaceEvent("queue", row.conversation_id))

            waiting = (
                await conn.execute(
                    select(handoffs).where(handoffs.c.status == "waiting").order_by(handoffs.c.id)
                )
            ).all()
            loads_by_queue: dict[int, list[Any]] = {}
            positions: dict[int, int] = {}
            for row in waiting:
                if row.queue_id not in loads_by_queue:
                    loads_by_queue[row.queue_id] = await agent_store.loads(
                        conn, row.queue_id, seen_since=seen_since
                    )
                loads = loads_by_queue[row.queue_id]
                chosen = pick_agent(loads, exclude=frozenset(row.declined or []))
                if chosen is None:
                    positions[row.queue_id] = positions.get(row.queue_id, 0) + 1
                    texts += await self._position_notice(conn, row, positions[row.queue_id], now)
                    continue
                await conn.execute(
                    update(handoffs)
                    .where(handoffs.c.id == row.id)
                    .values(status="offered", offered_to=chosen, offered_at=now)
                )
                await agent_store.mark_assigned(conn, [chosen], now)
                loads_by_queue[row.queue_id] = [
                    dataclasses.replace(a, active=a.active + 1, last_assigned_at=now)
                    if a.id == chosen
                    else a
                    for a in loads
                ]
                events.append(AgentEvent("offer", row.conversation_id, chosen))

            for row in active:
                if now - _last_activity(row) >= self._timers.idle_close:
                    await self._desk.end(conn, None, row.conversation_id, now, ended_by="timeout")
                    texts += 1
                    events.append(WorkspaceEvent("ended", row.conversation_id))
                    continue
                waiting_on_agent = row.last_texter_at and (
                    row.last_agent_at is None or row.last_texter_at > row.last_agent_at
                )
                if (
                    waiting_on_agent
                    and now - row.last_texter_at >= self._timers.remind_after
                    and (row.reminded_at is None or row.reminded_at < row.last_texter_at)
                ):
                    await conn.execute(
                        update(handoffs).where(handoffs.c.id == row.id).values(reminded_at=now)
                    )
                    events.append(AgentEvent("reminder", row.conversation_id, row.agent_id))
        for event in events:
            await self._publish(event)
        if texts:
            self._on_enqueued()
        return len(events)

    async def _active_chats(self, conn: AsyncConnection, now: datetime) -> Sequence[Any]:
        """The active chats; those this pass will close have their conversations locked.

        Closing a chat waits for its conversation's lock.  Taken one by one in any
        order, after this pass had already written other rows, that could deadlock
        with a batch of inbound texts, which takes its locks sorted and up front; so
        the pass does the same, before it writes anything.
        """
        active = (
            await conn.execute(
                select(handoffs, conversation_table.c.phone, conversation_table.c.number)
                .join(conversation_table, conversation_table.c.id == handoffs.c.conversation_id)
                .where(handoffs.c.status == "active")
            )
        ).all()
        idle = {
            conversations.lock_key(r.phone, r.number)
            for r in active
            if now - _last_activity(r) >= self._timers.idle_close
        }
        await lock_keys(conn, sorted(idle))
        return active

    async def _position_notice(self, conn: Any, row: Any, position: int, now: Any) -> int:
        """Tell a waiting texter their new place in line, at most once a minute."""
        previous = row.position_noticed
        if previous is None or position >= previous:
            return 0
        if row.position_noticed_at and now - row.position_noticed_at < self._timers.position_every:
            return 0
        conv = await conversations.get(conn, row.conversation_id)
        if conv is None:
            return 0
        text = (
            "You're next in line for an agent."
            if position == 1
            else f"You're now number {position} in line for an agent."
        )
        [outbox_id] = await enqueue(
            conn,
            [NewMessage(conv.phone, conv.number, text, kind="reply", conversation_id=conv.id)],
            now,
        )
        await conversations.append(
            conn, [conversations.TranscriptEntry(conv.id, "bot", text, outbox_id=outbox_id)], now
        )
        await conn.execute(
            update(handoffs)
            .where(handoffs.c.id == row.id)
            .values(position_noticed=position, position_noticed_at=now)
        )
        return 1


def _last_activity(row: Any) -> datetime:
    """When either side of an active chat last did something."""
    times: list[datetime] = [
        t for t in (row.accepted_at, row.last_texter_at, row.last_agent_at) if t is not None
    ]
    return max(times)
