"""Record events posted by a ServiceNow instance, turned into notifications.

The same templates, subscription rules and outbox as the built-in store's record
events (``triggers.Notifier``): only the caller is found differently (the event
names a ``sys_user``; its mobile number names our account), and the record is read
from the instance, before the transaction opens, since that is a call to another
service.  Each event is noted by (sys_id, event, sys_updated_on, digest of what it
says) in the transaction that queues its text, so the same event posted twice
notifies once, and two comments saved in the same second both notify.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from textdesk.domain.records import Record
from textdesk.domain.servicenow_events import InstanceEvent
from textdesk.notifications.sending import Draft, Report, context, deliver
from textdesk.notifications.triggers import event_body, own_comment
from textdesk.ports import (
    CallerPhones,
    Clock,
    InstanceEventRepositories,
    NotificationTemplates,
    RecordReader,
    RecordViewer,
    UnitOfWork,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    """What became of an event: noted before (``duplicate``), or the send's report."""

    duplicate: bool = False
    report: Report = field(default_factory=Report)


class InstanceEvents:
    """Notifies an incident's caller of the changes the instance reports."""

    def __init__(
        self,
        *,
        uow: UnitOfWork[InstanceEventRepositories],
        callers: CallerPhones,
        records: RecordReader,
        templates: NotificationTemplates,
        views: RecordViewer,
        clock: Clock,
        integration_user: str | None = None,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        """``integration_user``: who textdesk writes as on the instance; only a comment it
        wrote can be a texter's own (``InstanceEvent.signed_for``)."""
        self._integration_user = integration_user
        self._uow = uow
        self._callers = callers
        self._records = records
        self._templates = templates
        self._views = views
        self._clock = clock
        self._on_enqueued = on_enqueued

    async def receive(self, event: InstanceEvent) -> Received:
        """Queue the caller's notification for ``event``, once however often it comes."""
        # Both may call the instance: before the transaction, never inside it.
        phone = await self._callers.phone_for(event.caller_id)
        source = self._templates.template(event.template)
        record = await self._record(event, phone) if phone and source else None
        now = self._clock.now()
        received = Received()
        async with self._uow.begin() as repos:
            noted = await repos.seen.first_time(
                sys_id=event.sys_id,
                event=event.event,
                updated_on=event.sys_updated_on,
                digest=event.digest,
                now=now,
            )
            if not noted:
                return Received(duplicate=True)
            # What polling compares with next (when the instance is polled too): this
            # change is known, and not texted again when a round reads it later.
            await repos.snapshots.advance(event)
            user_id = await repos.accounts.by_phone(phone) if phone else None
            data = event.data(integration_user=self._integration_user)
            if user_id is None or record is None or source is None:
                # A guest (no account with the caller's number), or no template of that kind.
                received.report.skipped["unknown" if source else "no_template"] += 1
                return received
            if own_comment(event.template, data, record):
                received.report.skipped["own_comment"] += 1
                return received
            found = await repos.subscriptions.recipients([user_id])
            ctx = context(
                record=record,
                views=self._views,
                event={"kind": event.template, **data},
                user=found.get(user_id),
            )
            draft = Draft(
                user_id=user_id,
                body=event_body(source, ctx, event.template),
                source="event",
                template=event.template,
            )
            received = Received(report=await deliver(repos, [draft], now, found=found))
        if received.report.queued:
            self._on_enqueued()
        return received

    async def _record(self, event: InstanceEvent, phone: str | None) -> Record:
        """The incident as the instance has it now; as the event tells it, if it cannot say."""
        try:
            found = await self._records.get(event.number)
        except Exception as exc:  # the store's own errors: not ours to name here
            # The event carries what the text needs; a slow or down instance must not
            # cost the caller their notification.
            log.warning("%s could not be read for its %s event: %s", event.number, event.event, exc)
            found = None
        return found or event.record(caller_phone=phone, now=self._clock.now())
