"""Who may act on a live chat: the rules behind every Workspace action.

A chat belongs to the agent who has it (active) or who is being offered it; a chat
waiting in line belongs to nobody yet, and any member of its queue may take it.
Only the chat's agent, or an admin, may talk in it, end it or hand it on; an offer
is accepted by the agent it was made to, or by an admin.

A refusal says which of two things went wrong, because the answer differs:

- ``NOT_YOURS``: someone else (the chat's agent, an admin) could do this; you may not.
- ``CONFLICT``: as the chat stands, nobody could (there is no open chat, it is not
  active yet, it is already yours).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Refusal(StrEnum):
    NOT_YOURS = "not_yours"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class OpenChat:
    """The open hand-off of a conversation, as the rules see it."""

    status: str  # waiting | offered | active
    agent_id: int | None
    offered_to: int | None


@dataclass(frozen=True)
class Actor:
    id: int
    is_admin: bool


Decision = tuple[Refusal, str] | None
NO_CHAT = (Refusal.CONFLICT, "there is no open chat in this conversation")


def may_accept(actor: Actor, chat: OpenChat | None) -> Decision:
    """Take a waiting chat, or an offer made to you (an admin: any offer)."""
    if chat is None:
        return (Refusal.CONFLICT, "nobody is waiting in this conversation")
    if chat.status == "active":
        if chat.agent_id == actor.id:
            return (Refusal.CONFLICT, "you already have this chat")
        if actor.is_admin:
            return (Refusal.CONFLICT, "another agent has this chat: transfer it to take it")
        return (Refusal.NOT_YOURS, "another agent has this chat")
    if chat.status == "offered" and chat.offered_to != actor.id and not actor.is_admin:
        return (Refusal.NOT_YOURS, "this chat is being offered to another agent")
    return None


def may_talk(actor: Actor, chat: OpenChat | None) -> Decision:
    """Reply (text, card, image) or end: the chat's agent, or an admin, once accepted."""
    if chat is None:
        return NO_CHAT
    if chat.status != "active":
        return (Refusal.CONFLICT, "this chat is not active: accept it first")
    if chat.agent_id != actor.id and not actor.is_admin:
        return (Refusal.NOT_YOURS, "another agent has this chat")
    return None


def may_transfer(actor: Actor, chat: OpenChat | None, to_agent_id: int | None) -> Decision:
    """Hand the chat on: its agent, the agent it is offered to, or an admin.

    A chat waiting in line is nobody's to hand on: accept it first.  Transferring to
    yourself is how an admin takes over a colleague's chat; for anyone else it is a
    way round the rules above, and refused.
    """
    if chat is None:
        return NO_CHAT
    if actor.is_admin:
        return None
    holder = chat.agent_id if chat.status == "active" else chat.offered_to
    if holder != actor.id:
        if chat.status == "waiting":
            return (Refusal.NOT_YOURS, "this chat is waiting in line: accept it first")
        if chat.status == "offered":
            return (Refusal.NOT_YOURS, "this chat is being offered to another agent")
        return (Refusal.NOT_YOURS, "another agent has this chat")
    if to_agent_id == actor.id:
        return (Refusal.CONFLICT, "this chat is already yours: choose a colleague or a queue")
    return None
