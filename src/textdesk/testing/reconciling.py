"""Fakes of the reconciler's ports: sent texts' statuses on ``FakeTables.outbox``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from textdesk.domain.delivery import (
    IN_FLIGHT,
    RECONCILE_HORIZON,
    describe_error,
    is_opt_out,
    moves_forward,
    next_status_check,
)
from textdesk.ports import StatusUpdate
from textdesk.testing.tables import FakeTables, FakeUnitOfWork


class FakeStatuses:
    """``ports.StatusRepository``: the SQL's rules (which texts are asked about, forward only)."""

    def __init__(self, tables: FakeTables) -> None:
        self._t = tables

    async def claim_checks(self, *, now: datetime, after: timedelta, limit: int) -> list[str]:
        due = sorted(
            (
                t
                for t in self._t.outbox
                if t.status in IN_FLIGHT
                and t.twilio_sid is not None
                and t.sent_at is not None
                and t.sent_at >= now - RECONCILE_HORIZON
                and (t.next_attempt_at or t.created_at) <= now
                and (t.updated_at or t.created_at) <= now - after
            ),
            key=lambda t: t.next_attempt_at or t.created_at,
        )[:limit]
        for text in due:
            assert text.sent_at is not None
            text.next_attempt_at = next_status_check(text.sent_at, now, after)
        return [str(t.twilio_sid) for t in due]

    async def apply_reconciled(self, updates: Sequence[StatusUpdate]) -> list[int | None]:
        moved: list[int | None] = []
        for update in updates:
            text = next((t for t in self._t.outbox if t.twilio_sid == update.sid), None)
            if text is None or not moves_forward(text.status, update.status):
                moved.append(None)
                continue
            text.status, text.updated_at = update.status, update.received_at
            if update.error_code is not None:
                text.error_code = update.error_code
                text.error_message = describe_error(update.error_code)
                if is_opt_out(update.error_code):
                    self._t.optouts[text.to_phone] = "status_callback"
            moved.append(text.conversation_id or 0)
        return moved

    async def apply_callbacks(self, updates: Sequence[StatusUpdate]) -> list[int | None]:
        self._t.callbacks.extend(updates)
        return await self.apply_reconciled(updates)


class FakeReconciling:
    """``ports.ReconcileRepositories`` over ``FakeTables``."""

    def __init__(self, tables: FakeTables) -> None:
        self.statuses = FakeStatuses(tables)


def fake_reconciling(
    tables: FakeTables | None = None,
) -> FakeUnitOfWork[FakeTables, FakeReconciling]:
    """The reconciler's unit of work on in-memory tables."""
    return FakeUnitOfWork(tables or FakeTables(), FakeReconciling)
