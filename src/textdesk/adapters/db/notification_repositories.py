"""The notification use cases' repositories on SQLAlchemy, one connection each.

The repositories wrap the SQL of ``subscriptions.py`` and ``notifications.py``;
nothing here adds a statement or a round trip.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db.notifications import SqlNotifications, SqlSenderNumbers
from textdesk.adapters.db.repositories import SqlConversations, SqlOutbox, SqlUnitOfWork
from textdesk.adapters.db.subscriptions import SqlCarrierOptOuts, SqlSubscriptions


class SqlSubscriptionRepositories:
    """``ports.SubscriptionSettingsRepositories`` (and so ``SubscriptionRepositories``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.subscriptions = SqlSubscriptions(conn)
        self.optouts = SqlCarrierOptOuts(conn)
        self.conversations = SqlConversations(conn)


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
