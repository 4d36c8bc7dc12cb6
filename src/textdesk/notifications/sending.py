"""Notifications: templated texts to account holders who opted in.

Every notification goes through the outbox (``kind="notification"``), so it is paced
per sending number with everything else, retried, and tracked; a bulk send of
10,000 takes as long as the pace says and none is dropped.  Who gets one is decided
twice: when it is queued (subscribed, not opted out, has a phone) and again by the
dispatcher's send-time check (``adapters/db/notifications.send_gate``) just before it
sends it, so a STOP that arrives while a bulk send is queued stops the rest for that
texter.

The sender is one of our conversational numbers: the one of the texter's latest
conversation, else the first configured.  Notifications are part of the
conversational integration, so a reply (or STOP/START) comes back to us.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textdesk.domain.agent.cards import card_text
from textdesk.domain.delivery import describe_error
from textdesk.domain.records import Record
from textdesk.domain.sms import fit_segments, gsm_safe
from textdesk.domain.templating.render import render
from textdesk.domain.topics.nodes import CardField
from textdesk.notifications.subscriptions import subscription_of
from textdesk.ports import (
    NOTIFICATION_KIND,
    DeliveryRepositories,
    HistoryRow,
    NewMessage,
    NewNotification,
    NotificationRepository,
    Recipient,
    RecordViewer,
    UnitOfWork,
)

log = logging.getLogger(__name__)

KIND = NOTIFICATION_KIND
# Twilio refuses bodies over 1600 characters; ten GSM-7 segments stay under that.
MAX_SEGMENTS = 10
CARD_FIELDS = [
    CardField(field=name)
    for name in ("number", "short_description", "state", "priority", "assigned_to")
]
# Reasons a notification is not queued, as the API reports them.
SKIP_REASONS = ("unknown", "no_phone", "opted_out", "not_subscribed", "no_number", "empty")


@dataclass(frozen=True)
class Draft:
    """A rendered notification for one account, before the checks."""

    user_id: int
    body: str
    source: str  # event | api
    template: str | None = None
    record_id: int | None = None
    event_id: int | None = None


@dataclass
class Report:
    """What a send came to: how many were queued, and why the others were not."""

    queued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def context(
    *,
    record: Record | None,
    views: RecordViewer,
    event: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    user: Recipient | None = None,
) -> dict[str, Any]:
    """Names a notification template sees (``${field}`` reads ``record``)."""
    view = views.view(record) if record is not None else {}
    return {
        "record": view,
        "card": card_text(view, CARD_FIELDS, link=True) if view else "",
        "event": dict(event or {}),
        "params": dict(params or {}),
        "user": {"id": user.user_id, "name": user.name} if user is not None else {},
    }


def render_body(source: str, ctx: Mapping[str, Any]) -> str:
    """Render a template for SMS: GSM-7 look-alikes, within Twilio's length limit."""
    return fit_segments(gsm_safe(render(source, ctx).strip()), MAX_SEGMENTS)


def _skip_reason(found: Recipient | None, body: str, sender: str | None) -> str | None:
    if found is None:
        return "unknown"
    if not found.phone:
        return "no_phone"
    if found.carrier_opted_out:
        return "opted_out"
    if not found.subscribed:
        return "not_subscribed"
    if sender is None:
        return "no_number"
    if not body:
        return "empty"
    return None


async def deliver(
    repos: DeliveryRepositories,
    drafts: Sequence[Draft],
    now: datetime,
    *,
    found: Mapping[int, Recipient] | None = None,
) -> Report:
    """Queue each draft for its account if it may be sent; record every decision.

    ``found`` saves the look-up when the caller already has the recipients.
    """
    report = Report()
    if not drafts:
        return report
    if found is None:
        found = await repos.subscriptions.recipients([d.user_id for d in drafts])
    phones = [r.phone for r in found.values() if r.phone]
    senders = await repos.senders.latest(phones)
    fallback = await repos.senders.default()
    queued: list[tuple[Draft, NewMessage]] = []
    skipped: list[NewNotification] = []
    for draft in drafts:
        recipient = found.get(draft.user_id)
        phone = recipient.phone if recipient is not None else None
        sender = senders.get(phone, fallback) if phone else fallback
        reason = _skip_reason(recipient, draft.body, sender)
        if reason is not None:
            report.skipped[reason] += 1
            if recipient is not None:
                skipped.append(_history(draft, "skipped", reason=reason))
            continue
        assert phone is not None
        assert sender is not None
        queued.append(
            (draft, NewMessage(to_phone=phone, from_phone=sender, body=draft.body, kind=KIND))
        )
    ids = await repos.outbox.enqueue([m for _, m in queued], now)
    history = [_history(d, "queued", outbox_id=i) for (d, _), i in zip(queued, ids, strict=True)]
    await repos.notifications.add([*history, *skipped], now)
    report.queued = len(ids)
    if report.skipped:
        log.info("notifications: %d queued, skipped %s", report.queued, dict(report.skipped))
    return report


def _history(
    draft: Draft, status: str, *, reason: str | None = None, outbox_id: int | None = None
) -> NewNotification:
    return NewNotification(
        user_id=draft.user_id,
        source=draft.source,
        body=draft.body,
        status=status,
        reason=reason,
        outbox_id=outbox_id,
        record_id=draft.record_id,
        event_id=draft.event_id,
        template=draft.template,
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One notification as staff see it: what, when, and what became of it."""

    id: int
    created_at: datetime
    source: str
    template: str | None
    record_number: str | None
    body: str
    status: str
    explanation: str | None
    sent_at: datetime | None


_REASON_TEXT = {
    "no_phone": "the account has no mobile number",
    "opted_out": "the number opted out of all texts (STOP)",
    "not_subscribed": "notifications are off for this account",
    "no_number": "no conversational number is configured to send from",
    "empty": "the template rendered to nothing",
}


def _explain(row: HistoryRow) -> str | None:
    if row.status == "skipped":
        return _REASON_TEXT.get(row.reason or "", row.reason)
    if row.error_message:
        return row.error_message
    return describe_error(row.error_code)


async def notification_history(
    notifications: NotificationRepository, user_id: int, *, limit: int = 50, offset: int = 0
) -> list[HistoryEntry]:
    """An account's notifications, newest first, with delivery status and why not sent.

    ``status`` is ``skipped`` (never queued) or the text's delivery status: pending,
    claimed, queued, sent, delivered, undelivered, failed or canceled.
    """
    return [
        HistoryEntry(
            id=r.id,
            created_at=r.created_at,
            source=r.source,
            template=r.template,
            record_number=r.record_number,
            body=r.body,
            status=r.status,
            explanation=_explain(r),
            sent_at=r.sent_at,
        )
        for r in await notifications.history(user_id, limit=limit, offset=offset)
    ]


class NotificationHistory:
    """An account's notifications as the API lists them, in one transaction."""

    def __init__(self, *, uow: UnitOfWork[DeliveryRepositories]) -> None:
        self._uow = uow

    async def of(self, user_id: int, *, limit: int, offset: int) -> list[HistoryEntry] | None:
        """Newest first; ``None`` for no such account."""
        async with self._uow.begin() as repos:
            if await subscription_of(repos.subscriptions, user_id) is None:
                return None
            return await notification_history(
                repos.notifications, user_id, limit=limit, offset=offset
            )
