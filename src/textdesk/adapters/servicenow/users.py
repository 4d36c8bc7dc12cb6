"""Texters as ``sys_user`` profiles: a local index of the instance's mobile numbers.

``mobile_phone`` is free text (``(555) 123-0001``, ``+1 555 123 0001``,
``5551230001``) and an encoded query matches text, not numbers, so the instance
cannot be asked "who has this number" exactly.  The index pages through the active
users with a mobile number at first use, normalised to E.164, then asks only for
the users changed since the newest ``sys_updated_on`` it saw, every
``refresh_every`` seconds.  A number it does not know is looked for on the
instance (the active users whose mobile phone contains its last four digits,
normalised and compared here), at most once every ``unknown_every`` seconds per
number: a profile added a moment ago is found at its first text, and a stream of
guests does not become a stream of directory reads.  Users made inactive, or whose
number was removed, leave the index: they are guests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textdesk.adapters.servicenow.client import ServiceNowClient, ServiceNowError
from textdesk.adapters.servicenow.links import profile_url
from textdesk.domain.phones import InvalidPhone, to_e164
from textdesk.ports import TexterProfile

log = logging.getLogger(__name__)

USER_FIELDS = ("sys_id", "name", "email", "mobile_phone", "active", "sys_updated_on")
# Unknown numbers looked for in one query (``^OR``-joined), to keep its URL short.
_CHECKS_PER_QUERY = 20
# Numbers looked for lately, kept to throttle the next look; pruned past this many.
_CHECKS_KEPT = 4096


@dataclass(frozen=True)
class ServiceNowUser:
    sys_id: str
    name: str
    email: str
    phone: str  # E.164


def _value(row: dict[str, Any], name: str) -> str:
    # Asked with display values off: plain strings (a dict only if the caller asked for
    # "all"), though an instance may answer a True/False field as a JSON boolean.
    value = row.get(name, "")
    if isinstance(value, dict):
        value = value.get("value", "")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value or "")


def retry_delay(failures: int) -> float:
    """Seconds before reading the users again after ``failures`` failed reads in a row:
    2, 4, 8… up to a minute, so a desk that starts while the instance is away knows
    its texters soon after it is back."""
    return float(min(60, 2 ** min(failures, 6)))


def normalised(raw: str, region: str = "US") -> str | None:
    """A typed phone number in E.164, or None when it is not one."""
    if not raw.strip():
        return None
    try:
        return to_e164(raw, region)
    except InvalidPhone:
        return None


class UserIndex:
    """Active ``sys_user`` rows by E.164 mobile number."""

    def __init__(
        self,
        client: ServiceNowClient,
        *,
        region: str = "US",
        refresh_every: float = 300.0,
        unknown_every: float = 60.0,
        page_size: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._region = region
        self._refresh_every = refresh_every
        self._unknown_every = unknown_every
        self._page_size = page_size
        self._clock = clock
        self._by_phone: dict[str, ServiceNowUser] = {}
        self._phone_of: dict[str, str] = {}  # sys_id -> E.164, to move or drop a changed user
        self._newest: str | None = None  # the largest sys_updated_on seen
        self._refreshed_at: float | None = None
        self._checked: dict[str, float] = {}  # unknown E.164 -> when it was last looked for
        self._lock: asyncio.Lock | None = None

    @property
    def refresh_every(self) -> float:
        """Seconds between two reads of the users changed since the last."""
        return self._refresh_every

    @property
    def loaded(self) -> bool:
        """Whether the active users have been read once."""
        return self._refreshed_at is not None

    def profile(self, phone: str) -> TexterProfile | None:
        """``ports.TexterProfiles``: the user with this number, from memory only."""
        user = self._by_phone.get(phone)
        if user is None:
            return None
        return TexterProfile(
            phone=user.phone,
            name=user.name,
            email=user.email or None,
            account=user.sys_id,
            link=profile_url(self._client.base_url, user.sys_id),
        )

    def settled(self, phone: str) -> bool:
        """``ports.TexterProfiles``: whether :meth:`profile` can answer for ``phone`` with
        no look-up: the users were read and the number is theirs, or it was looked for
        on the instance less than ``unknown_every`` seconds ago.

        A read of everyone's changes does not settle a number it did not find: a
        profile added just after it would be a guest until the next one.
        """
        if self._refreshed_at is None:
            return False
        if phone in self._by_phone:
            return True
        at = self._checked.get(phone)
        return at is not None and self._clock() - at < self._unknown_every

    async def look_up(self, phones: Sequence[str]) -> None:
        """Read everyone the first time; then look for those of ``phones`` not
        :meth:`settled` on the instance (one query for up to 20 numbers)."""
        if self._refreshed_at is None:
            await self.refresh()
        await self._check([p for p in dict.fromkeys(phones) if not self.settled(p)])

    async def find(self, phone: str) -> ServiceNowUser | None:
        """The active user whose mobile number is ``phone`` (E.164), or None (a guest)."""
        now = self._clock()
        if self._refreshed_at is None or now - self._refreshed_at >= self._refresh_every:
            await self.refresh()
        if not self.settled(phone):
            await self._check([phone])
        return self._by_phone.get(phone)

    async def _check(self, phones: Sequence[str]) -> None:
        """Ask the instance for the active users whose mobile phone may be one of ``phones``.

        ``mobile_phone`` is typed text, so the query asks for the last four digits
        anywhere in it and the rows are normalised here; a user it returns whose
        number is another one is simply indexed too.  The numbers count as looked
        for even if the call fails: a failing instance is not asked about them
        again before ``unknown_every`` has passed (the breaker keeps the rest cheap).
        """
        if not phones:
            return
        now = self._clock()
        if len(self._checked) > _CHECKS_KEPT:
            self._checked = {
                p: at for p, at in self._checked.items() if now - at < self._unknown_every
            }
        for phone in phones:
            self._checked[phone] = now
        for start in range(0, len(phones), _CHECKS_PER_QUERY):
            tails = sorted({phone[-4:] for phone in phones[start : start + _CHECKS_PER_QUERY]})
            query = "active=true^" + "^OR".join(f"mobile_phoneLIKE{tail}" for tail in tails)
            rows = await self._client.rows(
                "sys_user",
                query=query,
                fields=USER_FIELDS,
                limit=self._page_size,
                display_value="false",
            )
            for row in rows:
                # Not a read of the changes: the newest sys_updated_on seen stays put,
                # or the next refresh would skip changes made before this row's.
                self._take(row, changes=False)

    async def refresh(self) -> None:
        """Read every user changed since the last refresh (all active ones, the first time)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            since = self._newest
            if since is not None:
                # ">=": users updated in the same second as the newest one seen are read
                # again rather than missed; inactive ones too, to drop them.
                await self._read_all(f"sys_updated_on>={since}")
            elif not await self._read_all("active=true^mobile_phoneISNOTEMPTY"):
                # No one, or an instance that answers no rows for a query part it does
                # not take (ISNOTEMPTY is not everywhere): every active user, and
                # those without a number are left out here.
                await self._read_all("active=true")
            self._refreshed_at = self._clock()

    async def _read_all(self, query: str) -> int:
        """Page through the users ``query`` matches; how many rows were read.

        Until a page comes back empty, not merely short: an instance may serve fewer
        rows a page than ``sysparm_limit`` asks.  A page with no user not already read
        ends it too (an instance that ignores ``sysparm_offset`` must not loop).
        """
        query += "^ORDERBYsys_updated_on^ORDERBYsys_id"
        seen: set[str] = set()
        offset = 0
        while True:
            rows = await self._client.rows(
                "sys_user",
                query=query,
                fields=USER_FIELDS,
                limit=self._page_size,
                offset=offset,
                display_value="false",
            )
            fresh = {_value(row, "sys_id") for row in rows} - seen
            if not fresh:
                return offset
            seen |= fresh
            for row in rows:
                self._take(row)
            offset += len(rows)

    def _take(self, row: dict[str, Any], *, changes: bool = True) -> None:
        sys_id = _value(row, "sys_id")
        updated = _value(row, "sys_updated_on")
        if changes and updated and (self._newest is None or updated > self._newest):
            self._newest = updated  # "YYYY-MM-DD HH:MM:SS" sorts as text
        old = self._phone_of.pop(sys_id, None)
        held = self._by_phone.get(old) if old is not None else None
        if old is not None and held is not None and held.sys_id == sys_id:
            del self._by_phone[old]
        phone = normalised(_value(row, "mobile_phone"), self._region)
        if phone is None or _value(row, "active") == "false":
            return
        self._by_phone[phone] = ServiceNowUser(
            sys_id=sys_id, name=_value(row, "name"), email=_value(row, "email"), phone=phone
        )
        self._phone_of[sys_id] = phone

    def phone_of(self, sys_id: str) -> str | None:
        """The E.164 mobile number of an indexed user."""
        return self._phone_of.get(sys_id)

    async def phone_for(self, sys_id: str) -> str | None:
        """The mobile number of user ``sys_id`` (``ports.CallerPhones``), refreshed as
        :meth:`find` refreshes for an unknown number.

        A refresh that fails answers from the index as it is: a record event names a
        caller the index has most likely seen, and the event is not worth losing.
        """
        try:
            now = self._clock()
            if self._refreshed_at is None or now - self._refreshed_at >= self._refresh_every:
                await self.refresh()
            if sys_id not in self._phone_of and (
                self._refreshed_at is None
                or self._clock() - self._refreshed_at >= self._unknown_every
            ):
                await self.refresh()
        except ServiceNowError as exc:
            log.warning("the instance's users could not be read: %s", exc)
        return self._phone_of.get(sys_id)
