"""Accepting inbound texts and status callbacks: durable first, processed after.

An inbound text is committed to the inbox on its own first, so nothing a texter
sent can be lost to a failure in the conversation logic.  With inline processing
on (the default) the webhook then waits for the group commit's next transaction,
which runs the text through the virtual agent and commits its replies to the
outbox: the 200 means "stored and answered".  A text that cannot be processed
there is still stored, and the background loop answers it.
"""

from __future__ import annotations

import asyncio
import logging
from enum import Enum

from textdesk import metrics
from textdesk.adapters.db import inbox, outbox
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.adapters.db.outbox import StatusUpdate
from textdesk.domain.inbound import InboundSms
from textdesk.ports import Clock
from textdesk.services.numbers import NumberDirectory
from textdesk.services.processing import Arrival, InboxProcessor

log = logging.getLogger(__name__)

INBOX = "inbox"
STATUS = "status"
PROCESS = "process"
# The inline step normally takes one group commit; past this the webhook is answered
# anyway (the text is stored) well inside Twilio's 15-second limit.
INLINE_WAIT_SECONDS = 5.0


class Acceptance(Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    UNKNOWN_NUMBER = "unknown_number"


def register_writers(committer: GroupCommitter, processor: InboxProcessor) -> None:
    """Teach the group committer how to write what this module submits."""
    committer.register(INBOX, inbox.store)
    committer.register(STATUS, outbox.apply_status_updates)
    committer.register(PROCESS, processor.process_arrivals)
    committer.on_commit(lambda kinds: processor.committed() if PROCESS in kinds else None)


async def accept_inbound(
    *,
    committer: GroupCommitter,
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
    fresh = await committer.submit(INBOX, (message, clock.now()))
    result = Acceptance.STORED if fresh else Acceptance.DUPLICATE
    metrics.INBOUND.labels(result.value).inc()
    if fresh and process:
        arrival = Arrival(message.message_sid, message.from_phone, message.to_phone)
        try:
            async with asyncio.timeout(INLINE_WAIT_SECONDS):
                await committer.submit(PROCESS, arrival)
        except Exception:
            # Stored is what the 200 promises; the background loop will answer it.
            log.warning("inbound %s stored; answering it inline failed", message.message_sid)
    return result


async def accept_status(
    *,
    committer: GroupCommitter,
    clock: Clock,
    sid: str,
    status: str,
    error_code: int | None,
) -> int | None:
    """Record a status callback; the conversation id when it moved the message forward."""
    metrics.STATUS_CALLBACKS.labels(status).inc()
    moved: int | None = await committer.submit(
        STATUS, StatusUpdate(sid=sid, status=status, error_code=error_code, received_at=clock.now())
    )
    return moved
