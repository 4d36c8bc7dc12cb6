"""Dates as a person reads them on a phone: ``1 Dec 2026, 13:33 EST``.

Texts are read on small screens and billed by the GSM-7 segment, so the form is
short and plain ASCII: the day without a leading zero, the month's three letters
(English, whatever the server's locale), a 24-hour clock (no AM/PM to misread) and
the zone's own abbreviation, so a reader in another zone knows which clock it is.
Seconds and microseconds are left out: nobody acts on them.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

__all__ = ["as_utc", "readable"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def readable(moment: datetime, zone: tzinfo = UTC) -> str:
    """``moment`` in ``zone``, e.g. ``1 Dec 2026, 13:33 EST`` (naive means UTC)."""
    local = as_utc(moment).astimezone(zone)
    name = local.tzname() or local.strftime("%z")
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M} {name}"
