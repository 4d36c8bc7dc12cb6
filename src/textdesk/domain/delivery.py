"""Delivery rules: which Twilio answers to retry, how long to wait, status order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

# A status callback never moves a message backwards: Twilio does not promise order.
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "claimed": 1,
    "in_doubt": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "sent": 5,
    "delivered": 6,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
    "read": 7,
}
# Statuses after which Twilio posts no further callback for a message.
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled", "read"})
# What Twilio's status callbacks report (the others in STATUS_RANK are our own steps).
CALLBACK_STATUSES = frozenset(STATUS_RANK) - {"pending", "claimed", "in_doubt"}

# Twilio's answer for a recipient who texted STOP: a fact about the number, not a fault.
OPTED_OUT = 21610
# Codes worth another try later, even though they came with a 4xx: Twilio (or the
# sender's queue) is busy, not the text wrong.
RETRY_CODES = frozenset({20429, 21611, 30001})
# "Unknown error": it may be the text, so it is tried again only a few times.
UNKNOWN_CODES = frozenset({30008})

ERROR_TEXT: dict[int, str] = {
    20003: "authentication failed (check TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN)",
    20429: "too many requests",
    21211: "invalid 'To' phone number",
    21602: "message body is required",
    OPTED_OUT: "recipient opted out (texted STOP)",
    21611: "sender's queue is full",
    21614: "'To' number cannot receive SMS",
    21617: "message body too long",
    30001: "queue overflow",
    30003: "unreachable destination handset",
    30004: "message blocked",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
    30008: "unknown error",
}


class SendOutcome(Enum):
    """What one send attempt's answer means for the text (see :func:`classify`)."""

    ACCEPTED = "accepted"
    # Transient: Twilio busy or unreachable; retried for as long as the text is worth sending.
    RETRY = "retry"
    # 30008: retried a bounded number of times (TEXTDESK_SEND_MAX_ATTEMPTS).
    UNKNOWN = "unknown"
    FAILED = "failed"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class SendResult:
    """What one REST call to send a message came back with."""

    http_status: int | None  # None: no answer (timeout, connection refused)
    sid: str | None = None
    status: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    # No answer although the request may have reached Twilio (a read timeout).
    ambiguous: bool = False


class LookupFailed(Exception):
    """Twilio could not say whether an earlier attempt was sent."""


def is_opt_out(error_code: int | None) -> bool:
    """True when Twilio's answer (to a send or in a status callback) means "opted out".

    The number is then recorded as carrier-opted-out and nothing more is sent to it.
    """
    return error_code == OPTED_OUT


def classify(result: SendResult) -> SendOutcome:
    """Decide what to do after one send attempt.

    Any refusal not named here (an invalid or unreachable number, a body Twilio will
    not take) fails for good: retrying cannot change the answer.
    """
    if result.http_status is not None and 200 <= result.http_status < 300 and result.sid:
        return SendOutcome.ACCEPTED
    if is_opt_out(result.error_code):
        return SendOutcome.OPTED_OUT
    if result.error_code in RETRY_CODES:
        return SendOutcome.RETRY
    if result.error_code in UNKNOWN_CODES:
        return SendOutcome.UNKNOWN
    if result.http_status is None or result.http_status >= 500 or result.http_status == 429:
        return SendOutcome.RETRY
    return SendOutcome.FAILED


def backoff_seconds(attempt: int, *, base: float, cap: float = 300.0, jitter: float) -> float:
    """Exponential backoff with "equal jitter": half the ceiling plus a random half.

    ``jitter`` in [0, 1) is supplied by the caller, so the rule stays a pure function.
    """
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    return ceiling * (0.5 + jitter / 2)


def gives_up(queued_at: datetime, now: datetime, window: timedelta) -> bool:
    """True once a text queued at ``queued_at`` is no longer worth retrying.

    One window for every transient failure (``TEXTDESK_SEND_GIVE_UP_AFTER``), however
    many attempts it took: a reply that is hours late has lost its point.
    """
    return now - queued_at >= window


def gave_up_reason(window: timedelta, last_error: str | None) -> str:
    """What staff read on a text given up after Twilio kept failing."""
    hours, rest = divmod(int(window.total_seconds()), 3600)
    span = f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"
    last = f" (last: {last_error})" if last_error else ""
    return f"gave up: Twilio kept failing for {span} after the text was queued{last}"


# Carriers without delivery receipts leave a message "sent" for good: stop asking then.
RECONCILE_HORIZON = timedelta(hours=48)
# Accepted by Twilio, no final status yet: what reconciliation asks about.
IN_FLIGHT = ("accepted", "scheduled", "queued", "sending", "sent")


def next_status_check(sent_at: datetime, now: datetime, after: timedelta) -> datetime:
    """When to ask Twilio again about a message still without a final status.

    The wait grows with the message's age (``after``, then as long as it has been
    out), so a message stuck at "sent" costs a dozen lookups over two days, not one
    every ten minutes.
    """
    return now + max(after, now - sent_at)


def moves_forward(current: str, new: str) -> bool:
    """True when ``new`` is later in a message's life than ``current``."""
    return STATUS_RANK.get(new, -1) > STATUS_RANK.get(current, -1)


def describe_error(code: int | None) -> str | None:
    if code is None:
        return None
    return ERROR_TEXT.get(code, f"Twilio error {code}")
