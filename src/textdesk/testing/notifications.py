"""Fakes of the notification use cases' ports: subscriptions, opt-outs, templates,
the notifications' history and the numbers they are sent from, record events."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from textdesk.domain.instance_changes import PollClaim, Snapshot
from textdesk.domain.records import Record
from textdesk.domain.servicenow_events import InstanceEvent
from textdesk.domain.subscriptions import Wording
from textdesk.ports import (
    CarrierOptOut,
    Change,
    EventKey,
    HistoryRow,
    NewNotification,
    Recipient,
    RecordEvent,
    TexterProfile,
)
from textdesk.testing.admin import FakeReadingUnitOfWork
from textdesk.testing.live_agents import FakeConversations
from textdesk.testing.sending import FakeOutbox
from textdesk.testing.tables import FakeTables, FakeUnitOfWork


@dataclass
class StoredUser:
    """One account of ``NotificationTables``."""

    id: int
    name: str
    phone: str | None = None
    email: str | None = None


@dataclass
class StoredNotification:
    """One notification decision of ``NotificationTables``."""

    id: int
    decision: NewNotification
    created_at: datetime


@dataclass
class StoredEvent:
    """One record event of ``NotificationTables``."""

    event: RecordEvent
    handled_at: datetime | None = None


@dataclass
class NotificationTables(FakeTables):
    """``FakeTables`` and what notifications add; ``optouts`` holds the active opt-outs."""

    users: dict[int, StoredUser] = field(default_factory=dict)
    subscribed: dict[int, bool] = field(default_factory=dict)
    changes: dict[int, list[Change]] = field(default_factory=dict)  # oldest first
    opted_out_at: dict[str, datetime] = field(default_factory=dict)
    # Numbers whose opt-out was lifted: the row stays, inactive.
    opted_in: list[str] = field(default_factory=list)
    notifications: list[StoredNotification] = field(default_factory=list)
    # Our conversational numbers in configured order, and each texter's latest one.
    numbers: list[str] = field(default_factory=list)
    latest_number: dict[str, str] = field(default_factory=dict)
    records: dict[int, Record] = field(default_factory=dict)  # by id
    events: list[StoredEvent] = field(default_factory=list)
    # Record events a ServiceNow instance posted: (sys_id, event, sys_updated_on, digest).
    instance_events: set[tuple[str, str, str, str]] = field(default_factory=set)
    # Another service's users (ServiceNow sys_user profiles) by phone: texters known there.
    profiles: dict[str, TexterProfile] = field(default_factory=dict)
    # Polling the instance: what was last known of each incident, and the rounds'
    # cursor and schedule (``due_at`` None: no round claimed yet).
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    poll_cursor: str | None = None
    poll_due_at: datetime | None = None


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


class FakeTexterDirectory:
    """``ports.TexterDirectory``: ``NotificationTables.users`` first, then ``profiles``
    (as ``adapters/texters.TextersWithProfiles`` merges them)."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def profiles_by_phone(self, phones: Sequence[str]) -> dict[str, TexterProfile]:
        found: dict[str, TexterProfile] = {}
        for phone in dict.fromkeys(phones):
            here = next((u for u in self._t.users.values() if u.phone == phone), None)
            there = self._t.profiles.get(phone)
            if here is not None:
                found[phone] = TexterProfile(
                    phone,
                    here.name,
                    here.email,
                    user_id=here.id,
                    account=there.account if there else None,
                    link=there.link if there else None,
                )
            elif there is not None:
                found[phone] = there
        return found


