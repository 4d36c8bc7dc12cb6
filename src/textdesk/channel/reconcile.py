"""Reconciliation: ask Twilio about sent messages whose final status never came.

Status callbacks posted to a process that had just died are lost (Twilio does not
retry them), leaving messages at "sent" for good.  This loop finds messages with no
news for ``after`` and fetches each from Twilio, a few per second so it never
competes with sending, then moves them forward by the callbacks' rule.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from textdesk.domain.delivery import LookupFailed
from textdesk.ports import (
    Clock,
    ReconcileRepositories,
    SmsGateway,
    StatusUpdate,
    UnitOfWork,
    WorkspaceEvent,
)

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(
        self,
        *,
        uow: UnitOfWork[ReconcileRepositories],
        gateway: SmsGateway,
        clock: Clock,
        after: timedelta,
        rate: float,
        publish: Callable[[WorkspaceEvent], Awaitable[None]] | None = None,
    ) -> None:
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._after = after
        self._rate = rate
        self._publish = publish

    async def run_once(self) -> int:
        """Ask about up to a second's worth of messages; returns how many were asked."""
        async with self._uow.begin() as repos:
            sids = await repos.statuses.claim_checks(
                now=self._clock.now(), after=self._after, limit=max(1, int(self._rate))
            )
        updates: list[StatusUpdate] = []
        for index, sid in enumerate(sids):
            if index:
                await asyncio.sleep(1 / self._rate)
            try:
                status, code = await self._gateway.status_of(sid)
            except LookupFailed as exc:
                # Left as it was; claim_status_checks booked the next question.
                log.info("status of %s: Twilio cannot say (%s); asking later", sid, exc)
                continue
            updates.append(StatusUpdate(sid, status, code, self._clock.now()))
        if updates:
            async with self._uow.begin() as repos:
                moved = await repos.statuses.apply_reconciled(updates)
            changed = {cid for cid in moved if cid is not None}
            if changed:
                log.info(
                    "reconciled %d message statuses with Twilio", sum(m is not None for m in moved)
                )
            if self._publish is not None:
                for conversation_id in changed - {0}:
                    await self._publish(WorkspaceEvent("status", conversation_id))
        return len(sids)
