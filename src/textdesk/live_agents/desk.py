"""What an agent does from the Workspace: accept, reply, transfer, end.

Every action runs in one transaction under the conversation's lock, the same lock
inbox processing takes, so an agent's reply and a texter's text never interleave
half-written.  The Workspace's actions first check, in that same transaction, that
the agent may see the conversation at all (``Hidden`` otherwise, as for an id that
does not exist).  Who may act is then decided by ``domain/chat_access.py`` before
anything is written; a refusal raises one of the ``DeskError`` kinds below and, the
transaction being rolled back, leaves the chat, its transcript and the outbox as
they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from textdesk.domain.agent.cards import card_text
from textdesk.domain.agent.messages import Texter
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.chat_access import (
    Actor,
    Decision,
    OpenChat,
    Refusal,
    may_accept,
    may_talk,
    may_transfer,
)
from textdesk.domain.records import Record, belongs_to
from textdesk.domain.sms import gsm_safe
from textdesk.domain.topics.nodes import CardField
from textdesk.ports import (
    AgentRow,
    ChatRow,
    CheckedImage,
    Clock,
    ConversationRow,
    DeskRecords,
    DeskRepositories,
    Engines,
    ImageChecker,
    NewMessage,
    RecordViewer,
    TranscriptEntry,
    UnitOfWork,
)

log = logging.getLogger(__name__)

# What an agent is told when records live in another service and it does not answer.
UNANSWERED = "the record system isn't answering; try again soon"
# A comment is a record's, not a text: longer than one, but bounded.
MAX_COMMENT = 4000

CARD_FIELDS = [
    CardField(field="number"),
    CardField(field="short_description"),
    CardField(field="state"),
    CardField(field="priority"),
    CardField(field="assigned_to"),
]
NOT_FOUND = "no such conversation"


class DeskError(ValueError):
    """An action the agent may not take now; the message says why."""


class Hidden(DeskError):
    """The agent may not see the conversation (or there is none by that id)."""


class NotYours(DeskError):
    """The chat is another agent's (or another queue's): they, or an admin, could act."""


class Conflict(DeskError):
    """As the conversation stands, nobody could take this action (no open chat, not active)."""


class Invalid(DeskError):
    """What was sent cannot be used (an empty text, not an image, no such record)."""


def _enforce(decision: Decision) -> None:
    if decision is not None:
        kind, message = decision
        raise (NotYours if kind is Refusal.NOT_YOURS else Conflict)(message)


def _actor(agent: AgentRow) -> Actor:
    return Actor(id=agent.id, is_admin=agent.is_admin)


def _chat(current: ChatRow | None) -> OpenChat | None:
    if current is None:
        return None
    return OpenChat(status=current.status, agent_id=current.agent_id, offered_to=current.offered_to)


def _state(conv: ConversationRow) -> ConversationState:
    return (
        ConversationState.from_dict(conv.state) if conv.state else ConversationState(greeted=True)
    )


# One action on the transaction's ``DeskActions``, at the time the transaction read.
Action = Callable[["DeskActions", datetime], Awaitable[None]]


@dataclass(frozen=True)
class DeskRules:
    """What every action needs besides its transaction: the engine, how records show."""

    engines: Engines
    record_views: RecordViewer


class Desk:
    """The agent's side of conversations: each action in a transaction of its own.

    ``images`` decodes uploads (``max_image_bytes``, ``max_image_pixels``: the caps).
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork[DeskRepositories],
        clock: Clock,
        engines: Engines,
        record_views: RecordViewer,
        images: ImageChecker,
        max_image_bytes: int,
        max_image_pixels: int,
        remote_records: DeskRecords | None = None,
    ) -> None:
        """``remote_records``: the records when they live in another service (read and
        written before or after an action's transaction, never in it)."""
        self._uow = uow
        self._remote = remote_records
        self._clock = clock
        self._rules = DeskRules(engines, record_views)
        self._images = images
        self.max_image_bytes = max_image_bytes
        self.max_image_pixels = max_image_pixels

    def at(self, repositories: DeskRepositories) -> DeskActions:
        """The actions on a transaction someone else holds (the assigner's, closing a
        chat left idle)."""
        return DeskActions(repositories, self._rules)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[DeskActions]:
        """Actions in one transaction, without the Workspace's visibility check."""
        async with self._uow.begin() as repositories:
            yield self.at(repositories)

    async def act(self, agent: AgentRow, conversation_id: int, action: Action) -> None:
        """Run one Workspace action on a conversation the agent may see (else ``Hidden``)."""
        async with self._uow.begin() as repositories:
            if conversation_id not in await repositories.views.visible_among(
                agent, {conversation_id}
            ):
                raise Hidden(NOT_FOUND)
            await action(self.at(repositories), self._clock.now())

    async def accept(self, agent: AgentRow, conversation_id: int) -> None:
        await self.act(
            agent, conversation_id, lambda at, now: at.accept(agent, conversation_id, now)
        )

    async def reply_text(self, agent: AgentRow, conversation_id: int, body: str) -> None:
        await self.act(
            agent, conversation_id, lambda at, now: at.reply_text(agent, conversation_id, body, now)
        )

    async def _look_up(self, number: str) -> tuple[Record | None] | None:
        """Record ``number`` read from another service before a transaction; None when
        records are here, to be read in it."""
        if self._remote is None:
            return None
        try:
            return (await self._remote.get(number),)
        except Exception as exc:
            log.warning("record %s cannot be read", number, exc_info=True)
            raise Invalid(UNANSWERED) from exc

    async def reply_card(self, agent: AgentRow, conversation_id: int, number: str) -> None:
        looked_up = await self._look_up(number)
        await self.act(
            agent,
            conversation_id,
            lambda at, now: at.reply_card(agent, conversation_id, number, now, looked_up),
        )

    async def comment_on_record(
        self, agent: AgentRow, conversation_id: int, number: str, body: str, *, public: bool
    ) -> None:
        """Add the agent's comment (``public``: the texter's record shows it, and they
        may be notified) or work note to one of the texter's records.

        On another service the change is its integration user's, signed with the
        agent's name there; checked in one transaction, made outside it, and noted in
        the transcript in another.
        """
        text = body.strip()
        if not text:
            raise Invalid("the comment is empty")
        if len(text) > MAX_COMMENT:
            raise Invalid(f"a comment can be at most {MAX_COMMENT} characters")
        looked_up = await self._look_up(number)
        if self._remote is None:
            await self.act(
                agent,
                conversation_id,
                lambda at, now: at.comment_on_record(
                    agent, conversation_id, number, text, public, now
                ),
            )
            return
        await self.act(
            agent,
            conversation_id,
            lambda at, now: at.own_record(agent, conversation_id, number, looked_up),
        )
        try:
            await self._remote.add_comment(
                number, author=agent.name, body=text, now=self._clock.now(), public=public
            )
        except Exception as exc:
            log.warning("a comment on %s could not be added", number, exc_info=True)
            raise Invalid(f"{UNANSWERED}: the comment was not added") from exc
        await self.act(
            agent,
            conversation_id,
            lambda at, now: at.noted(agent, conversation_id, number, public, now),
        )

    async def reply_image(
        self,
        agent: AgentRow,
        conversation_id: int,
        data: bytes,
        image: CheckedImage | Invalid,
        caption: str,
    ) -> None:
        """Send ``data`` by MMS; ``image`` is what :meth:`decode_upload` made of it."""
        await self.act(
            agent,
            conversation_id,
            lambda at, now: at.reply_image(agent, conversation_id, data, image, caption, now),
        )

    async def transfer(
        self,
        agent: AgentRow,
        conversation_id: int,
        *,
        queue_id: int | None,
        to_agent_id: int | None,
        note: str,
    ) -> None:
        await self.act(
            agent,
            conversation_id,
            lambda at, now: at.transfer(
                agent,
                conversation_id,
                queue_id=queue_id,
                to_agent_id=to_agent_id,
                note=note,
                now=now,
            ),
        )

    async def end(self, agent: AgentRow, conversation_id: int) -> None:
        await self.act(agent, conversation_id, lambda at, now: at.end(agent, conversation_id, now))

    async def decode_upload(self, data: bytes) -> CheckedImage:
        """Check an agent's upload before any transaction: size, then a full decode.

        Decoding runs in a thread, outside the transaction, so neither the event loop
        nor the database's write lock waits on it.
        """
        if len(data) > self.max_image_bytes:
            raise Invalid(f"the image is larger than {self.max_image_bytes // (1024 * 1024)} MB")
        checked = await asyncio.to_thread(
            self._images.check, data, max_pixels=self.max_image_pixels
        )
        if isinstance(checked, CheckedImage):
            return checked
        if checked == "too_many_pixels":
            limit = self.max_image_pixels / 1_000_000
            raise Invalid(f"the image has more than {limit:g} megapixels")
        raise Invalid("only JPEG, PNG, GIF or WebP images can be sent")


