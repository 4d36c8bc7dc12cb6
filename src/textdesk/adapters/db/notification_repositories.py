"""The notification use cases' repositories on SQLAlchemy, one connection each.

The repositories wrap the SQL of ``subscriptions.py`` and ``notifications.py``;
nothing here adds a statement or a round trip.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import directory
from textdesk.adapters.db.admin import SqlReadingUnitOfWork
from textdesk.adapters.db.instance_events import SqlInstanceEvents
from textdesk.adapters.db.instance_polling import SqlIncidentSnapshots, SqlPollRounds
from textdesk.adapters.db.notifications import (
    SqlNotifications,
    SqlRecordEvents,
    SqlSenderNumbers,
)
from textdesk.adapters.db.records import SqlRecordStore
from textdesk.adapters.db.repositories import SqlConversations, SqlOutbox, SqlUnitOfWork
from textdesk.adapters.db.subscriptions import SqlCarrierOptOuts, SqlSubscriptions
from textdesk.adapters.db.texter_accounts import SqlTexterAccounts, SqlTexterDirectory
from textdesk.ports import TexterDirectory


class SqlSubscriptionRepositories:
    """``ports.SubscriptionSettingsRepositories`` (and so ``SubscriptionRepositories``).

    ``directory``: who texts, as the turn's answering reads it (with another
    service's profiles, if people are kept there); the built-in accounts without one.
    """

    def __init__(self, conn: AsyncConnection, directory: TexterDirectory | None = None) -> None:
        self.subscriptions = SqlSubscriptions(conn)
        self.optouts = SqlCarrierOptOuts(conn)
        self.conversations = SqlConversations(conn)
        self.directory: TexterDirectory = directory or SqlTexterDirectory(conn)
        self.accounts = SqlTexterAccounts(conn)


def subscription_settings(db: AsyncEngine) -> SqlUnitOfWork[SqlSubscriptionRepositories]:
    """The unit of work of staff's and the API's changes to a setting."""
    return SqlUnitOfWork(db, SqlSubscriptionRepositories)


class SqlDelivery:
    """``ports.DeliveryRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.subscriptions = SqlSubscriptions(conn)
        self.senders = SqlSenderNumbers(conn)
        self.outbox = SqlOutbox(conn)
        self.notifications = SqlNotifications(conn)


def delivery(db: AsyncEngine) -> SqlUnitOfWork[SqlDelivery]:
    """The unit of work of reading an account's notifications."""
    return SqlUnitOfWork(db, SqlDelivery)


class SqlPhoneAccounts:
    """``ports.PhoneAccounts`` (``users`` by phone, ``adapters/db/directory.py``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def by_phone(self, phone: str) -> int | None:
        user = (await directory.users_by_phone(self._conn, [phone])).get(phone)
        return user.id if user else None


class SqlNotifying(SqlDelivery):
    """``ports.NotifyingRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__(conn)
        self.events = SqlRecordEvents(conn)
        self.records = SqlRecordStore(conn)
        self.accounts = SqlPhoneAccounts(conn)


def notifying(db: AsyncEngine) -> SqlUnitOfWork[SqlNotifying]:
    """The unit of work of the notifier and of API notifications."""
    return SqlUnitOfWork(db, SqlNotifying)


class SqlInstanceEventRepositories(SqlDelivery):
    """``ports.InstanceEventRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__(conn)
        self.seen = SqlInstanceEvents(conn)
        self.accounts = SqlPhoneAccounts(conn)
        self.snapshots = SqlIncidentSnapshots(conn)


def instance_events(db: AsyncEngine) -> SqlUnitOfWork[SqlInstanceEventRepositories]:
    """The unit of work of a record event posted by a ServiceNow instance."""
    return SqlUnitOfWork(db, SqlInstanceEventRepositories)


class SqlInstancePolling:
    """``ports.InstancePollingRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.rounds = SqlPollRounds(conn)
        self.snapshots = SqlIncidentSnapshots(conn)
        self.seen = SqlInstanceEvents(conn)


def instance_polling(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlInstancePolling]:
    """The unit of work of polling a ServiceNow instance (its reads take no write lock)."""
    return SqlReadingUnitOfWork(db, SqlInstancePolling)
