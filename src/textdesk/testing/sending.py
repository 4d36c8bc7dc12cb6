"""Fakes of the dispatcher's ports: its repositories, Twilio's gateway, the pacer, media links."""

from __future__ import annotations

from collections import deque
from collections.abc import (
    Collection,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from textdesk.domain.delivery import LookupFailed, SendResult
from textdesk.domain.sender_pauses import Pause
from textdesk.ports import (
    NewMessage,
    OutboxRow,
)
from textdesk.testing.tables import UNSENT, FakeTables, FakeUnitOfWork, StoredText


class FakeOutbox:
    """``ports.OutboxRepository`` on ``FakeTables.outbox``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    def _rows(self, ids: Iterable[int]) -> Iterator[StoredText]:
        wanted = set(ids)
        return (t for t in self._t.outbox if t.id in wanted)

    async def enqueue(self, messages: Sequence[NewMessage], now: datetime) -> list[int]:
        ids: list[int] = []
        for m in messages:
            outbox_id = max((t.id for t in self._t.outbox), default=0) + 1
            self._t.outbox.append(
                StoredText(
                    id=outbox_id,
                    to_phone=m.to_phone,
                    from_phone=m.from_phone,
                    body=m.body,
                    media=m.media,
                    kind=m.kind,
                    conversation_id=m.conversation_id,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            ids.append(outbox_id)
        return ids

    async def release_expired_claims(self, now: datetime) -> int:
        lapsed = [
            t
            for t in self._t.outbox
            if t.status == "claimed" and t.claimed_until is not None and t.claimed_until < now
        ]
        for t in lapsed:
            t.status = "in_doubt"
        return len(lapsed)

    async def claim_due(
        self,
        *,
        now: datetime,
        lease: timedelta,
        limit: int,
        per_sender: int,
        held: Collection[str] = (),
        probes: Collection[str] = (),
    ) -> list[OutboxRow]:
        first_unsent: dict[str, int] = {}
        for t in sorted(self._t.outbox, key=lambda t: t.id):
            if t.status in UNSENT:
                first_unsent.setdefault(t.to_phone, t.id)
        due = [
            t
            for t in sorted(self._t.outbox, key=lambda t: t.id)
            if t.status in ("pending", "in_doubt")
            and t.next_attempt_at is not None
            and t.next_attempt_at <= now
            and first_unsent[t.to_phone] == t.id
            and t.from_phone not in held
        ][:limit]
        chosen: list[OutboxRow] = []
        per_number: dict[str, int] = {}
        for t in due:
            allowed = 1 if t.from_phone in probes else per_sender
            if per_number.get(t.from_phone, 0) >= allowed:
                continue
            per_number[t.from_phone] = per_number.get(t.from_phone, 0) + 1
            in_doubt = t.status == "in_doubt" and t.claimed_until is not None
            chosen.append(
                OutboxRow(
                    id=t.id,
                    to_phone=t.to_phone,
                    from_phone=t.from_phone,
                    body=t.body,
                    media=list(t.media),
                    attempts=t.attempts + 1,
                    kind=t.kind,
                    queued_at=t.created_at,
                    in_doubt_since=t.claimed_until - lease
                    if in_doubt and t.claimed_until
                    else None,
                )
            )
            t.status, t.attempts, t.claimed_until = "claimed", t.attempts + 1, now + lease
        return chosen

    async def mark_accepted(
        self, rows: Sequence[tuple[int, str, str, datetime]], now: datetime
    ) -> None:
        for outbox_id, sid, status, sent_at in rows:
            for t in self._rows([outbox_id]):
                t.status, t.twilio_sid, t.sent_at = status or "queued", sid, sent_at
                t.claimed_until, t.error_code, t.error_message = None, None, None

    async def mark_in_doubt(
        self, rows: Sequence[tuple[int, datetime, str, datetime]], now: datetime
    ) -> None:
        for outbox_id, when, message, lost_until in rows:
            for t in self._rows([outbox_id]):
                t.status, t.next_attempt_at = "in_doubt", when
                t.claimed_until, t.error_message = lost_until, message

    async def mark_retry(
        self, rows: Sequence[tuple[int, datetime, int | None, str | None]], now: datetime
    ) -> None:
        for outbox_id, when, code, message in rows:
            for t in self._rows([outbox_id]):
                t.status, t.next_attempt_at, t.claimed_until = "pending", when, None
                t.error_code, t.error_message = code, message

    async def mark_held(self, rows: Sequence[tuple[int, datetime]], now: datetime) -> None:
        for outbox_id, when in rows:
            for t in self._rows([outbox_id]):
                t.status, t.attempts, t.next_attempt_at = "pending", t.attempts - 1, when
                t.claimed_until = None

    async def mark_failed(
        self, rows: Sequence[tuple[int, int | None, str | None]], now: datetime
    ) -> None:
        for outbox_id, code, message in rows:
            for t in self._rows([outbox_id]):
                t.status, t.claimed_until = "failed", None
                t.error_code, t.error_message = code, message

    async def mark_canceled(self, rows: Sequence[tuple[int, str]], now: datetime) -> None:
        for outbox_id, reason in rows:
            for t in self._rows([outbox_id]):
                t.status, t.claimed_until, t.error_message = "canceled", None, reason

    async def fail_expired(
        self, number: str, *, queued_before: datetime, message: str, now: datetime
    ) -> int:
        expired = [
            t
            for t in self._t.outbox
            if t.from_phone == number and t.status == "pending" and t.created_at < queued_before
        ]
        for t in expired:
            t.status, t.claimed_until, t.error_message = "failed", None, message
        return len(expired)


class FakeOptOuts:
    """``ports.OptOutRepository`` on ``FakeTables.optouts``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def mark_opted_out(self, phones: Sequence[str], now: datetime, source: str) -> None:
        for phone in phones:
            self._t.optouts[phone] = source


class FakeSenderPauses:
    """``ports.SenderPauseRepository`` on ``FakeTables.pauses``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def load(self) -> dict[str, Pause]:
        return dict(self._t.pauses)

    async def save(self, pause: Pause, now: datetime) -> None:
        self._t.pauses[pause.number] = pause

    async def take_probe(self, number: str, *, now: datetime, hold_until: datetime) -> bool:
        pause = self._t.pauses.get(number)
        if pause is None or pause.until > now:
            return False
        self._t.pauses[number] = replace(pause, until=hold_until)
        return True

    async def return_probe(self, number: str, now: datetime) -> None:
        if number in self._t.pauses:
            self._t.pauses[number] = replace(self._t.pauses[number], until=now)

    async def resume(self, number: str, now: datetime) -> bool:
        if self._t.pauses.pop(number, None) is None:
            return False
        for t in self._t.outbox:
            if (
                t.from_phone == number
                and t.status in ("pending", "in_doubt")
                and t.next_attempt_at is not None
                and t.next_attempt_at > now
            ):
                t.next_attempt_at = now
        return True


class FakeSendChecks:
    """``ports.SendChecks``: refuses the outbox ids in ``FakeTables.blocked``."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def blocked(self, rows: Sequence[OutboxRow]) -> dict[int, str]:
        return {r.id: self._t.blocked[r.id] for r in rows if r.id in self._t.blocked}


class FakeSending:
    """``ports.SendingRepositories`` on ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.outbox = FakeOutbox(tables)
        self.optouts = FakeOptOuts(tables)
        self.pauses = FakeSenderPauses(tables)
        self.checks = FakeSendChecks(tables)


def fake_sending(tables: FakeTables | None = None) -> FakeUnitOfWork[FakeTables, FakeSending]:
    """The dispatcher's unit of work, in memory."""
    return FakeUnitOfWork(tables or FakeTables(), FakeSending)


@dataclass(frozen=True)
class GatewayCall:
    """One send ``FakeGateway`` was asked for."""

    to: str
    from_: str
    body: str
    media_urls: tuple[str, ...]


class FakeGateway:
    """``ports.SmsGateway`` in memory: answers sends in the order ``answers`` gives.

    With no answer queued a send is accepted.  ``find_sent`` finds an accepted send
    of the same text, or raises ``lookup_error`` when one is set.
    """

    def __init__(self) -> None:
        self.answers: deque[SendResult] = deque()
        self.calls: list[GatewayCall] = []
        self.lookups: list[tuple[str, str, str]] = []
        self.lookup_error: LookupFailed | None = None
        self._accepted: dict[tuple[str, str, str], SendResult] = {}
        self._statuses: dict[str, tuple[str, int | None]] = {}

    def accept_earlier(self, *, to: str, from_: str, body: str, sid: str) -> None:
        """Twilio took this text already (an attempt whose answer was lost)."""
        result = SendResult(201, sid=sid, status="queued")
        self._accepted[(to, from_, body)] = result
        self._statuses[sid] = ("queued", None)

    def status_now(self, sid: str, status: str, error_code: int | None = None) -> None:
        """What Twilio says of ``sid`` when asked from now on."""
        self._statuses[sid] = (status, error_code)

    def forget(self, sid: str) -> None:
        """Twilio cannot say what became of ``sid`` (a 404): ``status_of`` raises."""
        self._statuses.pop(sid, None)

    async def send(
        self,
        *,
        to: str,
        from_: str,
        body: str,
        media_urls: Sequence[str],
        status_callback: str | None,
    ) -> SendResult:
        self.calls.append(GatewayCall(to, from_, body, tuple(media_urls)))
        if self.answers:
            return self.answers.popleft()
        sid = f"SM{len(self.calls):032x}"
        self.accept_earlier(to=to, from_=from_, body=body, sid=sid)
        return self._accepted[(to, from_, body)]

    async def find_sent(
        self, *, to: str, from_: str, body: str, media_count: int, since: datetime
    ) -> SendResult | None:
        self.lookups.append((to, from_, body))
        if self.lookup_error is not None:
            raise self.lookup_error
        return self._accepted.get((to, from_, body))

    async def status_of(self, sid: str) -> tuple[str, int | None]:
        if sid not in self._statuses:
            raise LookupFailed(f"no message {sid}")
        return self._statuses[sid]


class FakePacer:
    """``ports.Pacer`` that never waits, and notes each slot taken, in order."""

    def __init__(self) -> None:
        self.reserved: list[str] = []

    async def reserve(self, number: str) -> float:
        self.reserved.append(number)
        return 0.0


class FakeMediaLinks:
    """``ports.MediaLinks`` with plain, unsigned URLs."""

    def url_for(self, key: str) -> str:
        return f"https://media.invalid/{key}"