class DeskActions:
    """The agent's actions within one transaction (``Desk.act``, ``Desk.begin``)."""

    def __init__(self, repositories: DeskRepositories, rules: DeskRules) -> None:
        self._r = repositories
        self._rules = rules

    async def _open(
        self, agent: AgentRow, conversation_id: int
    ) -> tuple[ConversationRow, ChatRow | None]:
        conv = await self._r.conversations.get(conversation_id)
        if conv is None:
            raise Conflict("no such conversation")
        await self._r.conversations.lock({(conv.phone, conv.number)})
        current = await self._r.chats.open_chat(conversation_id)
        # A conversation nobody handed over is the bot's; one handed on to a queue
        # the agent is not in is that queue's (its history stays readable).
        if (
            current is not None
            and not agent.is_admin
            and current.queue_id not in await self._r.agents.queue_ids_of(agent.id)
        ):
            raise NotYours("this conversation is not in your queues")
        return conv, current

    async def _say(
        self,
        conv: ConversationRow,
        agent: AgentRow | None,
        body: str,
        now: datetime,
        media_keys: tuple[str, ...] = (),
    ) -> None:
        [outbox_id] = await self._r.outbox.enqueue(
            [
                NewMessage(
                    to_phone=conv.phone,
                    from_phone=conv.number,
                    body=body,
                    media=media_keys,
                    kind="agent" if agent else "reply",
                    conversation_id=conv.id,
                )
            ],
            now,
        )
        await self._r.conversations.append(
            [
                TranscriptEntry(
                    conv.id,
                    "agent" if agent else "bot",
                    body,
                    media_keys,
                    outbox_id=outbox_id,
                    agent_id=agent.id if agent else None,
                )
            ],
            now,
        )

    async def accept(self, agent: AgentRow, conversation_id: int, now: datetime) -> None:
        """Take a waiting texter (offered to this agent, or picked from the queue)."""
        conv, current = await self._open(agent, conversation_id)
        _enforce(may_accept(_actor(agent), _chat(current)))
        assert current is not None  # may_accept refuses when there is no open chat
        await self._r.chats.accept(current.id, agent.id, now)
        await self._r.agents.mark_assigned([agent.id], now)
        joined = self._rules.engines.engine.agent_joined(_state(conv), now)
        conv.state, conv.mode = joined.to_dict(), joined.mode
        await self._r.conversations.save([conv], now)
        await self._r.conversations.append(
            [TranscriptEntry(conv.id, "system", f"{agent.name} joined")], now
        )
        first = agent.name.split()[0] if agent.name else "An agent"
        await self._say(
            conv, agent, f"Hi, this is {first} from the service desk. How can I help?", now
        )

    async def _active(
        self, agent: AgentRow, conversation_id: int
    ) -> tuple[ConversationRow, ChatRow]:
        conv, current = await self._open(agent, conversation_id)
        _enforce(may_talk(_actor(agent), _chat(current)))
        assert current is not None  # may_talk refuses when there is no open chat
        return conv, current

    async def reply_text(
        self, agent: AgentRow, conversation_id: int, body: str, now: datetime
    ) -> None:
        # Curly quotes and dashes typed or pasted by an agent would make the whole text
        # UCS-2 (70 characters a segment): they go as their plain look-alikes.
        conv, current = await self._active(agent, conversation_id)
        text = gsm_safe(body.strip())
        if not text:
            raise Invalid("the message is empty")
        if len(text) > 1600:
            raise Invalid("a text can be at most 1600 characters")
        await self._say(conv, agent, text, now)
        await self._r.chats.agent_spoke(current.id, now)

    async def _texters_record(
        self, conv: ConversationRow, number: str, looked_up: tuple[Record | None] | None
    ) -> Record:
        """Record ``number`` if it is the texter's (``looked_up``: as read from another
        service before this transaction); else ``Invalid``."""
        record = looked_up[0] if looked_up is not None else await self._r.records.get(number)
        if record is None:
            raise Invalid(f"no record {number}")
        if not belongs_to(record, user_id=conv.user_id, phone=conv.phone):
            raise Invalid(f"{number} is not one of this texter's records")
        return record

    async def own_record(
        self,
        agent: AgentRow,
        conversation_id: int,
        number: str,
        looked_up: tuple[Record | None] | None,
    ) -> None:
        """Check that the agent holds the chat and the record is the texter's."""
        conv, _ = await self._active(agent, conversation_id)
        await self._texters_record(conv, number, looked_up)

    async def comment_on_record(
        self,
        agent: AgentRow,
        conversation_id: int,
        number: str,
        text: str,
        public: bool,
        now: datetime,
    ) -> None:
        """The agent's comment or work note on the texter's record, kept here."""
        conv, _ = await self._active(agent, conversation_id)
        record = await self._texters_record(conv, number, None)
        await self._r.records.add_comment(
            record.number, author=agent.name, body=text, now=now, public=public
        )
        await self.noted(agent, conversation_id, record.number, public, now)

    async def noted(
        self, agent: AgentRow, conversation_id: int, number: str, public: bool, now: datetime
    ) -> None:
        """Say in the transcript that the agent commented, for whoever reads it next."""
        what = "a comment on" if public else "a work note on"
        await self._r.conversations.append(
            [TranscriptEntry(conversation_id, "system", f"{agent.name} added {what} {number}")],
            now,
        )

    async def reply_card(
        self,
        agent: AgentRow,
        conversation_id: int,
        number: str,
        now: datetime,
        looked_up: tuple[Record | None] | None = None,
    ) -> None:
        """Send record ``number``'s card; ``looked_up``: the record as read from another
        service before this transaction began, when records live there."""
        conv, current = await self._active(agent, conversation_id)
        record = await self._texters_record(conv, number, looked_up)
        body = card_text(self._rules.record_views.view(record), CARD_FIELDS, link=True)
        await self._say(conv, agent, body, now)
        await self._r.chats.agent_spoke(current.id, now)

    async def reply_image(
        self,
        agent: AgentRow,
        conversation_id: int,
        data: bytes,
        image: CheckedImage | Invalid,
        caption: str,
        now: datetime,
    ) -> None:
        """Send ``data`` by MMS; ``image`` is what ``Desk.decode_upload`` made of it.

        A refusal from the decode is raised only after the access check, so whose
        chat it is decides first, as for every other action.
        """
        conv, current = await self._active(agent, conversation_id)
        if isinstance(image, Invalid):
            raise image
        key = await self._r.uploads.save(image, data, now)
        await self._say(conv, agent, caption.strip(), now, media_keys=(key,))
        await self._r.chats.agent_spoke(current.id, now)

    async def end(
        self,
        agent: AgentRow | None,
        conversation_id: int,
        now: datetime,
        *,
        ended_by: str = "agent",
    ) -> None:
        """End the chat: the texter is told and is back with the virtual agent.

        Without ``agent``, on the desk's behalf (a chat left idle): no access rule
        applies, and a conversation with no open chat is left as it is.
        """
        if agent is not None:
            conv, current = await self._active(agent, conversation_id)
        else:
            found = await self._r.conversations.get(conversation_id)
            if found is None:
                return
            conv = found
            await self._r.conversations.lock({(conv.phone, conv.number)})
            still_open = await self._r.chats.open_chat(conversation_id)
            if still_open is None:
                return
            current = still_open
        await self._r.chats.end(current.id, now, ended_by=ended_by)
        texter = Texter(phone=conv.phone, user_id=conv.user_id)
        step = self._rules.engines.engine.agent_left(_state(conv), texter, now)
        for problem in step.problems:
            log.error("conversation %s: %s", conv.id, problem)
        conv.state, conv.mode = step.state.to_dict(), step.state.mode
        await self._r.conversations.save([conv], now)
        who = agent.name if agent else "timer"
        await self._r.conversations.append(
            [TranscriptEntry(conv.id, "system", f"Chat ended by {who}")], now
        )
        closing = "Thanks for chatting with the service desk."
        body = "\n\n".join([closing, *(r.body for r in step.replies)])
        await self._say(conv, None, body, now)

    async def transfer(
        self,
        agent: AgentRow,
        conversation_id: int,
        *,
        queue_id: int | None,
        to_agent_id: int | None,
        note: str,
        now: datetime,
    ) -> None:
        """Move the chat to another queue (back in line) or offer it to another agent."""
        conv, current = await self._open(agent, conversation_id)
        _enforce(may_transfer(_actor(agent), _chat(current), to_agent_id))
        assert current is not None  # may_transfer refuses when there is no open chat
        target_queue = current.queue_id
        if queue_id is not None:
            queue = await self._r.agents.queue_by_id(queue_id)
            if queue is None:
                raise Invalid("no such queue")
            target_queue = queue.id
        target_name = None
        if to_agent_id is not None:
            other = await self._r.agents.agent_by_id(to_agent_id)
            if other is None:
                raise Invalid("no such agent")
            target_name = other.name
        # The sender counts as having declined it: should nobody accept in time, the
        # assigner offers it to someone else in the queue, not back to the sender.
        await self._r.chats.hand_on(
            current.id,
            queue_id=target_queue,
            declined=[agent.id],
            note=note.strip() or None,
            offer_to=to_agent_id,
            now=now,
        )
        state = _state(conv)
        state.mode = "queued"
        conv.state, conv.mode = state.to_dict(), "queued"
        await self._r.conversations.save([conv], now)
        where = target_name
        if not where:
            # Looked up (again) by id: the chat's own queue was never read above.
            target = await self._r.agents.queue_by_id(target_queue)
            assert target is not None  # the chat's queue, or the one found above
            where = target.name
        line = f"{agent.name} transferred the chat to {where}" + (
            f": {note.strip()}" if note.strip() else ""
        )
        await self._r.conversations.append([TranscriptEntry(conv.id, "system", line)], now)
        await self._say(conv, None, "I'm passing you to a colleague. Please stand by.", now)
