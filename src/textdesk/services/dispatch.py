"""The dispatcher: sends what the outbox holds, paced, retried, tracked."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk import metrics
from textdesk.adapters.db import outbox
from textdesk.adapters.db.outbox import OutboxRow
from textdesk.adapters.signed_urls import MediaUrlSigner
from textdesk.domain.delivery import (
    LookupFailed,
    Outcome,
    SendResult,
    backoff_seconds,
    classify,
    describe_error,
)
from textdesk.ports import Clock, Pacer, SmsGateway

log = logging.getLogger(__name__)

# Called on each claimed batch, inside the claiming transaction: {outbox id: reason}
# for rows that must not be sent after all (they are marked canceled).
Gate = Callable[[AsyncConnection, Sequence[OutboxRow]], Awaitable[dict[int, str]]]


class Dispatcher:
    def __init__(
        self,
        *,
        db: AsyncEngine,
        gateway: SmsGateway,
        clock: Clock,
        signer: MediaUrlSigner,
        status_callback: str | None,
        rate_per_number: float,
        max_attempts: int,
        retry_base_seconds: float,
        lease: timedelta = timedelta(seconds=60),
        batch_size: int = 200,
        pacer: Pacer,
        jitter: Callable[[], float] = random.random,
        gate: Gate | None = None,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._clock = clock
        self._signer = signer
        self._callback = status_callback
        self._rate = rate_per_number
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._lease = lease
        self._batch = batch_size
        self._jitter = jitter
        self._pacer = pacer
        self._gate = gate
        self._turns: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many sends were attempted."""
        now = self._clock.now()
        # Claim no more per number than the pace allows within a few seconds, so
        # claimed rows never sit long enough for their lease to lapse.
        per_sender = max(1, int(self._rate * 2))
        async with self._db.begin() as conn:
            await outbox.release_expired_claims(conn, now)
            rows = await outbox.claim_due(
                conn, now=now, lease=self._lease, limit=self._batch, per_sender=per_sender
            )
            claimed = len(rows)
            # --- send-time check (issue 5): e.g. a notification whose texter sent STOP
            # after it was queued is canceled here, in the claiming transaction.
            if self._gate is not None and rows:
                held = await self._gate(conn, rows)
                if held:
                    await outbox.mark_canceled(conn, list(held.items()), now)
                    rows = [r for r in rows if r.id not in held]
            # --- end send-time check
        if not rows:
            metrics.DISPATCH_LAG.set(0)
            return claimed
        results = await asyncio.gather(*(self._timed_send(row) for row in rows))
        await self._record(list(zip(rows, results, strict=True)), started=now)
        return len(rows)

    async def _timed_send(self, row: OutboxRow) -> tuple[SendResult | LookupFailed, datetime]:
        # Each text's own send time: a paced batch spans seconds, and staff read these.
        result = await self._send(row)
        return result, self._clock.now()

    async def _send(self, row: OutboxRow) -> SendResult | LookupFailed:
        if row.in_doubt_since is not None:
            try:
                earlier = await self._gateway.find_sent(
                    to=row.to_phone,
                    from_=row.from_phone,
                    body=row.body,
                    media_count=len(row.media),
                    since=row.in_doubt_since,
                )
            except LookupFailed as exc:
                return exc
            if earlier is not None:
                log.info("send %s: the lost attempt reached Twilio as %s", row.id, earlier.sid)
                return earlier
        await self._pace(row.from_phone)
        return await self._gateway.send(
            to=row.to_phone,
            from_=row.from_phone,
            body=row.body,
            media_urls=[self._signer.url_for(key) for key in row.media],
            status_callback=self._callback,
        )

    async def _pace(self, number: str) -> None:
        """Wait for ``number``'s next send slot; its senders take slots one at a time.

        A slot is reserved only once the previous one has come: with every slot of a
        batch reserved up front, a busy event loop waking its sleepers late let many
        texts out at once, bursting well over the rate.  (asyncio.Lock is first come,
        first served, so slots still follow the batch's order.)
        """
        async with self._turns[number]:
            wait = await self._pacer.reserve(number)
            if wait > 0:
                await asyncio.sleep(wait)

    async def _record(
        self,
        results: list[tuple[OutboxRow, tuple[SendResult | LookupFailed, datetime]]],
        *,
        started: datetime,
    ) -> None:
        now = self._clock.now()
        in_doubt: list[tuple[int, datetime, str, datetime]] = []
        accepted: list[tuple[int, str, str, datetime]] = []
        retry: list[tuple[int, datetime, int | None, str | None]] = []
        failed: list[tuple[int, int | None, str | None]] = []
        opted_out: list[str] = []
        for row, (result, sent_at) in results:
            if isinstance(result, LookupFailed):
                assert row.in_doubt_since is not None
                # Neither resend nor give up: a resend might be the texter's second copy.
                delay = backoff_seconds(row.attempts, base=self._retry_base, jitter=self._jitter())
                log.warning("send %s: cannot tell whether it went out (%s)", row.id, result)
                in_doubt.append(
                    (
                        row.id,
                        now + timedelta(seconds=delay),
                        f"checking an earlier attempt: {result}",
                        row.in_doubt_since + self._lease,
                    )
                )
                continue
            outcome = classify(result)
            metrics.OUTBOUND.labels(outcome.value).inc()
            message = result.error_message or describe_error(result.error_code)
            if outcome is Outcome.ACCEPTED:
                assert result.sid is not None
                accepted.append((row.id, result.sid, result.status or "queued", sent_at))
            elif outcome is Outcome.RETRY and row.attempts < self._max_attempts:
                delay = backoff_seconds(row.attempts, base=self._retry_base, jitter=self._jitter())
                if result.ambiguous:
                    # Twilio may have taken it: ask before sending again.
                    log.info("send %s to %s: %s; will check first", row.id, row.to_phone, message)
                    when = now + timedelta(seconds=delay)
                    in_doubt.append((row.id, when, message or "", started + self._lease))
                    continue
                log.info("send %s to %s: %s; retry in %.1fs", row.id, row.to_phone, message, delay)
                retry.append((row.id, now + timedelta(seconds=delay), result.error_code, message))
            elif outcome is Outcome.OPTED_OUT:
                # Expected after STOP: not an error worth a stack of log lines.
                log.info("send %s: %s has opted out (21610)", row.id, row.to_phone)
                failed.append((row.id, result.error_code, message))
                opted_out.append(row.to_phone)
            else:
                log.warning("send %s to %s failed: %s", row.id, row.to_phone, message)
                failed.append((row.id, result.error_code, message))
        async with self._db.begin() as conn:
            await outbox.mark_accepted(conn, accepted, now)
            await outbox.mark_in_doubt(conn, in_doubt, now)
            await outbox.mark_retry(conn, retry, now)
            await outbox.mark_failed(conn, failed, now)
            await outbox.mark_opted_out(conn, opted_out, now, "21610")
