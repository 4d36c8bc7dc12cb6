"""Fakes of the notification use cases' ports: subscriptions, opt-outs, templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from textdesk.domain.subscriptions import Wording
from textdesk.ports import CarrierOptOut, Change, Recipient
from textdesk.testing.live_agents import FakeConversations
from textdesk.testing.tables import FakeTables, FakeUnitOfWork


@dataclass
class StoredUser:
    """One account of ``NotificationTables``."""

    id: int
    name: str
    phone: str | None = None


@dataclass
class NotificationTables(FakeTables):
    """``FakeTables`` and what notifications add; ``optouts`` holds the active opt-outs."""

    users: dict[int, StoredUser] = field(default_factory=dict)
    subscribed: dict[int, bool] = field(default_factory=dict)
    changes: dict[int, list[Change]] = field(default_factory=dict)  # oldest first
    opted_out_at: dict[str, datetime] = field(default_factory=dict)
    # Numbers whose opt-out was lifted: the row stays, inactive.
    opted_in: list[str] = field(default_factory=list)


class FakeSubscriptions:
    """``ports.SubscriptionRepository`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def recipients(self, user_ids: Sequence[int]) -> dict[int, Recipient]:
        return {
            u.id: Recipient(
                user_id=u.id,
                name=u.name,
                phone=u.phone,
                subscribed=self._t.subscribed.get(u.id, False),
                carrier_opted_out=u.phone is not None and u.phone in self._t.optouts,
            )
            for u in (self._t.users.get(i) for i in sorted(set(user_ids)))
            if u is not None
        }

    async def is_enabled(self, user_id: int) -> bool:
        return self._t.subscribed.get(user_id, False)

    async def set_enabled(
        self,
        user_ids: Sequence[int],
        enabled: bool,
        *,
        source: str,
        now: datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> list[int]:
        changed = [u for u in sorted(set(user_ids)) if self._t.subscribed.get(u, False) != enabled]
        for u in changed:
            self._t.subscribed[u] = enabled
            self._t.changes.setdefault(u, []).append(Change(enabled, source, now, reason, actor))
        return changed

    async def history(self, user_id: int) -> list[Change]:
        return list(reversed(self._t.changes.get(user_id, [])))


class FakeCarrierOptOuts:
    """``ports.CarrierOptOutRepository`` on ``NotificationTables.optouts``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def mark_opted_out(self, phones: Sequence[str], now: datetime, source: str) -> None:
        for phone in phones:
            self._t.optouts[phone] = source
            self._t.opted_out_at[phone] = now

    async def is_opted_out(self, phone: str) -> bool:
        return phone in self._t.optouts

    async def current(self, phone: str) -> CarrierOptOut | None:
        if phone not in self._t.optouts:
            return None
        return CarrierOptOut(self._t.opted_out_at[phone], self._t.optouts[phone])

    async def opt_in(self, phone: str) -> None:
        if self._t.optouts.pop(phone, None) is not None:
            self._t.opted_in.append(phone)


class FakeSubscriptionRepositories:
    """``ports.SubscriptionSettingsRepositories`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        self.subscriptions = FakeSubscriptions(tables)
        self.optouts = FakeCarrierOptOuts(tables)
        self.conversations = FakeConversations(tables)


def fake_subscription_settings(
    tables: NotificationTables | None = None,
) -> FakeUnitOfWork[NotificationTables, FakeSubscriptionRepositories]:
    """Staff's and the API's unit of work for settings, in memory."""
    return FakeUnitOfWork(tables or NotificationTables(), FakeSubscriptionRepositories)


class FakeTemplates:
    """``ports.NotificationTemplates`` from a dict of sources and a wording."""

    def __init__(self, sources: dict[str, str] | None = None, wording: Wording | None = None):
        self.sources = dict(sources or {})
        self.wording = wording or Wording()

    def template(self, name: str) -> str | None:
        return self.sources.get(name)

    def safe_wording(self) -> Wording:
        return self.wording
