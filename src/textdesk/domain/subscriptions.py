"""SMS notification subscriptions: the texter's commands and what each one does.

Pure: no I/O.  The services layer reads the current setting and the carrier state,
asks :func:`decide`, writes what the decision says and sends the reply.

Commands are whole messages, any case, surrounding spaces and punctuation ignored
("Stop." counts):

- ``NOTIFICATION`` / ``NOTIFICATIONS``: report the setting;
- ``START``, ``UNSTOP``: subscribe (accounts) and lift a carrier opt-out (anyone);
- ``YES`` from a number that is carrier-opted-out: lifts the opt-out only, as
  Twilio does; it never subscribes, and when the bot has asked a question it still
  answers it ("yes" is also the answer to every yes/no question);
- ``STOP`` and the other carrier opt-out words (STOPALL, UNSUBSCRIBE, CANCEL, END,
  QUIT, REVOKE, OPTOUT): unsubscribe (accounts) and record the carrier opt-out
  (anyone): Twilio blocks our texts to the number from then on.

Subscriptions are off by default (no row means off) and only account holders can
have one; guests are told that, and how to register.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum
from typing import Literal

from textdesk.domain.agent.texter_replies import normalize_command

__all__ = [
    "OPT_IN_WORDS",
    "OPT_OUT_WORDS",
    "RESERVED_WORDS",
    "STATUS_WORDS",
    "Command",
    "Decision",
    "ReplyKey",
    "Situation",
    "Wording",
    "decide",
    "may_be_command",
    "parse_command",
]

STATUS_WORDS = frozenset({"notification", "notifications"})
OPT_IN_WORDS = frozenset({"start", "unstop"})
# "yes" opts in only a number the carrier has opted out (see parse_command).
CONDITIONAL_OPT_IN = "yes"
OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
# Words no other part of textdesk may claim as a command (topic settings are checked
# against this): a carrier acts on them whatever we do with them.
RESERVED_WORDS = STATUS_WORDS | OPT_IN_WORDS | OPT_OUT_WORDS | {CONDITIONAL_OPT_IN}


class Command(Enum):
    STATUS = "status"
    START = "start"
    STOP = "stop"
    RESUME = "resume"  # YES while opted out: texts may flow again, nothing else


def parse_command(body: str, *, carrier_opted_out: bool) -> Command | None:
    """The subscription command a whole message is, if any."""
    word = normalize_command(body)
    if word in STATUS_WORDS:
        return Command.STATUS
    if word in OPT_OUT_WORDS:
        return Command.STOP
    if word in OPT_IN_WORDS:
        return Command.START
    if word == CONDITIONAL_OPT_IN and carrier_opted_out:
        return Command.RESUME
    return None


def may_be_command(body: str) -> bool:
    """Cheap pre-check: could ``body`` be a command for some carrier state?

    Lets the caller skip the carrier-state query for ordinary texts.
    """
    word = normalize_command(body)
    return word in RESERVED_WORDS


ReplyKey = Literal[
    "status_on",
    "status_off",
    "status_blocked",
    "subscribed",
    "already_on",
    "unsubscribed",
    "guest_info",
    "guest_start",
    "guest_resumed",
    "guest_stop",
    "resumed",
]
CarrierChange = Literal["opt_out", "opt_in"]


@dataclass(frozen=True)
class Situation:
    """What is true before the command: who texts, their setting, the carrier state."""

    account: bool
    subscribed: bool
    carrier_opted_out: bool


@dataclass(frozen=True)
class Decision:
    """What a command changes and which reply confirms it.

    ``enabled``: the new subscription setting, ``None`` when it does not change.
    ``carrier``: ``opt_out`` records the carrier opt-out, ``opt_in`` lifts it.
    """

    reply: ReplyKey
    enabled: bool | None = None
    carrier: CarrierChange | None = None


def decide(command: Command, now: Situation) -> Decision:
    """The decision table: (account or guest, command, setting, carrier state) → decision."""
    if command is Command.STOP:
        # Every STOP is (re)recorded: it may be the first we hear of it.
        if not now.account:
            return Decision("guest_stop", carrier="opt_out")
        return Decision(
            "unsubscribed", enabled=False if now.subscribed else None, carrier="opt_out"
        )
    carrier: CarrierChange | None = "opt_in" if now.carrier_opted_out else None
    if command is Command.RESUME:
        return Decision("resumed", carrier=carrier)
    if command is Command.START:
        if not now.account:
            return Decision("guest_resumed" if carrier else "guest_start", carrier=carrier)
        if now.subscribed and not now.carrier_opted_out:
            return Decision("already_on")
        return Decision("subscribed", enabled=True if not now.subscribed else None, carrier=carrier)
    if not now.account:
        return Decision("guest_info")
    if not now.subscribed:
        return Decision("status_off")
    return Decision("status_blocked" if now.carrier_opted_out else "status_on")


@dataclass(frozen=True)
class Wording:
    """What the commands answer; each text is a (sandboxed Jinja2) template.

    Names available: ``how_to_register`` (the text below) and ``name`` (the texter's
    account name, empty for guests).  Keep each to two GSM-7 segments (306
    characters): the defaults are checked for it in the unit tests.
    """

    how_to_register: str = "To register, contact the service desk."
    status_on: str = (
        "SMS notifications are ON: we text you when your incidents change. "
        "Reply STOP to turn them off."
    )
    status_off: str = (
        "SMS notifications are OFF. Reply START to get a text when your incidents change."
    )
    status_blocked: str = (
        "SMS notifications are OFF: this number opted out of our texts. "
        "Reply START to turn them on."
    )
    subscribed: str = (
        "SMS notifications are now ON: we'll text you when your incidents change. "
        "Reply STOP to turn them off, NOTIFICATION to check."
    )
    already_on: str = "SMS notifications are already ON. Reply STOP to turn them off."
    unsubscribed: str = (
        "SMS notifications are now OFF and we won't text you again. "
        "Reply START to turn them back on."
    )
    guest_info: str = (
        "SMS notifications are for registered users, and this number isn't linked to "
        "an account. {{ how_to_register }}"
    )
    guest_start: str = "SMS notifications are for registered users only. {{ how_to_register }}"
    guest_resumed: str = (
        "You can get texts from us again. SMS notifications are for registered users "
        "only. {{ how_to_register }}"
    )
    # YES while opted out (Twilio lifts its block on the same word).
    resumed: str = "You can get texts from us again. Reply STOP to opt out."
    guest_stop: str = "You won't get more texts from us. Reply START to undo."
    # Added after a command answered mid-topic, so the texter knows the question stands.
    resume_hint: str = "To carry on, reply to my last question."

    @classmethod
    def keys(cls) -> frozenset[str]:
        """Every name a wording file may set."""
        return frozenset(f.name for f in fields(cls))
