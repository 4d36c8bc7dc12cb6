"""What an agent does from the Workspace: accept, reply, transfer, end.

Every action runs in one transaction under the conversation's lock, the same lock
inbox processing takes, so an agent's reply and a texter's text never interleave
half-written.  Who may act is decided by ``domain/chat_access.py`` before anything
is written; a refusal raises one of the ``DeskError`` kinds below and, the
transaction being rolled back, leaves the chat, its transcript and the outbox as
they were.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import conversations, media, outbox
from textdesk.adapters.db import records as record_store
from textdesk.adapters.db.agents import AgentRow
from textdesk.adapters.db.conversations import ConversationRow, TranscriptEntry
from textdesk.adapters.db.dialect import lock_key
from textdesk.adapters.db.handoffs import current_handoff
from textdesk.adapters.db.tables import handoffs
from textdesk.adapters.images import DEFAULT_MAX_PIXELS, DecodedImage, ImageRefused, decode_image
from textdesk.domain.agent.cards import card_text
from textdesk.domain.agent.engine import Engine
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
from textdesk.domain.records import belongs_to
from textdesk.domain.sms import gsm_safe
from textdesk.domain.topics.nodes import CardField
from textdesk.ports import NewMessage
from textdesk.records.incidents import RecordViews

log = logging.getLogger(__name__)

CARD_FIELDS = [
    CardField(field="number"),
    CardField(field="short_description"),
    CardField(field="state"),
    CardField(field="priority"),
    CardField(field="assigned_to"),
]


class DeskError(ValueError):
    """An action the agent may not take now; the message says why."""


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


def _chat(current: Any) -> OpenChat | None:
    if current is None:
        return None
    return OpenChat(status=current.status, agent_id=current.agent_id, offered_to=current.offered_to)


@dataclass
class Desk:
    """The agent's side of conversations."""

    engine: Engine
    record_views: RecordViews
    max_image_bytes: int
    max_image_pixels: int = DEFAULT_MAX_PIXELS

    async def _open(
        self, conn: AsyncConnection, agent: AgentRow, conversation_id: int
    ) -> tuple[ConversationRow, Any]:
        conv = await conversations.get(conn, conversation_id)
        if conv is None:
            raise Conflict("no such conversation")
        await lock_key(conn, conversations.lock_key(conv.phone, conv.number))
        current = await current_handoff(conn, conversation_id)
        # A conversation nobody handed over is the bot's; one handed on to a queue
        # the agent is not in is that queue's (its history stays readable).
        if (
            current is not None
            and not agent.is_admin
            and current.queue_id not in await agent_store.queue_ids_of(conn, agent.id)
        ):
            raise NotYours("this conversation is not in your queues")
        return conv, current

    async def _say(
        self,
        conn: AsyncConnection,
        conv: ConversationRow,
        agent: AgentRow | None,
        body: str,
        now: datetime,
        media_keys: tuple[str, ...] = (),
    ) -> None:
        [outbox_id] = await outbox.enqueue(
            conn,
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
        await conversations.append(
            conn,
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

    async def accept(
        self, conn: AsyncConnection, agent: AgentRow, conversation_id: int, now: datetime
    ) -> None:
        """Take a waiting texter (offered to this agent, or picked from the queue)."""
        conv, current = await self._open(conn, agent, conversation_id)
        _enforce(may_accept(_actor(agent), _chat(current)))
        await conn.execute(
            update(handoffs)
            .where(handoffs.c.id == current.id)
            .values(
                status="active",
                agent_id=agent.id,
                accepted_at=now,
                offered_to=None,
                last_agent_at=now,
            )
        )
        await agent_store.mark_assigned(conn, [agent.id], now)
        state = (
            ConversationState.from_dict(conv.state)
            if conv.state
            else ConversationState(greeted=True)
        )
        joined = self.engine.agent_joined(state, now)
        conv.state, conv.mode = joined.to_dict(), joined.mode
        await conversations.save(conn, [conv], now)
        await conversations.append(
            conn, [TranscriptEntry(conv.id, "system", f"{agent.name} joined")], now
        )
        first = agent.name.split()[0] if agent.name else "An agent"
        await self._say(
            conn, conv, agent, f"Hi, this is {first} from the service desk. How can I help?", now
        )

    async def _active(
        self, conn: AsyncConnection, agent: AgentRow, conversation_id: int
    ) -> tuple[ConversationRow, Any]:
        conv, current = await self._open(conn, agent, conversation_id)
        _enforce(may_talk(_actor(agent), _chat(current)))
        return conv, current

    async def _touch(self, conn: AsyncConnection, handoff_id: int, now: datetime) -> None:
        await conn.execute(
            update(handoffs).where(handoffs.c.id == handoff_id).values(last_agent_at=now)
        )

    async def reply_text(
        self, conn: AsyncConnection, agent: AgentRow, conversation_id: int, body: str, now: datetime
    ) -> None:
        # Curly quotes and dashes typed or pasted by an agent would make the whole text
        # UCS-2 (70 characters a segment): they go as their plain look-alikes.
        conv, current = await self._active(conn, agent, conversation_id)
        text = gsm_safe(body.strip())
        if not text:
            raise Invalid("the message is empty")
        if len(text) > 1600:
            raise Invalid("a text can be at most 1600 characters")
        await self._say(conn, conv, agent, text, now)
        await self._touch(conn, current.id, now)

    async def reply_card(
        self,
        conn: AsyncConnection,
        agent: AgentRow,
        conversation_id: int,
        number: str,
        now: datetime,
    ) -> None:
        conv, current = await self._active(conn, agent, conversation_id)
        record = await record_store.get(conn, number)
        if record is None:
            raise Invalid(f"no record {number}")
        if not belongs_to(record, user_id=conv.user_id, phone=conv.phone):
            raise Invalid(f"{number} is not one of this texter's records")
        body = card_text(self.record_views.view(record), CARD_FIELDS, link=True)
        await self._say(conn, conv, agent, body, now)
        await self._touch(conn, current.id, now)

    async def decode_upload(self, data: bytes) -> DecodedImage:
        """Check an agent's upload before any transaction: size, then a full decode.

        Decoding runs in a thread, outside the transaction, so neither the event loop
        nor the database's write lock waits on it.
        """
        if len(data) > self.max_image_bytes:
            raise Invalid(f"the image is larger than {self.max_image_bytes // (1024 * 1024)} MB")
        try:
            return await asyncio.to_thread(decode_image, data, max_pixels=self.max_image_pixels)
        except ImageRefused as refused:
            if refused.reason == "too_many_pixels":
                limit = self.max_image_pixels / 1_000_000
                raise Invalid(f"the image has more than {limit:g} megapixels") from refused
            raise Invalid("only JPEG, PNG, GIF or WebP images can be sent") from refused

    async def reply_image(
        self,
        conn: AsyncConnection,
        agent: AgentRow,
        conversation_id: int,
        data: bytes,
        image: DecodedImage | Invalid,
        caption: str,
        now: datetime,
    ) -> None:
        """Send ``data`` by MMS; ``image`` is what :meth:`decode_upload` made of it.

        A refusal from the decode is raised only after the access check, so whose
        chat it is decides first, as for every other action.
        """
        conv, current = await self._active(conn, agent, conversation_id)
        if isinstance(image, Invalid):
            raise image
        key = await media.save(
            conn,
            data=data,
            content_type=image.content_type,
            now=now,
            preview=(image.preview, image.preview_type),
        )
        await self._say(conn, conv, agent, caption.strip(), now, media_keys=(key,))
        await self._touch(conn, current.id, now)

    async def end(
        self,
        conn: AsyncConnection,
        agent: AgentRow | None,
        conversation_id: int,
        now: datetime,
        *,
        ended_by: str = "agent",
    ) -> None:
        """End the chat: the texter is told and is back with the virtual agent."""
        if agent is not None:
            conv, current = await self._active(conn, agent, conversation_id)
        else:
            found = await conversations.get(conn, conversation_id)
            if found is None:
                return
            conv = found
            await lock_key(conn, conversations.lock_key(conv.phone, conv.number))
            current = await current_handoff(conn, conversation_id)
            if current is None:
                return
        await conn.execute(
            update(handoffs)
            .where(handoffs.c.id == current.id)
            .values(status="ended", ended_at=now, ended_by=ended_by)
        )
        state = (
            ConversationState.from_dict(conv.state)
            if conv.state
            else ConversationState(greeted=True)
        )
        texter = Texter(phone=conv.phone, user_id=conv.user_id)
        step = self.engine.agent_left(state, texter, now)
        for problem in step.problems:
            log.error("conversation %s: %s", conv.id, problem)
        conv.state, conv.mode = step.state.to_dict(), step.state.mode
        await conversations.save(conn, [conv], now)
        who = agent.name if agent else "timer"
        await conversations.append(
            conn, [TranscriptEntry(conv.id, "system", f"Chat ended by {who}")], now
        )
        closing = "Thanks for chatting with the service desk."
        body = "\n\n".join([closing, *(r.body for r in step.replies)])
        await self._say(conn, conv, None, body, now)

    async def transfer(
        self,
        conn: AsyncConnection,
        agent: AgentRow,
        conversation_id: int,
        *,
        queue_id: int | None,
        to_agent_id: int | None,
        note: str,
        now: datetime,
    ) -> None:
        """Move the chat to another queue (back in line) or offer it to another agent."""
        conv, current = await self._open(conn, agent, conversation_id)
        _enforce(may_transfer(_actor(agent), _chat(current), to_agent_id))
        target_queue = current.queue_id
        if queue_id is not None:
            queue = await agent_store.queue_by_id(conn, queue_id)
            if queue is None:
                raise Invalid("no such queue")
            target_queue = queue.id
        # The sender counts as having declined it: should nobody accept in time, the
        # assigner offers it to someone else in the queue, not back to the sender.
        values: dict[str, Any] = {
            "queue_id": target_queue,
            "status": "waiting",
            "agent_id": None,
            "offered_to": None,
            "declined": [agent.id],
            "note": note.strip() or None,
        }
        target_name = None
        if to_agent_id is not None:
            other = await agent_store.agent_by_id(conn, to_agent_id)
            if other is None:
                raise Invalid("no such agent")
            values.update(status="offered", offered_to=other.id, offered_at=now)
            target_name = other.name
        await conn.execute(update(handoffs).where(handoffs.c.id == current.id).values(**values))
        state = (
            ConversationState.from_dict(conv.state)
            if conv.state
            else ConversationState(greeted=True)
        )
        state.mode = "queued"
        conv.state, conv.mode = state.to_dict(), "queued"
        await conversations.save(conn, [conv], now)
        where = target_name or (await agent_store.queue_by_id(conn, target_queue)).name  # type: ignore[union-attr]
        line = f"{agent.name} transferred the chat to {where}" + (
            f": {note.strip()}" if note.strip() else ""
        )
        await conversations.append(conn, [TranscriptEntry(conv.id, "system", line)], now)
        await self._say(conn, conv, None, "I'm passing you to a colleague. Please stand by.", now)
