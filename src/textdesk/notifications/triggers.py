"""What triggers notifications: record events (the notifier loop) and API requests.

Both render a template per recipient and hand the drafts to
:func:`textdesk.notifications.sending.deliver`, which applies the subscription and
opt-out checks and queues them in the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import directory
from textdesk.adapters.db import notifications as store
from textdesk.adapters.db import records as record_store
from textdesk.adapters.db import subscriptions as subs
from textdesk.adapters.db.notification_repositories import SqlDelivery
from textdesk.adapters.db.notifications import EventRow
from textdesk.adapters.files.notification_files import NotificationFiles
from textdesk.domain.records import Record
from textdesk.domain.templating.render import TemplateTooCostly, compile_template
from textdesk.notifications.sending import Draft, Report, context, deliver, render_body
from textdesk.ports import Clock
from textdesk.records.incidents import RecordViews

log = logging.getLogger(__name__)


class NotifyError(ValueError):
    """A request that cannot be sent as asked (unknown template or record, bad template).

    ``field`` names the request field at fault, where there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _event_body(source: str, ctx: Mapping[str, Any], kind: str) -> str:
    """An event's text; a template stopped by its budget sends nothing (logged)."""
    try:
        return render_body(source, ctx)
    except TemplateTooCostly as exc:
        log.error("the %r notification template was stopped: %s", kind, exc)
        return ""


async def _caller_of(conn: AsyncConnection, record: Record) -> int | None:
    """The account a record belongs to: its caller, or the account with the caller's phone."""
    if record.caller_id is not None:
        return record.caller_id
    if record.caller_phone:
        found = await directory.users_by_phone(conn, [record.caller_phone])
        user = found.get(record.caller_phone)
        return user.id if user else None
    return None


def _own_comment(event: EventRow, record: Record) -> bool:
    """A texter is not notified of the comment they just texted in themselves."""
    author = event.data.get("author")
    return event.kind == "commented" and author in (record.caller_name, record.caller_phone)


class Notifier:
    """Turns record events (state changed, commented, assigned...) into notifications.

    An event kind is notified when a template file of that name exists
    (``state_changed.txt``...); ``created`` ships without one, since the texter who
    opened the record over SMS already got its card.  Events are marked handled in
    the transaction that queues their texts, so each is notified at most once.
    """

    def __init__(
        self,
        *,
        db: AsyncEngine,
        clock: Clock,
        files: NotificationFiles,
        views: RecordViews,
        on_enqueued: Callable[[], None] = lambda: None,
        batch_size: int = 200,
    ) -> None:
        self._db = db
        self._clock = clock
        self._files = files
        self._views = views
        self._on_enqueued = on_enqueued
        self._batch = batch_size

    async def run_once(self) -> int:
        """Handle one batch of record events; returns how many were handled."""
        now = self._clock.now()
        async with self._db.begin() as conn:
            events = await store.pending_events(conn, limit=self._batch)
            if not events:
                return 0
            drafts = await self._drafts(conn, events)
            report = await deliver(SqlDelivery(conn), drafts, now)
            await store.mark_events_handled(conn, [e.id for e in events], now)
        if report.queued:
            self._on_enqueued()
        return len(events)

    async def _drafts(self, conn: AsyncConnection, events: Sequence[EventRow]) -> list[Draft]:
        numbers = await store.record_numbers(conn, [e.record_id for e in events])
        loaded: dict[int, tuple[Record, int | None]] = {}
        templates = {kind: self._files.template(kind) for kind in {e.kind for e in events}}
        wanted = [e for e in events if templates[e.kind] and e.record_id in numbers]
        for record_id in {e.record_id for e in wanted}:
            record = await record_store.get(conn, numbers[record_id])
            if record is not None:
                loaded[record_id] = (record, await _caller_of(conn, record))
        user_ids = [u for _, u in loaded.values() if u is not None]
        found = await subs.recipients(conn, user_ids)
        drafts: list[Draft] = []
        for event in wanted:
            record, user_id = loaded.get(event.record_id, (None, None))
            source = templates[event.kind]
            if record is None or user_id is None or source is None or _own_comment(event, record):
                continue
            ctx = context(
                record=record,
                views=self._views,
                event={"kind": event.kind, **event.data},
                user=found.get(user_id),
            )
            drafts.append(
                Draft(
                    user_id=user_id,
                    body=_event_body(source, ctx, event.kind),
                    source="event",
                    template=event.kind,
                    record_id=record.id,
                    event_id=event.id,
                )
            )
        return drafts


@dataclass(frozen=True)
class Request:
    """A notification asked for through the API: to accounts, or to a record's caller."""

    user_ids: Sequence[int] = ()
    record_number: str | None = None
    template: str | None = None
    body: str | None = None
    params: Mapping[str, Any] | None = None


def _source(files: NotificationFiles, request: Request) -> str:
    if request.template is not None:
        found = files.template(request.template)
        if found is None:
            raise NotifyError(f"no notification template {request.template!r}", field="template")
        return found
    if not request.body:
        raise NotifyError("give a template name or a body", field="body")
    try:
        compile_template(request.body)
    except TemplateSyntaxError as exc:
        raise NotifyError(f"body is not a valid template: {exc.message}", field="body") from exc
    return request.body


async def send(
    conn: AsyncConnection,
    request: Request,
    *,
    files: NotificationFiles,
    views: RecordViews,
    clock: Clock,
) -> Report:
    """Render and queue an API notification; subscription rules apply as for events."""
    source = _source(files, request)
    record: Record | None = None
    user_ids = list(dict.fromkeys(request.user_ids))
    if request.record_number is not None:
        record = await record_store.get(conn, request.record_number)
        if record is None:
            raise NotifyError(f"no record {request.record_number}", field="record_number")
        if not user_ids:
            caller = await _caller_of(conn, record)
            if caller is None:
                # The caller is a guest: there is no account to notify.
                report = Report()
                report.skipped["unknown"] += 1
                return report
            user_ids = [caller]
    found = await subs.recipients(conn, user_ids)
    drafts: list[Draft] = []
    for user_id in user_ids:
        # An event template sent by hand reads its event.* from the request's params.
        ctx = context(
            record=record,
            views=views,
            event=request.params,
            params=request.params,
            user=found.get(user_id),
        )
        try:
            body = render_body(source, ctx)
        except TemplateTooCostly as exc:
            field = "template" if request.template is not None else "body"
            raise NotifyError(f"the template was stopped: {exc}", field=field) from exc
        drafts.append(
            Draft(
                user_id=user_id,
                body=body,
                source="api",
                template=request.template,
                record_id=record.id if record is not None else None,
            )
        )
    return await deliver(SqlDelivery(conn), drafts, clock.now(), found=found)
