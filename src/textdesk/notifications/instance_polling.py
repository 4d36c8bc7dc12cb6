"""Polling an instance that may not call out: its changes become record events.

Each round reads the incidents changed since the cursor (the newest
``sys_updated_on`` the last round saw), compares each with what textdesk last knew
of it (``ports.IncidentSnapshots``), reads the public comments written since, and
hands every difference to :class:`~textdesk.notifications.instance_events.InstanceEvents`
as the event the business rule would have posted (``domain/instance_changes.py``):
the same templates, subscriptions, STOP and dedupe, so a change both posted and
polled is texted once.

- The first round only learns: it keeps what the open and lately updated incidents
  are now and where the cursor starts, and texts nobody about the past.
- The instance is asked with no transaction open; this desk's tables are read and
  written in short transactions between the calls.
- The cursor moves only after the round's events are received: a round that fails
  (the instance is down, a crash) is read again by the next one, and what it had
  already texted is known by its key and not texted twice.
- Rounds are booked in the database: of several processes, one polls each round.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from textdesk import metrics
from textdesk.domain.instance_changes import (
    EPOCH,
    ChangedIncident,
    InstanceComment,
    Snapshot,
    a_second_before,
    comment_event,
    differences,
    instance_time,
)
from textdesk.domain.servicenow_events import InstanceEvent
from textdesk.notifications.instance_events import InstanceEvents
from textdesk.ports import (
    Clock,
    EventKey,
    IncidentChanges,
    InstancePollingRepositories,
    ReadingUnitOfWork,
)

log = logging.getLogger(__name__)

# What the first round keeps besides the open incidents: a recently resolved one is
# the kind that is reopened, and its reopening is news for its caller.
RECENT = timedelta(days=30)


def _key(event: InstanceEvent) -> EventKey:
    return (event.sys_id, event.event, event.sys_updated_on, event.digest)


def events_of(
    incidents: Sequence[ChangedIncident],
    known: dict[str, Snapshot],
    comments: Sequence[InstanceComment],
) -> list[InstanceEvent]:
    """The round's events, oldest first: each known incident's differences and each
    new comment, for incidents with a caller to tell."""
    by_id = {i.sys_id: i for i in incidents}
    found: list[InstanceEvent] = []
    for incident in incidents:
        snapshot = known.get(incident.sys_id)
        if snapshot is not None:
            found += differences(incident, snapshot)
    found += [comment_event(by_id[c.incident], c) for c in comments if c.incident in by_id]
    found.sort(key=lambda e: e.sys_updated_on)
    return [e for e in found if e.caller_id]


class InstancePolling:
    """Reads the instance's changes every ``every`` and notifies their callers."""

    def __init__(
        self,
        *,
        uow: ReadingUnitOfWork[InstancePollingRepositories],
        instance: IncidentChanges,
        events: InstanceEvents,
        clock: Clock,
        every: timedelta,
    ) -> None:
        self._uow = uow
        self._instance = instance
        self._events = events
        self._clock = clock
        self.every = every

    async def run_once(self) -> int:
        """One round, when one is due and no other process holds it; always 0 (the
        loop waits ``every`` before asking again)."""
        started = self._clock.now()
        async with self._uow.begin() as repos:
            # Held for two intervals: a process that dies mid-round leaves it to another.
            claim = await repos.rounds.claim(now=started, lease=2 * self.every)
        if claim is None:
            return 0
        try:
            if claim.cursor is None:
                await self._first_round(started)
            else:
                await self._round(claim.cursor, started)
        except Exception as exc:  # the instance's errors, or ours: the next round retries
            metrics.SERVICENOW_POLLS.labels(outcome="failed").inc()
            log.warning(
                "polling the instance failed, the next round reads the same changes: %s: %s",
                type(exc).__name__,
                exc,
            )
            async with self._uow.begin() as repos:
                await repos.rounds.release(due_at=started + self.every)
            return 0
        metrics.SERVICENOW_POLLS.labels(outcome="ok").inc()
        return 0

    async def _first_round(self, started: datetime) -> None:
        # The cursor first: what changes while the incidents are read is read again.
        newest = await self._instance.newest()
        incidents = await self._instance.current(updated_since=instance_time(started - RECENT))
        async with self._uow.begin() as repos:
            await repos.snapshots.keep([Snapshot.baseline(i) for i in incidents], started)
            await repos.rounds.finish(cursor=newest or EPOCH, due_at=started + self.every)
        log.info(
            "polling the instance from %s on: %d incidents that may change",
            newest or "its first incident",
            len(incidents),
        )

    async def _round(self, cursor: str, started: datetime) -> None:
        incidents = await self._instance.changed_since(cursor)
        if incidents:
            async with self._uow.read() as repos:
                known = await repos.snapshots.of([i.sys_id for i in incidents])
            # An incident seen before: its comments since then; a new one: since the cursor
            # (a comment in the cursor's own second may be new, or known by its key).
            after = {
                i.sys_id: known[i.sys_id].comments_through
                if i.sys_id in known
                else a_second_before(cursor)
                for i in incidents
            }
            comments = await self._instance.comments(after)
            await self._receive(events_of(incidents, known, comments))
        newest = max([cursor, *(i.updated_on for i in incidents)])
        async with self._uow.begin() as repos:
            await repos.snapshots.keep([Snapshot.read(i) for i in incidents], started)
            await repos.rounds.finish(cursor=newest, due_at=started + self.every)

    async def _receive(self, events: list[InstanceEvent]) -> None:
        if not events:
            return
        async with self._uow.read() as repos:
            # Re-read in a round after a failure, or in the cursor's second: known
            # already, and not worth the calls receiving it would make.
            noted = await repos.seen.noted([_key(e) for e in events])
        queued = 0
        for event in events:
            if _key(event) not in noted:
                queued += (await self._events.receive(event)).report.queued
        log.info("polled %d changes from the instance, %d texts queued", len(events), queued)
