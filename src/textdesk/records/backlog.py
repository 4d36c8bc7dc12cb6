"""Reports kept while a remote record store did not answer, made once it is back.

A texter who reports an issue while the instance is down is not told to try again
later: the turn keeps the new record in ``record_backlog`` (in its own transaction,
``channel.virtual_agent``) and tells them it is being logged.  This loop tries each
kept report again, with no transaction open, until the store makes it: then, in one
transaction, it is marked made and the texter is texted its number, through the
outbox (paced, retried, and held back by a STOP like every text).

A report is never made twice: every try carries the turn's effect key, and the
store looks that key up before it creates (``correlation_id`` on ServiceNow), so a
try whose answer was lost is found by the next.  A failed try is tried again after
30 s, then twice as long each time up to 15 minutes, for as long as it takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta

from textdesk.domain.records import Record
from textdesk.domain.sms import flatten_markdown
from textdesk.domain.templating.render import render
from textdesk.metrics import RECORD_BACKLOG
from textdesk.ports import (
    Clock,
    NewMessage,
    PendingRecord,
    RecordBacklogRepositories,
    RecordStore,
    RecordViewer,
    TranscriptEntry,
    UnitOfWork,
)

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
# Held by one process while it calls the store: longer than a create with its
# attachments and the client's own retries takes.
CLAIM = timedelta(minutes=2)
BATCH = 20


def wait_after(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try (counting from 1)."""
    return min(LONGEST_WAIT, FIRST_RETRY * (1 << max(0, min(attempts - 1, 10))))


class RecordBacklogLoop:
    """Makes kept reports on the remote store, and texts each texter their number."""

    def __init__(
        self,
        *,
        uow: UnitOfWork[RecordBacklogRepositories],
        store: RecordStore,
        views: RecordViewer,
        clock: Clock,
        on_enqueued: Callable[[], None] = lambda: None,
        on_said: Callable[[Iterable[int]], None] = lambda ids: None,
    ) -> None:
        """``on_enqueued`` wakes the sender; ``on_said`` tells the Workspace which
        conversations have a new line."""
        self._uow = uow
        self._store = store
        self._views = views
        self._clock = clock
        self._on_enqueued = on_enqueued
        self._on_said = on_said

    async def run_once(self) -> int:
        """Try the reports that are due; how many were made."""
        now = self._clock.now()
        async with self._uow.begin() as repos:
            due = await repos.backlog.claim_due(now, until=now + CLAIM, limit=BATCH)
        made = 0
        said: list[int] = []
        for pending in due:
            try:
                # Under the turn's key, always: the store finds a try that made it.
                record = await self._store.create(replace(pending.record, key=pending.key), now=now)
            except Exception as exc:
                attempts = pending.attempts + 1
                wait = wait_after(attempts)
                RECORD_BACKLOG.labels("retry").inc()
                log.warning(
                    "kept report %s is not made yet (try %d): %s; trying again in %ds",
                    pending.key,
                    attempts,
                    exc,
                    wait.total_seconds(),
                )
                async with self._uow.begin() as repos:
                    await repos.backlog.retry_at(
                        pending.id, now + wait, f"{type(exc).__name__}: {exc}"
                    )
                continue
            await self._tell(pending, record)
            made += 1
            if pending.conversation_id is not None:
                said.append(pending.conversation_id)
            RECORD_BACKLOG.labels("made").inc()
            log.info("kept report %s is made: %s", pending.key, record.number)
        if made:
            self._on_enqueued()
            self._on_said(said)
        return made  # none made: the store is still down, so the loop idles

    async def _tell(self, pending: PendingRecord, record: Record) -> None:
        """Mark it made and text the texter its number, in one transaction."""
        now = self._clock.now()
        body = self._message(pending, record)
        async with self._uow.begin() as repos:
            [outbox_id] = await repos.outbox.enqueue(
                [
                    NewMessage(
                        to_phone=pending.phone,
                        from_phone=pending.number,
                        body=body,
                        kind="reply",
                        conversation_id=pending.conversation_id,
                    )
                ],
                now,
            )
            if pending.conversation_id is not None:
                await repos.transcripts.append(
                    [TranscriptEntry(pending.conversation_id, "bot", body, outbox_id=outbox_id)],
                    now,
                )
            await repos.backlog.made(pending.id, record.number, now)

    def _message(self, pending: PendingRecord, record: Record) -> str:
        view = self._views.view(record)
        try:
            text = flatten_markdown(render(pending.message, {"record": view})).strip()
        except Exception:
            # The topics' wording is theirs to fix; the texter still gets the number.
            log.exception("the record_logged text of %s does not render", pending.key)
            text = ""
        return text or f"Your report is logged as {record.number}."