class FakeTexterAccounts:
    """``ports.TexterAccounts`` on ``NotificationTables.users`` and its conversations."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def link(self, phone: str, *, name: str, email: str | None, now: datetime) -> int:
        user = next((u for u in self._t.users.values() if u.phone == phone), None)
        if user is None:
            user = StoredUser(max(self._t.users, default=0) + 1, name, phone, email)
            self._t.users[user.id] = user
        for conv in self._t.conversations.values():
            if conv.phone == phone and conv.user_id is None:
                conv.user_id = user.id
        return user.id


class FakeSubscriptionRepositories:
    """``ports.SubscriptionSettingsRepositories`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        self.subscriptions = FakeSubscriptions(tables)
        self.optouts = FakeCarrierOptOuts(tables)
        self.conversations = FakeConversations(tables)
        self.directory = FakeTexterDirectory(tables)
        self.accounts = FakeTexterAccounts(tables)


def fake_subscription_settings(
    tables: NotificationTables | None = None,
) -> FakeUnitOfWork[NotificationTables, FakeSubscriptionRepositories]:
    """Staff's and the API's unit of work for settings, in memory."""
    return FakeUnitOfWork(tables or NotificationTables(), FakeSubscriptionRepositories)


class FakeNotifications:
    """``ports.NotificationRepository``: ``NotificationTables.notifications`` joined to
    the outbox for each one's delivery status."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def add(self, items: Sequence[NewNotification], now: datetime) -> None:
        for item in items:
            self._t.notifications.append(
                StoredNotification(len(self._t.notifications) + 1, item, now)
            )

    async def history(self, user_id: int, *, limit: int, offset: int) -> list[HistoryRow]:
        mine = [n for n in reversed(self._t.notifications) if n.decision.user_id == user_id]
        rows: list[HistoryRow] = []
        for n in mine[offset : offset + limit]:
            d = n.decision
            text = next((t for t in self._t.outbox if t.id == d.outbox_id), None)
            record = self._t.records.get(d.record_id) if d.record_id else None
            number = record.number if record is not None else None
            rows.append(
                HistoryRow(
                    id=n.id,
                    created_at=n.created_at,
                    source=d.source,
                    template=d.template,
                    record_number=number,
                    body=d.body,
                    status=text.status if text is not None else d.status,
                    reason=d.reason,
                    error_code=text.error_code if text is not None else None,
                    error_message=text.error_message if text is not None else None,
                    sent_at=text.sent_at if text is not None else None,
                )
            )
        return rows


class FakeSenderNumbers:
    """``ports.SenderNumbers`` on ``NotificationTables.numbers`` and ``latest_number``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def latest(self, phones: Sequence[str]) -> dict[str, str]:
        return {p: self._t.latest_number[p] for p in phones if p in self._t.latest_number}

    async def default(self) -> str | None:
        return self._t.numbers[0] if self._t.numbers else None


class FakeDelivery:
    """``ports.DeliveryRepositories`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        self.subscriptions = FakeSubscriptions(tables)
        self.senders = FakeSenderNumbers(tables)
        self.outbox = FakeOutbox(tables)
        self.notifications = FakeNotifications(tables)


def fake_delivery(
    tables: NotificationTables | None = None,
) -> FakeUnitOfWork[NotificationTables, FakeDelivery]:
    """Queueing notifications and reading their history, in memory."""
    return FakeUnitOfWork(tables or NotificationTables(), FakeDelivery)


class FakeRecordEvents:
    """``ports.RecordEventRepository`` on ``NotificationTables.events``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def pending(self, *, limit: int) -> list[RecordEvent]:
        waiting = [e.event for e in self._t.events if e.handled_at is None]
        return sorted(waiting, key=lambda e: e.id)[:limit]

    async def mark_handled(self, ids: Sequence[int], now: datetime) -> None:
        for stored in self._t.events:
            if stored.event.id in ids:
                stored.handled_at = now

    async def record_numbers(self, record_ids: Sequence[int]) -> dict[int, str]:
        return {i: self._t.records[i].number for i in record_ids if i in self._t.records}


class FakeRecordReader:
    """``ports.RecordReader`` on ``NotificationTables.records``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def get(self, number: str) -> Record | None:
        wanted = number.upper()
        return next((r for r in self._t.records.values() if r.number.upper() == wanted), None)


