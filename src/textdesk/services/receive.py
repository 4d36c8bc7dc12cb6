"""Accepting inbound texts and status callbacks: durable first, processed after."""

from __future__ import annotations

import logging
from enum import Enum

from textdesk import metrics
from textdesk.adapters.db import inbox, outbox
from textdesk.adapters.db.group_commit import GroupCommitter
from textdesk.adapters.db.outbox import StatusUpdate
from textdesk.domain.inbound import InboundSms
from textdesk.ports import Clock
from textdesk.services.numbers import NumberDirectory

log = logging.getLogger(__name__)

INBOX = "inbox"
STATUS = "status"


class Acceptance(Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    UNKNOWN_NUMBER = "unknown_number"


def register_writers(committer: GroupCommitter) -> None:
    """Teach the group committer how to write what this module submits."""
    committer.register(INBOX, inbox.store)
    committer.register(STATUS, outbox.apply_status_updates)


async def accept_inbound(
    *, committer: GroupCommitter, numbers: NumberDirectory, clock: Clock, message: InboundSms
) -> Acceptance:
    """Store an inbound text durably (once per MessageSid) before it is acknowledged."""
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
