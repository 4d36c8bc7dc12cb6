"""The dispatcher: sends what the outbox holds, paced, retried, tracked.

Transient failures (5xx, timeouts, 20429, a full queue) are retried with capped
backoff until the text has waited ``give_up_after`` since it was queued; a number
that keeps failing is paused as a whole (``domain/sender_pauses.py``), so an outage costs
a few probes rather than every text's every retry.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from textdesk import metrics
from textdesk.channel.sender_pauses import SenderPauses
from textdesk.domain.delivery import (
    OPTED_OUT,
    LookupFailed,
    SendOutcome,
    SendResult,
    backoff_seconds,
    classify,
    describe_error,
    gave_up_reason,
    gives_up,
)
from textdesk.ports import (
    Clock,
    MediaLinks,
    OutboxRow,
    Pacer,
    SendingRepositories,
    SmsGateway,
    UnitOfWork,
)

log = logging.getLogger(__name__)


class _Held:
    """Not sent: its number was paused while the batch was under way."""


HELD = _Held()
Result = SendResult | LookupFailed | _Held


@dataclass
class _Writes:
    """What one batch's answers write, statement by statement."""

    accepted: list[tuple[int, str, str, datetime]] = field(default_factory=list)
    in_doubt: list[tuple[int, datetime, str, datetime]] = field(default_factory=list)
    retry: list[tuple[int, datetime, int | None, str | None]] = field(default_factory=list)
    failed: list[tuple[int, int | None, str | None]] = field(default_factory=list)
    held: list[tuple[int, datetime]] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        *,
        uow: UnitOfWork[SendingRepositories],
        gateway: SmsGateway,
        clock: Clock,
        signer: MediaLinks,
        status_callback: str | None,
        rate_per_number: float,
        max_attempts: int,
        retry_base_seconds: float,
        retry_max_seconds: float = 300.0,
        give_up_after: timedelta = timedelta(hours=4),
        lease: timedelta = timedelta(seconds=60),
        batch_size: int = 200,
        pacer: Pacer,
        jitter: Callable[[], float] = random.random,
        pauses_fresh_for: float = 1.0,
    ) -> None:
        """``max_attempts`` bounds 30008 ("unknown error") only; transient failures are
        retried until ``give_up_after``.  Paused numbers are re-read from the database
        at most every ``pauses_fresh_for`` seconds (another process may pause one)."""
        self._pauses = SenderPauses(
            retry_base_seconds=retry_base_seconds,
            retry_max_seconds=retry_max_seconds,
            give_up_after=give_up_after,
            lease=lease,
            jitter=jitter,
            fresh_for=pauses_fresh_for,
        )
        self._uow = uow
        self._gateway = gateway
        self._clock = clock
        self._signer = signer
        self._callback = status_callback
        self._rate = rate_per_number
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._retry_cap = retry_max_seconds
        self._give_up_after = give_up_after
        self._lease = lease
        self._batch = batch_size
        self._jitter = jitter
        self._pacer = pacer
        self._turns: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def run_once(self) -> int:
        """Claim and send one batch; returns how many sends were attempted."""
        now = self._clock.now()
        # Claim no more per number than the pace allows within a few seconds, so
        # claimed rows never sit long enough for their lease to lapse.
        per_sender = max(1, int(self._rate * 2))
        async with self._uow.begin() as uow:
            await uow.outbox.release_expired_claims(now)
            held, probes = await self._pauses.start_batch(uow, now)
            rows = await uow.outbox.claim_due(
                now=now,
                lease=self._lease,
                limit=self._batch,
                per_sender=per_sender,
                held=held,
                probes=probes,
            )
            claimed = len(rows)
            # The send-time check: e.g. a notification whose texter sent STOP after it
            # was queued is canceled here, in the claiming transaction.
            if rows:
                canceled = await uow.checks.blocked(rows)
                if canceled:
                    await uow.outbox.mark_canceled(list(canceled.items()), now)
                    rows = [r for r in rows if r.id not in canceled]
            await self._pauses.return_unused(uow, {r.from_phone for r in rows}, now)
        if not rows:
            metrics.DISPATCH_LAG.set(0)
            return claimed
        results = await asyncio.gather(*(self._timed_send(row) for row in rows))
        await self._record(list(zip(rows, results, strict=True)), started=now)
        return len(rows)

    async def _timed_send(self, row: OutboxRow) -> tuple[Result, datetime]:
        # Each text's own send time: a paced batch spans seconds, and staff read these.
        result = await self._send(row)
        now = self._clock.now()
        if result is not HELD:
            # Noted at once, so the batch's later sends from this number can be held.
            failed = isinstance(result, LookupFailed) or (
                isinstance(result, SendResult) and classify(result) is SendOutcome.RETRY
            )
            self._pauses.note(row.from_phone, failed=failed, now=now, error=_error_text(result))
        return result, now

    async def _send(self, row: OutboxRow) -> Result:
        if self._pauses.holds(row.from_phone):
            return HELD
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
        if self._pauses.holds(row.from_phone):
            return HELD
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
        results: list[tuple[OutboxRow, tuple[Result, datetime]]],
        *,
        started: datetime,
    ) -> None:
        now = self._clock.now()
        writes = _Writes()
        for row, (result, sent_at) in results:
            if isinstance(result, _Held):
                writes.held.append((row.id, now))
            elif isinstance(result, LookupFailed):
                self._lookup_failed(row, result, now, writes)
            else:
                self._answered(row, result, sent_at, now, started, writes)
        async with self._uow.begin() as uow:
            await uow.outbox.mark_accepted(writes.accepted, now)
            await uow.outbox.mark_in_doubt(writes.in_doubt, now)
            await uow.outbox.mark_retry(writes.retry, now)
            await uow.outbox.mark_held(writes.held, now)
            await uow.outbox.mark_failed(writes.failed, now)
            await uow.optouts.mark_opted_out(writes.opted_out, now, str(OPTED_OUT))
            await self._pauses.settle(uow, {row.from_phone for row, _ in results}, now)

    def _lookup_failed(
        self, row: OutboxRow, result: LookupFailed, now: datetime, writes: _Writes
    ) -> None:
        assert row.in_doubt_since is not None
        if gives_up(row.queued_at, now, self._give_up_after):
            why = gave_up_reason(self._give_up_after, f"cannot tell whether it went out: {result}")
            log.warning("send %s: %s", row.id, why)
            writes.failed.append((row.id, None, why))
            return
        # Neither resend nor give up: a resend might be the texter's second copy.
        delay = self._backoff(row.attempts)
        log.warning("send %s: cannot tell whether it went out (%s)", row.id, result)
        writes.in_doubt.append(
            (
                row.id,
                now + timedelta(seconds=delay),
                f"checking an earlier attempt: {result}",
                row.in_doubt_since + self._lease,
            )
        )

    def _answered(
        self,
        row: OutboxRow,
        result: SendResult,
        sent_at: datetime,
        now: datetime,
        started: datetime,
        writes: _Writes,
    ) -> None:
        outcome = classify(result)
        metrics.OUTBOUND.labels(outcome.value).inc()
        message = result.error_message or describe_error(result.error_code)
        if outcome is SendOutcome.ACCEPTED:
            assert result.sid is not None
            writes.accepted.append((row.id, result.sid, result.status or "queued", sent_at))
        elif outcome is SendOutcome.RETRY and gives_up(row.queued_at, now, self._give_up_after):
            why = gave_up_reason(self._give_up_after, message)
            log.warning("send %s to %s: %s", row.id, row.to_phone, why)
            writes.failed.append((row.id, result.error_code, why))
        elif outcome is SendOutcome.RETRY or (
            outcome is SendOutcome.UNKNOWN and row.attempts < self._max_attempts
        ):
            delay = self._backoff(row.attempts)
            when = now + timedelta(seconds=delay)
            if result.ambiguous:
                # Twilio may have taken it: ask before sending again.
                log.info("send %s to %s: %s; will check first", row.id, row.to_phone, message)
                writes.in_doubt.append((row.id, when, message or "", started + self._lease))
                return
            log.info("send %s to %s: %s; retry in %.1fs", row.id, row.to_phone, message, delay)
            writes.retry.append((row.id, when, result.error_code, message))
        elif outcome is SendOutcome.OPTED_OUT:
            # Expected after STOP: not an error worth a stack of log lines.
            log.info("send %s: %s has opted out (%d)", row.id, row.to_phone, OPTED_OUT)
            writes.failed.append((row.id, result.error_code, message))
            writes.opted_out.append(row.to_phone)
        else:
            log.warning("send %s to %s failed: %s", row.id, row.to_phone, message)
            writes.failed.append((row.id, result.error_code, message))

    def _backoff(self, attempts: int) -> float:
        return backoff_seconds(
            attempts, base=self._retry_base, cap=self._retry_cap, jitter=self._jitter()
        )


def _error_text(result: Result) -> str | None:
    if isinstance(result, LookupFailed):
        return f"status lookup failed: {result}"
    if isinstance(result, SendResult):
        if result.error_message:
            return result.error_message
        return describe_error(result.error_code)
    return None