class FakePhoneAccounts:
    """``ports.PhoneAccounts`` on ``NotificationTables.users``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def by_phone(self, phone: str) -> int | None:
        return next((u.id for u in self._t.users.values() if u.phone == phone), None)


class FakeNotifying(FakeDelivery):
    """``ports.NotifyingRepositories`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        super().__init__(tables)
        self.events = FakeRecordEvents(tables)
        self.records = FakeRecordReader(tables)
        self.accounts = FakePhoneAccounts(tables)


def fake_notifying(
    tables: NotificationTables | None = None,
) -> FakeUnitOfWork[NotificationTables, FakeNotifying]:
    """The notifier's and API notifications' unit of work, in memory."""
    return FakeUnitOfWork(tables or NotificationTables(), FakeNotifying)


class FakeInstanceEvents:
    """``ports.InstanceEventLog`` on ``NotificationTables.instance_events``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def first_time(
        self, *, sys_id: str, event: str, updated_on: str, digest: str, now: datetime
    ) -> bool:
        key = (sys_id, event, updated_on, digest)
        if key in self._t.instance_events:
            return False
        self._t.instance_events.add(key)
        return True

    async def noted(self, keys: Collection[EventKey]) -> set[EventKey]:
        return {key for key in keys if key in self._t.instance_events}


class FakeIncidentSnapshots:
    """``ports.IncidentSnapshots`` on ``NotificationTables.snapshots``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def of(self, sys_ids: Sequence[str]) -> dict[str, Snapshot]:
        return {i: self._t.snapshots[i] for i in sys_ids if i in self._t.snapshots}

    async def keep(self, snapshots: Sequence[Snapshot], now: datetime) -> None:
        for seen in snapshots:
            kept = self._t.snapshots.get(seen.sys_id)
            if kept is None:
                self._t.snapshots[seen.sys_id] = seen
                continue
            if kept.state_on <= seen.state_on:
                kept = replace(kept, state=seen.state, state_on=seen.state_on)
            if kept.assigned_on <= seen.assigned_on:
                kept = replace(kept, assigned_to=seen.assigned_to, assigned_on=seen.assigned_on)
            through = max(kept.comments_through, seen.comments_through)
            self._t.snapshots[seen.sys_id] = replace(kept, comments_through=through)

    async def advance(self, event: InstanceEvent) -> None:
        kept = self._t.snapshots.get(event.sys_id)
        on = event.sys_updated_on
        if kept is None:
            return
        if event.event == "state_changed" and kept.state_on <= on:
            self._t.snapshots[event.sys_id] = replace(kept, state=event.state, state_on=on)
        elif event.event == "assigned" and kept.assigned_on <= on:
            self._t.snapshots[event.sys_id] = replace(
                kept, assigned_to=event.assigned_to, assigned_on=on
            )


class FakePollRounds:
    """``ports.PollRounds`` on ``NotificationTables.poll_cursor`` and ``poll_due_at``."""

    def __init__(self, tables: NotificationTables) -> None:
        self._t = tables

    async def claim(self, *, now: datetime, lease: timedelta) -> PollClaim | None:
        if self._t.poll_due_at is not None and self._t.poll_due_at > now:
            return None
        self._t.poll_due_at = now + lease
        return PollClaim(self._t.poll_cursor)

    async def finish(self, *, cursor: str, due_at: datetime) -> None:
        if self._t.poll_cursor is None or self._t.poll_cursor < cursor:
            self._t.poll_cursor = cursor
        self._t.poll_due_at = due_at

    async def release(self, *, due_at: datetime) -> None:
        self._t.poll_due_at = due_at


class FakeInstanceEventRepositories(FakeDelivery):
    """``ports.InstanceEventRepositories`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        super().__init__(tables)
        self.seen = FakeInstanceEvents(tables)
        self.accounts = FakePhoneAccounts(tables)
        self.snapshots = FakeIncidentSnapshots(tables)


def fake_instance_events(
    tables: NotificationTables | None = None,
) -> FakeUnitOfWork[NotificationTables, FakeInstanceEventRepositories]:
    """The unit of work of a ServiceNow instance's record events, in memory."""
    return FakeUnitOfWork(tables or NotificationTables(), FakeInstanceEventRepositories)


class FakeInstancePolling:
    """``ports.InstancePollingRepositories`` on ``NotificationTables``."""

    def __init__(self, tables: NotificationTables) -> None:
        self.rounds = FakePollRounds(tables)
        self.snapshots = FakeIncidentSnapshots(tables)
        self.seen = FakeInstanceEvents(tables)


def fake_instance_polling(
    tables: NotificationTables | None = None,
) -> FakeReadingUnitOfWork[NotificationTables, FakeInstancePolling]:
    """The unit of work of polling a ServiceNow instance, in memory (share ``tables``
    with :func:`fake_instance_events` so both see the same events and snapshots)."""
    return FakeReadingUnitOfWork(tables or NotificationTables(), FakeInstancePolling)


class FakeCallerPhones:
    """``ports.CallerPhones``: ``sys_user`` sys_ids to E.164 numbers."""

    def __init__(self, phones: dict[str, str] | None = None) -> None:
        self.phones = dict(phones or {})

    async def phone_for(self, sys_id: str) -> str | None:
        return self.phones.get(sys_id)


class FakeTemplates:
    """``ports.NotificationTemplates`` from a dict of sources and a wording."""

    def __init__(self, sources: dict[str, str] | None = None, wording: Wording | None = None):
        self.sources = dict(sources or {})
        self.wording = wording or Wording()

    def template(self, name: str) -> str | None:
        return self.sources.get(name)

    def safe_wording(self) -> Wording:
        return self.wording
