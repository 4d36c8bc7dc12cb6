"""Accepting inbound texts and status callbacks: durable before they are acknowledged.

An inbound text is written to the inbox by the group committer.  With inline
processing on (the default) the same transaction then runs the new texts through
the virtual agent, under a savepoint, and writes their replies to the outbox: the
200 means "stored and answered".  Whatever goes wrong while answering rolls back
to that savepoint only, so the inbox rows commit regardless and nothing a texter
sent is lost; a text that could not be answered there is answered by the inbox
loop (see ``channel.answering``).

On PostgreSQL the batch first takes (and waits for) the conversation locks of the
texts it will answer, before it writes them.  Otherwise a text stored but not yet
committed by one process is invisible to another that is answering the same
texter's next text, and the younger text would be answered first.  The other
holders of those locks (another process's batch, the inbox loop, an agent's
action, the assigner closing idle chats) keep them for one short transaction, and
batches and the assigner take theirs in sorted order.  Still, every webhook of the
process waits while its batch does, so the wait is bounded (``LOCK_WAIT_MS``):
past it, or on a deadlock, the batch goes on without those locks, and a text
whose conversation is busy elsewhere is left to the inbox loop, as it was before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Final

from textdesk import metrics
from textdesk.admin.numbers import NumberDirectory
from textdesk.channel.answering import NOTHING_ANSWERED, Answered, InboxProcessor
from textdesk.domain.twilio_forms import InboundSms
from textdesk.ports import (
    AnsweringRepositories,
    Clock,
    GroupCommit,
    StatusUpdate,
    WriteKind,
    Written,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PendingInbound:
    """An inbound text on its way into the inbox, as the webhook hands it over."""

    message: InboundSms
    received_at: datetime
    answer: bool  # run it through the virtual agent in the same transaction


# What the webhooks submit to the group committer: the inbox (fresh or a duplicate
# MessageSid), and status callbacks (the conversation a status moved forward).
INBOX: Final = WriteKind[PendingInbound, bool]("inbox")
STATUS: Final = WriteKind[StatusUpdate, int | None]("status")
# Every webhook of the process waits while its batch waits for a lock: not long.
LOCK_WAIT_MS = 1000


class Acceptance(Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    UNKNOWN_NUMBER = "unknown_number"


def register_writers(
    committer: GroupCommit[AnsweringRepositories], processor: InboxProcessor
) -> None:
    """Teach the group committer how to write what this module submits."""

    async def store_and_answer(
        repos: AnsweringRepositories, items: Sequence[PendingInbound]
    ) -> Written[bool, Answered]:
        # PostgreSQL, several web processes: whoever stores a texter's text holds that
        # conversation until commit, so a younger text taken by another process at
        # the same instant waits and is answered after, never before (see above).
        held = await repos.conversations.lock_waiting_at_most(
            sorted({(p.message.from_phone, p.message.to_phone) for p in items if p.answer}),
            LOCK_WAIT_MS,
        )
        stored = await repos.inbox.store([(p.message, p.received_at) for p in items])
        arrivals = [
            row for p, row in zip(items, stored, strict=True) if row is not None and p.answer
        ]
        fresh = [row is not None for row in stored]
        answered = NOTHING_ANSWERED
        if arrivals:
            answered = await processor.process_arrivals(repos, arrivals, locked=held)
        if len(arrivals) < sum(fresh):
            # Stored to be answered by the inbox loop, which may look once this commits.
            answered = Answered(answered.conversations, deferred=True)
        return Written(fresh, answered)

    async def record_statuses(
        repos: AnsweringRepositories, items: Sequence[StatusUpdate]
    ) -> Written[int | None, None]:
        return Written(await repos.statuses.apply_callbacks(items), None)

    committer.register(INBOX, store_and_answer, committed=processor.committed)
    committer.register(STATUS, record_statuses)


async def accept_inbound(
    *,
    committer: GroupCommit[AnsweringRepositories],
    numbers: NumberDirectory,
    clock: Clock,
    message: InboundSms,
    process: bool = False,
) -> Acceptance:
    """Store an inbound text durably (once per MessageSid) before it is acknowledged.

    With ``process``, a newly stored text is also run through the conversation
    logic before this returns (see the module's docstring).
    """
    if not await numbers.is_conversational(message.to_phone):
        log.warning(
            "inbound %s to %s: not a configured conversational number; ignored",
            message.message_sid,
            message.to_phone,
        )
        metrics.INBOUND.labels("unknown_number").inc()
        return Acceptance.UNKNOWN_NUMBER
    fresh = await committer.submit(INBOX, PendingInbound(message, clock.now(), process))
    result = Acceptance.STORED if fresh else Acceptance.DUPLICATE
    metrics.INBOUND.labels(result.value).inc()
    return result


async def accept_status(
    *,
    committer: GroupCommit[AnsweringRepositories],
    clock: Clock,
    sid: str,
    status: str,
    error_code: int | None,
) -> int | None:
    """Record a status callback; the conversation id when it moved the message forward."""
    metrics.STATUS_CALLBACKS.labels(status).inc()
    return await committer.submit(
        STATUS, StatusUpdate(sid=sid, status=status, error_code=error_code, received_at=clock.now())
    )
