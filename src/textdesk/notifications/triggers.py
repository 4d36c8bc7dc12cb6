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

from textdesk.domain.records import Record
from textdesk.domain.templating.render import TemplateTooCostly, compile_template
from textdesk.notifications.sending import Draft, Report, context, deliver, render_body
from textdesk.ports import (
    Clock,
    NotificationTemplates,
    NotifyingRepositories,
    PhoneAccounts,
    RecordEvent,
    RecordViewer,
    UnitOfWork,
)

log = logging.getLogger(__name__)


class NotifyError(ValueError):
    """A request that cannot be sent as asked (unknown template or record, bad template).

    ``field`` names the request field at fault, where there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def event_body(source: str, ctx: Mapping[str, Any], kind: str) -> str:
    """An event's text; a template stopped by its budget sends nothing (logged)."""
    try:
        return render_body(source, ctx)
    except TemplateTooCostly as exc:
        log.error("the %r notification template was stopped: %s", kind, exc)
        return ""


async def _caller_of(accounts: PhoneAccounts, record: Record) -> int | None:
    """The account a record belongs to: its caller, or the account with the caller's phone."""
    if record.caller_id is not None:
        return record.caller_id
    if record.caller_phone:
        return await accounts.by_phone(record.caller_phone)
    return None


def own_comment(kind: str, data: Mapping[str, Any], record: Record) -> bool:
    """A texter is not notified of the comment they just texted in themselves."""
    author = data.get("author")
    return kind == "commented" and author in (record.caller_name, record.caller_phone)


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
        uow: UnitOfWork[NotifyingRepositories],
        clock: Clock,
        templates: NotificationTemplates,
        views: RecordViewer,
        on_enqueued: Callable[[], None] = lambda: None,
        batch_size: int = 200,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._templates = templates
        self._views = views
        self._on_enqueued = on_enqueued
        self._batch = batch_size

    async def run_once(self) -> int:
        """Handle one batch of record events; returns how many were handled."""
        now = self._clock.now()
        async with self._uow.begin() as repos:
            events = await repos.events.pending(limit=self._batch)
            if not events:
                return 0
            drafts = await self._drafts(repos, events)
            report = await deliver(repos, drafts, now)
            await repos.events.mark_handled([e.id for e in events], now)
        if report.queued:
            self._on_enqueued()
        return len(events)

    async def _drafts(
        self, repos: NotifyingRepositories, events: Sequence[RecordEvent]
    ) -> list[Draft]:
        numbers = await repos.events.record_numbers([e.record_id for e in events])
        loaded: dict[int, tuple[Record, int | None]] = {}
        templates = {kind: self._templates.template(kind) for kind in {e.kind for e in events}}
        wanted = [e for e in events if templates[e.kind] and e.record_id in numbers]
        for record_id in {e.record_id for e in wanted}:
            record = await repos.records.get(numbers[record_id])
            if record is not None:
                loaded[record_id] = (record, await _caller_of(repos.accounts, record))
        user_ids = [u for _, u in loaded.values() if u is not None]
        found = await repos.subscriptions.recipients(user_ids)
        drafts: list[Draft] = []
        for event in wanted:
            record, user_id = loaded.get(event.record_id, (None, None))
            source = templates[event.kind]
            if (
                record is None
                or user_id is None
                or source is None
                or own_comment(event.kind, event.data, record)
            ):
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
                    body=event_body(source, ctx, event.kind),
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


def _source(templates: NotificationTemplates, request: Request) -> str:
    if request.template is not None:
        found = templates.template(request.template)
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
    repos: NotifyingRepositories,
    request: Request,
    *,
    templates: NotificationTemplates,
    views: RecordViewer,
    clock: Clock,
) -> Report:
    """Render and queue an API notification; subscription rules apply as for events."""
    source = _source(templates, request)
    record: Record | None = None
    user_ids = list(dict.fromkeys(request.user_ids))
    if request.record_number is not None:
        record = await repos.records.get(request.record_number)
        if record is None:
            raise NotifyError(f"no record {request.record_number}", field="record_number")
        if not user_ids:
            caller = await _caller_of(repos.accounts, record)
            if caller is None:
                # The caller is a guest: there is no account to notify.
                report = Report()
                report.skipped["unknown"] += 1
                return report
            user_ids = [caller]
    found = await repos.subscriptions.recipients(user_ids)
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
    return await deliver(repos, drafts, clock.now(), found=found)


class NotificationRequests:
    """Notifications asked for through the API, each request in its own transaction."""

    def __init__(
        self,
        *,
        uow: UnitOfWork[NotifyingRepositories],
        templates: NotificationTemplates,
        views: RecordViewer,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._templates = templates
        self._views = views
        self._clock = clock

    async def send(self, request: Request) -> Report:
        """Render and queue ``request``; raises :class:`NotifyError` when it cannot be sent."""
        async with self._uow.begin() as repos:
            return await send(
                repos, request, templates=self._templates, views=self._views, clock=self._clock
            )
