"""Sign-in throttling (pure): which attempts may reach the password check, and when.

An attempt is counted *before* its password is checked: deciding and counting are
one atomic step in the store, so forty guesses sent at once cannot all pass a check
made before any of them had failed.  A success then clears what it counted (the
address gives back its one).  A refused attempt changes nothing, so hammering away
does not lengthen anybody's wait.

Every attempt has three tallies, each with its own rule (``SignInLimits``):

- **this email from this address**: 5 failures in 15 minutes, then that address
  waits out the 15 minutes for that email.  A guesser at one address is stopped at
  once; the owner, elsewhere, is not.
- **this email from anywhere**: 5 failures free, then each attempt waits after the
  previous failure for a delay that doubles from 1 s up to 60 s; 15 quiet minutes
  forget them.  Never a lock: guessing the admin's password from a thousand
  addresses holds the admin up a minute at most, and holds the guessers, together,
  to one guess a minute (1,440 a day against an argon2 hash and a password of at
  least ten characters).  Someone with six typos waits one second.
- **this address, whatever the email**: 100 failures in 15 minutes.  An office
  behind one address (fifty people, two typos each) is not locked out, while an
  address trying email after email is stopped at 400 guesses an hour.

Keys are digests: the store never holds an email or an address, and a long email
costs no more than a short one.  IPv6 addresses count per /64, the block one
subscriber gets, or a single machine would have 2**64 addresses to rotate through.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Tally:
    """Failures counted for one key since ``first_at``; forgotten at ``expires_at``."""

    failures: int
    first_at: datetime
    last_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Window:
    """At most ``limit`` failures in the ``window`` that starts with the first of them."""

    limit: int
    window: timedelta

    def wait(self, tally: Tally | None, now: datetime) -> float:
        """Seconds before another attempt may go ahead (0: now)."""
        if tally is None or tally.failures < self.limit:
            return 0.0
        return max(0.0, (tally.first_at + self.window - now).total_seconds())

    def count(self, tally: Tally | None, now: datetime) -> Tally:
        """``tally`` with one more failure."""
        if tally is None:
            return Tally(1, now, now, now + self.window)
        return replace(tally, failures=tally.failures + 1, last_at=now)


@dataclass(frozen=True)
class GrowingDelay:
    """``free`` failures without waiting, then a wait after each that doubles.

    The wait after the ``free``-th failure is ``first``, then twice that, up to
    ``longest``; ``memory`` after the latest failure all of them are forgotten.
    """

    free: int
    first: timedelta
    longest: timedelta
    memory: timedelta

    def delay(self, failures: int) -> timedelta:
        """How long after the latest of ``failures`` failures the next attempt waits."""
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 30)  # past the cap long before: no overflow
        return min(self.longest, self.first * (1 << doublings))

    def wait(self, tally: Tally | None, now: datetime) -> float:
        """Seconds before another attempt may go ahead (0: now)."""
        if tally is None:
            return 0.0
        return max(0.0, (tally.last_at + self.delay(tally.failures) - now).total_seconds())

    def count(self, tally: Tally | None, now: datetime) -> Tally:
        """``tally`` with one more failure, remembered ``memory`` from now."""
        if tally is None:
            return Tally(1, now, now, now + self.memory)
        return Tally(tally.failures + 1, tally.first_at, now, now + self.memory)


@dataclass(frozen=True)
class SignInKeys:
    """The three tallies one attempt is counted against."""

    pair: str
    email: str
    address: str

    def all(self) -> tuple[str, str, str]:
        return (self.pair, self.email, self.address)


@dataclass(frozen=True)
class ThrottleVerdict:
    """An attempt's answer, and what to store for it in the same atomic step."""

    wait: float  # seconds to wait; 0 when the attempt goes ahead
    writes: Mapping[str, Tally | None] = field(default_factory=dict)  # None: forget the key


def address_key(address: str) -> str:
    """The part of a client address that is counted: IPv4 whole, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a test client, a unix socket): counted as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _digest(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}"


def current(tally: Tally | None, now: datetime) -> Tally | None:
    """``tally``, unless it has been forgotten by ``now``."""
    return tally if tally is not None and tally.expires_at > now else None


@dataclass(frozen=True)
class SignInLimits:
    """The three rules of the module docstring, and what attempts do to the tallies."""

    pair: Window = Window(5, timedelta(minutes=15))
    email: GrowingDelay = GrowingDelay(
        5, timedelta(seconds=1), timedelta(seconds=60), timedelta(minutes=15)
    )
    address: Window = Window(100, timedelta(minutes=15))

    def keys(self, email: str, address: str) -> SignInKeys:
        """Where an attempt for ``email`` from ``address`` is counted."""
        email = email.strip().lower()
        address = address_key(address)
        return SignInKeys(
            pair=_digest("pair", f"{email}\n{address}"),
            email=_digest("email", email),
            address=_digest("address", address),
        )

    def attempt(
        self, keys: SignInKeys, stored: Mapping[str, Tally], now: datetime
    ) -> ThrottleVerdict:
        """Refuse (nothing written), or go ahead with a failure counted on every tally."""
        tallies = {key: current(stored.get(key), now) for key in keys.all()}
        rules = ((keys.pair, self.pair), (keys.email, self.email), (keys.address, self.address))
        wait = max(rule.wait(tallies[key], now) for key, rule in rules)
        if wait > 0:
            return ThrottleVerdict(wait)
        return ThrottleVerdict(0.0, {key: rule.count(tallies[key], now) for key, rule in rules})

    def succeeded(
        self, keys: SignInKeys, stored: Mapping[str, Tally], now: datetime
    ) -> ThrottleVerdict:
        """The password was right: this email's failures are forgiven, here and anywhere.

        The address only gives back the failure this attempt counted: other people's
        typos behind the same address still count.
        """
        writes: dict[str, Tally | None] = {keys.pair: None, keys.email: None}
        address = current(stored.get(keys.address), now)
        if address is not None:
            left = address.failures - 1
            writes[keys.address] = replace(address, failures=left) if left > 0 else None
        return ThrottleVerdict(0.0, writes)
