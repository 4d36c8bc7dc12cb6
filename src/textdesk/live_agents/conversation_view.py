"""One conversation as the Agent Workspace shows it: transcript, texter, records.

A fixed number of queries per page (``ports.WorkspaceReadRepositories``), whatever
the length of the transcript; nothing is read unless the agent may see the
conversation (``workspace_views.visible_among``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from textdesk.domain.chat_access import Actor, OpenChat, may_accept, may_talk, may_transfer
from textdesk.domain.delivery import describe_error
from textdesk.domain.live_agents import OPEN_STATUSES
from textdesk.domain.media_keys import preview_key
from textdesk.domain.records import OPEN_STATES
from textdesk.live_agents.workspace_views import visible_among
from textdesk.notifications.sending import notification_history
from textdesk.notifications.subscriptions import SubscriptionView, subscription_of
from textdesk.ports import (
    AgentRow,
    CarrierOptOut,
    Change,
    HandoffView,
    NotificationRepository,
    WorkspaceReadRepositories,
    WorkspaceReads,
)

_TRANSCRIPT_LIMIT = 500  # the newest lines; older ones stay in the database


class UrlFor(Protocol):
    def url_for(self, key: str, /) -> str: ...


@dataclass(frozen=True)
class Picture:
    """An image as a page shows it: a small preview that links to the original."""

    preview: str  # signed URL of a copy at most 1024 px on a side
    original: str  # signed URL of what was sent


def picture(media: UrlFor, key: str) -> Picture:
    """The signed URLs of stored image ``key``; demo images are small and have no preview."""
    shown = preview_key(key) if key.startswith("att/") else key
    return Picture(media.url_for(shown), media.url_for(key))


@dataclass(frozen=True)
class Line:
    """A transcript line, with the delivery status of what we sent."""

    id: int
    author: str  # texter | bot | agent | system
    body: str
    created_at: datetime
    images: tuple[Picture, ...]
    agent_name: str | None
    status: str | None  # outbox status of a sent line
    error: str | None  # "30007: filtered by the carrier"
    segments: int | None
    encoding: str | None


@dataclass(frozen=True)
class Profile:
    phone: str
    name: str | None
    email: str | None
    link: str | None = None  # their profile in another service's users (ServiceNow)

    @property
    def is_guest(self) -> bool:
        return self.name is None


@dataclass(frozen=True)
class RecordSummary:
    number: str
    short_description: str
    state: str
    priority: int
    updated_at: datetime
    url: str

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class Answer:
    name: str
    text: str
    images: tuple[Picture, ...] = ()


@dataclass(frozen=True)
class SentNotification:
    """One SMS notification the texter's account was sent (or held back), for context."""

    created_at: datetime
    record_number: str | None
    body: str
    status: str
    detail: str | None  # why it was held back, or the delivery error explained


@dataclass(frozen=True)
class ConversationView:
    id: int
    number: str
    mode: str
    profile: Profile
    handoff: HandoffView | None  # the open one, else the latest
    lines: list[Line]
    answers: list[Answer]
    records: list[RecordSummary]
    notifications: list[SentNotification]
    agent_id: int
    is_admin: bool
    # The account's notification setting and its audit trail (None for a guest), and
    # the number's carrier opt-out (STOP): Twilio refuses every text to it meanwhile.
    subscription: SubscriptionView | None = None
    opted_out: CarrierOptOut | None = None

    @property
    def last_subscription_change(self) -> Change | None:
        changes = self.subscription.changes if self.subscription else []
        return changes[0] if changes else None

    @property
    def is_open(self) -> bool:
        return self.handoff is not None and self.handoff.status in OPEN_STATUSES

    # The buttons follow the same rules as the actions (domain/chat_access.py).
    @property
    def _open_chat(self) -> OpenChat | None:
        h = self.handoff
        if h is None or h.status not in OPEN_STATUSES:
            return None
        return OpenChat(status=h.status, agent_id=h.agent_id, offered_to=h.offered_to)

    @property
    def _actor(self) -> Actor:
        return Actor(id=self.agent_id, is_admin=self.is_admin)

    @property
    def can_accept(self) -> bool:
        chat = self._open_chat
        return chat is not None and may_accept(self._actor, chat) is None

    @property
    def can_reply(self) -> bool:
        chat = self._open_chat
        return chat is not None and may_talk(self._actor, chat) is None

    @property
    def can_transfer(self) -> bool:
        chat = self._open_chat
        return chat is not None and may_transfer(self._actor, chat, None) is None


