"""Twilio's webhook forms, normalised: an inbound text, or a delivery status.

Both forms are signed, but Twilio's signature covers ``name + value`` pairs
concatenated with no separator, so the boundary between a name and a value is not
signed: ``MessageSid=SM…&NumMedia=0`` and ``MessageSid=SM…NumMedia0`` verify
alike.  A replayed form re-split that way would bring a new sid and pass as a new
text; a sid of exactly Twilio's shape, the same in every field that carries it,
closes that door.

Everything else a signed form says is kept: a value PostgreSQL cannot store (a NUL)
is replaced, a sender longer than the inbox holds is shortened (it is no phone
number and is not answered), and the form as posted is kept beside the row,
percent-encoded, whenever what is stored differs from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from textdesk.domain.agent.messages import MediaRef
from textdesk.domain.delivery import CALLBACK_STATUSES
from textdesk.domain.sms import is_e164

MAX_MEDIA = 10
# Twilio's message SIDs: "SM" (an SMS) or "MM" (an MMS), then 32 lowercase hex digits.
_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
_SID_FIELDS = frozenset({"MessageSid", "SmsMessageSid", "SmsSid"})
# The inbox's phone columns hold 32 characters; E.164 needs 16.
MAX_ADDRESS = 32
# Twilio's error codes have five digits; nine still fit the column (a 32-bit integer).
_ERROR_CODE = re.compile(r"[0-9]{1,9}")
# PostgreSQL stores no NUL in text or JSON; U+FFFD says "a character was here".
_NUL = "\x00"
_REPLACEMENT = "\ufffd"


class MalformedWebhook(ValueError):
    """The form lacks what every Twilio message webhook carries."""


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_phone: str
    to_phone: str
    body: str
    media: tuple[MediaRef, ...]
    params: dict[str, str]
    # The form as posted (percent-encoded) when ``params`` could not hold it as it was.
    raw: str | None = None


@dataclass(frozen=True)
class StatusReport:
    """A status callback: ``status`` is None for a word Twilio does not send."""

    message_sid: str
    status: str | None
    error_code: int | None


def can_answer(sender: str) -> bool:
    """Whether a text from ``sender`` can be answered by SMS.

    Twilio gives a phone's number in E.164; an alphanumeric sender ID, a short code
    or another channel's address (``whatsapp:+1…``) cannot be texted back, and a
    reply would only fail with 21211.
    """
    return is_e164(sender)


def _the_sid(sids: list[str]) -> str:
    """The one sid the form's sid fields agree on, if it has Twilio's shape."""
    if not sids:
        raise MalformedWebhook("MessageSid is missing")
    sid = sids[0]
    if any(other != sid for other in sids):
        raise MalformedWebhook("MessageSid, SmsMessageSid and SmsSid disagree")
    if _SID.fullmatch(sid) is None:
        raise MalformedWebhook("MessageSid is not a Twilio message SID")
    return sid


def _storable(text: str) -> str:
    return text.replace(_NUL, _REPLACEMENT)


def parse_inbound(items: Sequence[tuple[str, str]]) -> InboundSms:
    """Read the fields we rely on; keep every field as posted (unknown ones included)."""
    params: dict[str, str] = {}
    sids: list[str] = []
    altered = False
    for posted_name, posted_value in items:
        name, value = posted_name, posted_value
        if _NUL in name or _NUL in value:
            name, value, altered = _storable(name), _storable(value), True
        if name in _SID_FIELDS:
            sids.append(value)
        # A repeated name is not part of Twilio's format; keep the first, as Twilio's
        # own parsers do (the others stay in ``raw``), but all were signed.
        params.setdefault(name, value)
    sid = _the_sid(sids)
    from_phone = params.get("From", "").strip()
    to_phone = params.get("To", "").strip()
    if not from_phone or not to_phone:
        raise MalformedWebhook("From and To are required")
    if len(from_phone) > MAX_ADDRESS or len(to_phone) > MAX_ADDRESS:
        from_phone, to_phone, altered = from_phone[:MAX_ADDRESS], to_phone[:MAX_ADDRESS], True
    # A signed text is kept even when its media fields do not add up (Twilio does not
    # retry, so a 400 would lose it): an unusable NumMedia means "look at every
    # MediaUrlN", a missing MediaUrlN is skipped, and the form as posted is kept raw.
    declared = _declared_media(params.get("NumMedia", "0"))
    media: list[MediaRef] = []
    for index in range(MAX_MEDIA if declared is None else declared):
        url = params.get(f"MediaUrl{index}")
        if url:
            ctype = params.get(f"MediaContentType{index}", "")
            media.append(MediaRef(url=url, content_type=ctype))
    if declared is None or len(media) != declared:
        altered = True
    return InboundSms(
        message_sid=sid,
        from_phone=from_phone,
        to_phone=to_phone,
        body=params.get("Body", ""),
        media=tuple(media),
        params=params,
        raw=urlencode(items) if altered or len(params) != len(items) else None,
    )


def _declared_media(value: str) -> int | None:
    """NumMedia as Twilio sends it (0 to MAX_MEDIA), or None when it is anything else."""
    if value == "":
        return 0
    if value.isascii() and value.isdigit() and int(value) <= MAX_MEDIA:
        return int(value)
    return None


def parse_status(items: Sequence[tuple[str, str]]) -> StatusReport:
    """Read a status callback: its message's sid, the status and any error code."""
    fields: dict[str, str] = {}
    sids: list[str] = []
    for name, value in items:
        if name in _SID_FIELDS:
            sids.append(value)
        fields.setdefault(name, value)
    sid = _the_sid(sids)
    status = fields.get("MessageStatus") or fields.get("SmsStatus")
    if not status:
        raise MalformedWebhook("MessageStatus is missing")
    status = status.lower()
    code = fields.get("ErrorCode", "")
    return StatusReport(
        message_sid=sid,
        status=status if status in CALLBACK_STATUSES else None,
        error_code=int(code) if _ERROR_CODE.fullmatch(code) else None,
    )
