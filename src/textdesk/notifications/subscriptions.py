"""SMS notification subscriptions: the texter's commands, and changes by staff or the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from textdesk.channel.answering import TextInContext
from textdesk.domain.agent.messages import Reply, Texter
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.sms import gsm_safe
from textdesk.domain.subscriptions import (
    Command,
    Decision,
    ReplyKey,
    Situation,
    Wording,
    decide,
    may_be_command,
    parse_command,
)
from textdesk.domain.templating.render import TemplateTooCostly, render
from textdesk.ports import (
    Change,
    Clock,
    NotificationTemplates,
    SubscriptionRepositories,
    SubscriptionRepository,
    SubscriptionSettingsRepositories,
    TexterProfile,
    UnitOfWork,
)

log = logging.getLogger(__name__)

# carrier_optouts.source when the texter's own STOP told us (not a 21610 answer).
KEYWORD_SOURCE = "keyword"


@dataclass(frozen=True)
class Handled:
    """A command was answered: the replies, and transcript notes for staff."""

    replies: list[Reply]
    notes: list[str] = field(default_factory=list)


def _rendered(source: str, context: dict[str, str]) -> str:
    try:
        return render(source, context).strip()
    except TemplateTooCostly as exc:
        log.error("a subscription reply template was stopped: %s", exc)
        return ""


def reply_text(wording: Wording, key: ReplyKey | str, *, name: str = "") -> str:
    """Render one reply; an operator text that renders empty (or is stopped by its
    budget) falls back to the built-in."""
    context = {"how_to_register": _rendered(wording.how_to_register, {}), "name": name}
    text = _rendered(getattr(wording, key), context)
    if not text:
        builtin = Wording()
        context["how_to_register"] = builtin.how_to_register
        text = render(getattr(builtin, key), context).strip()
    return gsm_safe(text)


def _waiting_for_answer(state: dict[str, object] | None, mode: str) -> bool:
    """Whether the bot has asked something the texter's next text will answer."""
    if mode != "bot" or not state:
        return False
    current = ConversationState.from_dict(dict(state))
    return bool((current.topic_id and current.node_id) or current.menu)


def _notes(command: Command, decision: Decision) -> list[str]:
    notes: list[str] = []
    if decision.enabled is True:
        notes.append("Texter turned SMS notifications on (START).")
    elif decision.enabled is False:
        notes.append("Texter turned SMS notifications off (STOP).")
    if decision.carrier == "opt_out":
        notes.append("Texter opted out of all texts (STOP): the carrier blocks our texts now.")
    elif decision.carrier == "opt_in":
        word = "YES" if command is Command.RESUME else "START"
        notes.append(f"Texter opted back in to texts ({word}).")
    if command is Command.STATUS:
        notes.append("Texter asked for their notification setting.")
    return notes


class SubscriptionCommands:
    """Notification / START / STOP, answered before the virtual agent sees the text.

    In every conversation mode (bot, queued, with an agent): a carrier acts on these
    words whoever the texter is talking to, so we must too.  ``repositories``: those
    of the turn's transaction, so the change commits with the reply it causes.
    """

    def __init__(
        self,
        templates: NotificationTemplates,
        *,
        repositories: Callable[[TextInContext], SubscriptionRepositories],
    ) -> None:
        self._templates = templates
        self._repositories = repositories

    async def handle(
        self, turn: TextInContext, state: dict[str, object] | None, mode: str
    ) -> Handled | None:
        """Answer ``turn`` if it is a subscription command; ``None`` if it is not one."""
        body = turn.text.body
        if not may_be_command(body):
            return None  # most texts: no query at all
        return await answer(self._repositories(turn), self._templates, turn, state, mode)


async def answer(
    repos: SubscriptionRepositories,
    templates: NotificationTemplates,
    turn: TextInContext,
    state: dict[str, object] | None,
    mode: str,
) -> Handled | None:
    """Apply a subscription command with ``repos`` (of an open transaction) and answer it."""
    texter, now = turn.texter, turn.now
    opted_out = await repos.optouts.is_opted_out(texter.phone)
    command = parse_command(turn.text.body, carrier_opted_out=opted_out)
    if command is None:
        return None
    profile = await _profile_now(repos, texter)
    user_id = texter.user_id if profile is None else profile.user_id
    subscribed = user_id is not None and await repos.subscriptions.is_enabled(user_id)
    # Someone another service knows (a ServiceNow sys_user) is an account holder for
    # notifications: the account is made when a command first needs one (START).
    holder = user_id is not None or texter.account is not None
    decision = decide(command, Situation(holder, subscribed, opted_out))
    waiting = _waiting_for_answer(state, mode)
    notes = _notes(command, decision)
    if decision.enabled and user_id is None:
        user_id = await repos.accounts.link(
            texter.phone,
            name=(profile.name if profile else None) or texter.name or texter.phone,
            email=profile.email if profile else None,
            now=now,
        )
        notes.insert(0, "Made a textdesk account from the texter's profile, to keep the setting.")
    if decision.enabled is not None and user_id is not None:
        await repos.subscriptions.set_enabled([user_id], decision.enabled, source="sms", now=now)
    if decision.carrier == "opt_out":
        await repos.optouts.mark_opted_out([texter.phone], now, KEYWORD_SOURCE)
    elif decision.carrier == "opt_in":
        await repos.optouts.opt_in(texter.phone)
    if command is Command.RESUME and waiting:
        return None  # texts flow again, and the "yes" answers the pending question
    wording = templates.safe_wording()
    text = reply_text(wording, decision.reply, name=texter.name or "")
    if command is not Command.STOP and waiting:
        text = f"{text}\n{reply_text(wording, 'resume_hint')}"
    return Handled(replies=[Reply(text)], notes=notes)


