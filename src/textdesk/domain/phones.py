"""Phone numbers in E.164, the one form we store and compare."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    pass


def to_e164(raw: str, default_region: str = "US") -> str:
    """Normalise ``raw`` to E.164 or raise :class:`InvalidPhone` saying why."""
    text = raw.strip()
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"{raw!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone(f"{raw!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
