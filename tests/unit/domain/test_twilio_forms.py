"""Reading Twilio's inbound webhook form."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from textdesk.domain.twilio_forms import MalformedWebhook, can_answer, parse_inbound, parse_status

SID = "SM" + "a" * 32
BASE = [("MessageSid", SID), ("From", "+15551230001"), ("To", "+15550100100")]


def test_all_media_and_unknown_fields_are_kept() -> None:
    """Every MediaUrlN is read and fields we do not know are kept verbatim."""
    form = [
        *BASE,
        ("Body", "look"),
        ("NumMedia", "2"),
        ("MediaUrl0", "https://api.twilio.com/a"),
        ("MediaContentType0", "image/png"),
        ("MediaUrl1", "https://api.twilio.com/b"),
        ("MediaContentType1", "image/jpeg"),
        ("BrandNewField", "x"),
    ]
    message = parse_inbound(form)
    assert [m.url for m in message.media] == [
        "https://api.twilio.com/a",
        "https://api.twilio.com/b",
    ]
    assert message.params["BrandNewField"] == "x"
    assert message.body == "look"


def test_empty_body_is_fine() -> None:
    """An MMS without text (or an empty text) is a message, with an empty body."""
    assert parse_inbound(BASE).body == ""


@pytest.mark.parametrize(
    ("form", "why"),
    [
        (BASE[1:], "MessageSid"),
        ([("MessageSid", "nope"), *BASE[1:]], "MessageSid"),
        ([("MessageSid", SID + "NumMedia0"), *BASE[1:]], "not a Twilio message SID"),
        ([("MessageSid", "SM" + "A" * 32), *BASE[1:]], "not a Twilio message SID"),
        ([("MessageSid", "SS" + "a" * 32), *BASE[1:]], "not a Twilio message SID"),
        ([("MessageSid", "SM" + "a" * 31), *BASE[1:]], "not a Twilio message SID"),
        ([("MessageSid", SID + "\n"), *BASE[1:]], "not a Twilio message SID"),
        ([*BASE, ("SmsSid", "SM" + "b" * 32)], "disagree"),
        ([*BASE, ("SmsMessageSid", "")], "disagree"),
        ([*BASE, ("MessageSid", "MM" + "a" * 32)], "disagree"),
        (BASE[:2], "From and To"),
    ],
)
def test_malformed_forms_are_refused_with_a_reason(form: list[tuple[str, str]], why: str) -> None:
    """A form missing what Twilio always sends is refused, saying what is wrong."""
    with pytest.raises(MalformedWebhook, match=why):
        parse_inbound(form)


def test_any_sid_field_may_carry_the_sid_if_all_agree() -> None:
    """SmsSid alone, or all three sid fields with one value, name the message."""
    only_sms_sid = [("SmsSid", "MM" + "0" * 32), *BASE[1:]]
    assert parse_inbound(only_sms_sid).message_sid == "MM" + "0" * 32
    all_three = [*BASE, ("SmsMessageSid", SID), ("SmsSid", SID)]
    assert parse_inbound(all_three).message_sid == SID


def test_a_status_callback_is_read_with_its_error_code() -> None:
    """A callback gives its message's sid, the status in lower case and the error code."""
    form = [("MessageSid", SID), ("SmsSid", SID), ("MessageStatus", "Undelivered")]
    report = parse_status([*form, ("ErrorCode", "30003")])
    assert (report.message_sid, report.status, report.error_code) == (SID, "undelivered", 30003)


@pytest.mark.parametrize(
    ("form", "why"),
    [
        ([("MessageStatus", "sent")], "MessageSid"),
        ([("MessageSid", SID + "MessageStatussent"), ("SmsStatus", "sent")], "not a Twilio"),
        ([("MessageSid", SID), ("SmsSid", "SM" + "b" * 32), ("MessageStatus", "sent")], "disagree"),
        ([("MessageSid", SID)], "MessageStatus"),
    ],
)
def test_malformed_status_callbacks_are_refused(form: list[tuple[str, str]], why: str) -> None:
    """A callback without one well-formed sid, or without a status, is refused."""
    with pytest.raises(MalformedWebhook, match=why):
        parse_status(form)


@pytest.mark.parametrize(
    ("sender", "answerable"),
    [
        ("+15551234567", True),
        ("+447700900123", True),
        ("+4930123456", True),
        ("MyBrand", False),  # an alphanumeric sender ID
        ("12345", False),  # a short code
        ("whatsapp:+15551234567", False),
        ("+1555123456789012", False),  # 16 digits: longer than E.164 allows
        ("+0123456789", False),
        ("+1 555 123 4567", False),
        ("", False),
    ],
)
def test_only_e164_senders_can_be_texted_back(sender: str, answerable: bool) -> None:
    assert can_answer(sender) is answerable


def test_what_cannot_be_stored_as_posted_is_kept_raw() -> None:
    """A NUL is replaced, a long sender shortened, a repeat dropped; the raw form keeps all."""
    form = [*BASE[:1], ("From", "+1" + "5" * 40), BASE[2], ("Body", "a\x00b"), ("Body", "again")]
    message = parse_inbound(form)
    assert message.body == "a\ufffdb"
    assert message.from_phone == ("+1" + "5" * 40)[:32]
    assert not can_answer(message.from_phone)
    assert message.raw is not None
    assert parse_qsl(message.raw, keep_blank_values=True) == form
    assert parse_inbound(BASE).raw is None


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("sent", "2147483648", ("sent", None)),
        ("sent", "²", ("sent", None)),
        ("sent", "999999999", ("sent", 999999999)),
        ("x" * 100, "", (None, None)),
        ("fail\x00ed", "", (None, None)),
        ("pending", "", (None, None)),
    ],
)
def test_status_callbacks_keep_only_what_twilio_could_mean(
    status: str, code: str, expected: tuple[str | None, int | None]
) -> None:
    """An unknown status reads as None; an error code that is no 9-digit number, as none."""
    report = parse_status([("MessageSid", SID), ("MessageStatus", status), ("ErrorCode", code)])
    assert (report.status, report.error_code) == expected


@pytest.mark.parametrize(
    ("media_fields", "kept"),
    [
        ([("NumMedia", "x"), ("MediaUrl0", "https://api.twilio.com/m/0")], 1),
        ([("NumMedia", "\u00b2")], 0),
        ([("NumMedia", str(2**70)), ("MediaUrl1", "https://api.twilio.com/m/1")], 1),
        ([("NumMedia", "11")], 0),
        ([("NumMedia", "1")], 0),
        ([("NumMedia", "2"), ("MediaUrl1", "https://api.twilio.com/m/1")], 1),
    ],
)
def test_media_fields_that_do_not_add_up_still_keep_the_text(
    media_fields: list[tuple[str, str]], kept: int
) -> None:
    """An odd NumMedia or a missing MediaUrlN is no reason to lose a signed text."""
    sms = parse_inbound([*BASE, ("Body", "hi there"), *media_fields])
    assert sms.body == "hi there"
    assert len(sms.media) == kept
    assert sms.raw is not None  # the form as posted is kept
