"""Twilio's inbound webhook form, normalised to one channel-neutral message."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from textdesk.domain.events import MediaRef

MAX_MEDIA = 10
_SID = re.compile(r"^(SM|MM|SS)[0-9a-zA-Z]{16,62}$")
# What Twilio's Messages API takes as ``To`` for an SMS: E.164, at most 15 digits.
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


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


def can_answer(sender: str) -> bool:
    """Whether a text from ``sender`` can be answered by SMS.

    Twilio gives a phone's number in E.164; an alphanumeric sender ID, a short code
    or another channel's address (``whatsapp:+1…``) cannot be texted back, and a
    reply would only fail with 21211.
    """
    return _E164.match(sender) is not None


def parse_inbound(items: Sequence[tuple[str, str]]) -> InboundSms:
    """Read the fields we rely on; keep every field as posted (unknown ones included)."""
    params: dict[str, str] = {}
    for name, value in items:
        # A repeated name is not part of Twilio's format; keep the first, as Twilio's
        # own parsers do, but it was still covered by the signature check.
        params.setdefault(name, value)
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid") or ""
    if not _SID.match(sid):
        raise MalformedWebhook("MessageSid is missing or not a Twilio message SID")
    from_phone = params.get("From", "").strip()
    to_phone = params.get("To", "").strip()
    if not from_phone or not to_phone:
        raise MalformedWebhook("From and To are required")
    try:
        num_media = int(params.get("NumMedia", "0") or "0")
    except ValueError as exc:
        raise MalformedWebhook("NumMedia is not a number") from exc
    if not 0 <= num_media <= MAX_MEDIA:
        raise MalformedWebhook(f"NumMedia must be between 0 and {MAX_MEDIA}")
    media: list[MediaRef] = []
    for index in range(num_media):
        url = params.get(f"MediaUrl{index}")
        if not url:
            raise MalformedWebhook(f"MediaUrl{index} is missing")
        media.append(MediaRef(url=url, content_type=params.get(f"MediaContentType{index}", "")))
    return InboundSms(
        message_sid=sid,
        from_phone=from_phone,
        to_phone=to_phone,
        body=params.get("Body", ""),
        media=tuple(media),
        params=params,
    )