async def _profile_now(repos: SubscriptionRepositories, texter: Texter) -> TexterProfile | None:
    """Who a texter known only by another service's profile is now, ``None`` for others.

    The texter was read when their batch began: an earlier text of it (or another
    process) may have made their account since, and the profile has their email.
    """
    if texter.user_id is not None or texter.account is None:
        return None
    return (await repos.directory.profiles_by_phone([texter.phone])).get(texter.phone)


@dataclass(frozen=True)
class SubscriptionView:
    """An account's setting as staff see it."""

    user_id: int
    enabled: bool
    carrier_opted_out: bool
    changes: list[Change]


async def subscription_of(
    subscriptions: SubscriptionRepository, user_id: int
) -> SubscriptionView | None:
    """The setting, the carrier state and the audit trail; ``None`` for no such account."""
    found = (await subscriptions.recipients([user_id])).get(user_id)
    if found is None:
        return None
    return SubscriptionView(
        user_id=user_id,
        enabled=found.subscribed,
        carrier_opted_out=found.carrier_opted_out,
        changes=await subscriptions.history(user_id),
    )


async def set_subscription(
    subscriptions: SubscriptionRepository,
    *,
    user_id: int,
    enabled: bool,
    source: str,
    now: datetime,
    reason: str | None = None,
    actor: str | None = None,
) -> bool:
    """Turn an account's notifications on or off (``source``: api | workspace | sms).

    Returns whether it changed.  Turning them on does not lift a carrier opt-out:
    only the texter can, by texting START.
    """
    changed = await subscriptions.set_enabled(
        [user_id], enabled, source=source, now=now, reason=reason, actor=actor
    )
    return bool(changed)


# The longest reason an admin may give for changing a texter's setting.
MAX_REASON = 500


class StaffChange(Enum):
    """What came of an admin's change from the Workspace."""

    CHANGED = "changed"
    NOT_ADMIN = "not_admin"  # it is the texter's consent: agents only see it
    NO_REASON = "no_reason"  # missing, too long, or not text
    NO_CONVERSATION = "no_conversation"
    GUEST = "guest"  # no account, so no setting


class SubscriptionSettings:
    """Staff and the API read and change an account's setting, each in its own transaction."""

    def __init__(self, *, uow: UnitOfWork[SubscriptionSettingsRepositories], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def view(self, user_id: int) -> SubscriptionView | None:
        """The account's setting; ``None`` for no such account."""
        async with self._uow.begin() as repos:
            return await subscription_of(repos.subscriptions, user_id)

    async def change(self, user_id: int, *, enabled: bool, source: str) -> SubscriptionView | None:
        """Set it (audited as ``source``) and return it; ``None`` for no such account."""
        async with self._uow.begin() as repos:
            if await subscription_of(repos.subscriptions, user_id) is None:
                return None
            await set_subscription(
                repos.subscriptions,
                user_id=user_id,
                enabled=enabled,
                source=source,
                now=self._clock.now(),
            )
            return await subscription_of(repos.subscriptions, user_id)

    async def change_for_texter(
        self, conversation_id: int, *, enabled: bool, reason: str, actor: str, is_admin: bool
    ) -> StaffChange:
        """An admin sets the texter's notifications from the conversation, with a reason.

        The change joins the audit trail with its reason and the admin's name.
        """
        why = reason.strip()
        if not is_admin:
            return StaffChange.NOT_ADMIN
        if not why or len(why) > MAX_REASON or "\x00" in why:
            return StaffChange.NO_REASON
        async with self._uow.begin() as repos:
            # An admin sees every conversation: the only question is whether it exists.
            conv = await repos.conversations.get(conversation_id)
            if conv is None:
                return StaffChange.NO_CONVERSATION
            if conv.user_id is None:
                return StaffChange.GUEST
            await set_subscription(
                repos.subscriptions,
                user_id=conv.user_id,
                enabled=enabled,
                source="workspace",
                now=self._clock.now(),
                reason=why,
                actor=actor,
            )
        return StaffChange.CHANGED
