"""Who a texter is when people are kept in two places: our accounts, then another service's.

With ``TEXTDESK_RECORDS=servicenow`` the people who text are the instance's
``sys_user`` profiles, and some of them may also have an account here (made by hand,
or by their first START: notifications are kept per account).  The account comes
first: its id is what subscriptions and the built-in records name, and staff may
have written its name for this desk.  The profile there adds its reference and its
link, or is the texter on its own when there is no account.  Its profiles are read
from memory (``ports.TexterProfiles``), so this directory can be asked inside the
answering transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from textdesk.ports import TexterDirectory, TexterProfile, TexterProfiles


class TextersWithProfiles:
    """``ports.TexterDirectory``: ``local`` accounts first, then ``profiles``."""

    def __init__(self, local: TexterDirectory, profiles: TexterProfiles) -> None:
        self._local = local
        self._profiles = profiles

    async def profiles_by_phone(self, phones: Sequence[str]) -> dict[str, TexterProfile]:
        found = await self._local.profiles_by_phone(phones)
        for phone in dict.fromkeys(phones):
            there = self._profiles.profile(phone)
            if there is None:
                continue
            here = found.get(phone)
            found[phone] = (
                there if here is None else replace(here, account=there.account, link=there.link)
            )
        return found