async def conversation_view(
    repositories: WorkspaceReadRepositories,
    agent: AgentRow,
    conversation_id: int,
    *,
    media: UrlFor,
    record_links: UrlFor,
) -> ConversationView | None:
    """Everything the agent sees of one conversation; None when it is not theirs to see."""
    reads = repositories.views
    if conversation_id not in await visible_among(reads, agent, [conversation_id]):
        return None
    head = await reads.conversation(conversation_id)
    if head is None:
        return None
    state: Mapping[str, Any] = head.state or {}
    return ConversationView(
        id=head.id,
        number=head.number,
        mode=head.mode,
        profile=Profile(head.phone, head.user_name, head.email),
        handoff=await reads.shown_handoff(conversation_id),
        lines=await _lines(reads, conversation_id, media),
        answers=answers(state.get("vars") or {}, media),
        records=await _records(reads, head.user_id, head.phone, record_links),
        notifications=await _notifications(repositories.notifications, head.user_id),
        agent_id=agent.id,
        is_admin=agent.is_admin,
        subscription=(
            await subscription_of(repositories.subscriptions, head.user_id)
            if head.user_id is not None
            else None
        ),
        opted_out=await repositories.optouts.current(head.phone),
    )


async def _lines(reads: WorkspaceReads, conversation_id: int, media: UrlFor) -> list[Line]:
    """The newest lines of the transcript, oldest first, each with its delivery."""
    rows = await reads.transcript(conversation_id, limit=_TRANSCRIPT_LIMIT)
    lines = [
        Line(
            id=r.id,
            author=r.author,
            body=r.body,
            created_at=r.created_at,
            images=tuple(picture(media, str(k)) for k in r.media),
            agent_name=r.agent_name,
            status=r.status,
            error=_error(r.error_code, r.error_message),
            segments=r.segments,
            encoding=r.encoding,
        )
        for r in rows
    ]
    lines.reverse()
    return lines


def _error(code: int | None, message: str | None) -> str | None:
    if code is None:
        return message
    return f"{code}: {describe_error(code)}"


async def _records(
    reads: WorkspaceReads, user_id: int | None, phone: str, links: UrlFor
) -> list[RecordSummary]:
    """The texter's records (by account or by phone), open ones first, newest first."""
    return [
        RecordSummary(
            r.number,
            r.short_description,
            r.state,
            r.priority,
            r.updated_at,
            links.url_for(r.number),
        )
        for r in await reads.records_of(user_id, phone, limit=50)
    ]


async def _notifications(
    notifications: NotificationRepository, user_id: int | None
) -> list[SentNotification]:
    """The account's latest notifications; a guest has none (only accounts subscribe)."""
    if user_id is None:
        return []
    return [
        SentNotification(h.created_at, h.record_number, h.body, h.status, h.explanation)
        for h in await notification_history(notifications, user_id, limit=20)
    ]


def answers(variables: Mapping[str, Any], media: UrlFor) -> list[Answer]:
    """The topic variables as an agent reads them: choices by label, photos as images."""
    out: list[Answer] = []
    for name, value in variables.items():
        label = name.replace("_", " ").capitalize()
        if isinstance(value, list) and value and all(_is_media_key(v) for v in value):
            out.append(
                Answer(label, f"{len(value)} image(s)", tuple(picture(media, v) for v in value))
            )
        else:
            out.append(Answer(label, _plain(value)))
    return out


def _is_media_key(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("att/", "demo/"))


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Mapping):
        for key in ("label", "number", "name", "value"):
            if key in value:
                return str(value[key])
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "—"
    return "—" if value is None or value == "" else str(value)
