"""Sign-in throttling rules: counted before the check, per pair, email and address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.domain.sign_in_throttle import (
    GrowingDelay,
    SignInKeys,
    SignInLimits,
    Tally,
    ThrottleVerdict,
    address_key,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
LIMITS = SignInLimits()


class Store:
    """The tallies as a store would keep them: each outcome's writes applied."""

    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}

    def apply(self, outcome: ThrottleVerdict) -> ThrottleVerdict:
        for key, tally in outcome.writes.items():
            if tally is None:
                self.tallies.pop(key, None)
            else:
                self.tallies[key] = tally
        return outcome

    def attempt(self, keys: SignInKeys, now: datetime) -> float:
        return self.apply(LIMITS.attempt(keys, self.tallies, now)).wait

    def succeed(self, keys: SignInKeys, now: datetime) -> None:
        self.apply(LIMITS.succeeded(keys, self.tallies, now))


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _fail_from_many_addresses(store: Store, email: str, count: int) -> float:
    """``count`` failures for ``email``, each from a new address as soon as it may go."""
    now = 0.0
    for n in range(count):
        keys = LIMITS.keys(email, f"198.51.100.{n}")
        now += store.attempt(keys, _at(now))  # refused: wait as told, then go
        if LIMITS.attempt(keys, store.tallies, _at(now)).wait == 0:
            store.attempt(keys, _at(now))
    return now


def test_the_sixth_attempt_for_one_email_from_one_address_is_refused_for_the_window() -> None:
    """Five attempts go ahead (each counted before its check); the sixth waits 15 minutes."""
    store, keys = Store(), LIMITS.keys("dana@example.com", "203.0.113.9")
    assert [store.attempt(keys, T0) for _ in range(5)] == [0.0] * 5
    assert store.attempt(keys, T0) == 15 * 60
    # Past the email's delay, the pair's window still holds this address back.
    assert store.attempt(keys, _at(120)) == 15 * 60 - 120
    assert store.attempt(keys, _at(15 * 60)) == 0.0


def test_a_refused_attempt_changes_nothing() -> None:
    """Hammering while refused writes nothing, so nobody's wait grows from it."""
    keys = LIMITS.keys("dana@example.com", "203.0.113.9")
    store = Store()
    for _ in range(5):
        store.attempt(keys, T0)
    before = dict(store.tallies)
    refused = LIMITS.attempt(keys, store.tallies, _at(1))
    assert refused.wait > 0
    assert refused.writes == {}
    assert store.tallies == before


def test_the_email_from_anywhere_waits_a_doubling_delay_capped_at_a_minute() -> None:
    """Five failures free from any addresses, then 1 s, 2 s, 4 s … and never past 60 s."""
    store, now = Store(), 0.0
    for n in range(5):
        assert store.attempt(LIMITS.keys("sam@example.com", f"198.51.100.{n}"), _at(now)) == 0
    waits = []
    for n in range(5, 15):
        keys = LIMITS.keys("sam@example.com", f"198.51.100.{n}")
        wait = store.attempt(keys, _at(now))
        waits.append(wait)
        now += wait
        assert store.attempt(keys, _at(now)) == 0.0  # after the wait it goes ahead
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_the_right_password_after_the_delay_signs_in_and_forgives_the_email() -> None:
    """The owner is delayed, never locked out; signing in clears the email's failures."""
    store = Store()
    now = _fail_from_many_addresses(store, "sam@example.com", 12)
    owner = LIMITS.keys("sam@example.com", "192.0.2.1")
    wait = store.attempt(owner, _at(now))
    assert wait == 60
    assert store.attempt(owner, _at(now + wait)) == 0.0
    store.succeed(owner, _at(now + wait))
    assert store.attempt(LIMITS.keys("sam@example.com", "192.0.2.2"), _at(now + wait)) == 0.0


def test_another_address_waits_only_the_email_delay() -> None:
    """Five failures from one address stop it for 15 minutes; another waits a second."""
    store = Store()
    guesser = LIMITS.keys("dana@example.com", "203.0.113.9")
    for _ in range(5):
        store.attempt(guesser, T0)
    owner = LIMITS.keys("dana@example.com", "198.51.100.7")
    assert store.attempt(owner, T0) == 1.0
    assert store.attempt(owner, _at(1)) == 0.0
    store.succeed(owner, _at(1))
    assert store.attempt(guesser, _at(1)) == 15 * 60 - 1


def test_an_address_has_a_high_cap_whatever_the_emails() -> None:
    """One address may fail 100 times in 15 minutes over many emails, then waits."""
    store = Store()
    for n in range(100):
        assert store.attempt(LIMITS.keys(f"user{n}@example.com", "203.0.113.9"), T0) == 0
    assert store.attempt(LIMITS.keys("new@example.com", "203.0.113.9"), T0) == 15 * 60
    assert store.attempt(LIMITS.keys("new@example.com", "203.0.113.10"), T0) == 0


def test_a_success_gives_back_only_its_own_count_on_the_address() -> None:
    """Colleagues' typos behind the same address still count after one signs in."""
    store = Store()
    for n in range(3):
        store.attempt(LIMITS.keys(f"typo{n}@example.com", "203.0.113.9"), T0)
    dana = LIMITS.keys("dana@example.com", "203.0.113.9")
    store.attempt(dana, T0)
    store.succeed(dana, T0)
    assert store.tallies[dana.address].failures == 3
    assert dana.pair not in store.tallies
    assert dana.email not in store.tallies


def test_failures_are_forgotten() -> None:
    """Fifteen quiet minutes forget an email's failures; a window's end forgets a pair's."""
    store = Store()
    now = _fail_from_many_addresses(store, "sam@example.com", 9)
    owner = LIMITS.keys("sam@example.com", "192.0.2.1")
    assert store.attempt(owner, _at(now + 1)) > 0
    late = _at(now + 15 * 60)
    assert LIMITS.attempt(owner, store.tallies, late).writes[owner.email] == Tally(
        1, late, late, late + timedelta(minutes=15)
    )
    guesser = LIMITS.keys("dana@example.com", "203.0.113.9")
    for _ in range(5):
        store.attempt(guesser, T0)
    assert store.attempt(guesser, _at(15 * 60 - 1)) == 1.0
    assert store.attempt(guesser, _at(15 * 60)) == 0.0


def test_keys_ignore_case_and_spacing_and_count_ipv6_by_its_block() -> None:
    """' Dana@Example.com' is dana; a /64 is one address; keys hold no email."""
    assert LIMITS.keys(" Dana@Example.com ", "1.2.3.4") == LIMITS.keys(
        "dana@example.com", "1.2.3.4"
    )
    a = LIMITS.keys("dana@example.com", "2001:db8:1:2::1")
    b = LIMITS.keys("dana@example.com", "2001:db8:1:2:ffff::9")
    assert a == b
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert all("dana" not in key and len(key) <= 64 for key in a.all())


def test_the_delay_does_not_overflow() -> None:
    """A million failures still wait the cap, not an overflow."""
    rule = GrowingDelay(5, timedelta(seconds=1), timedelta(seconds=60), timedelta(minutes=15))
    assert rule.delay(4) == timedelta(0)
    assert rule.delay(5) == timedelta(seconds=1)
    assert rule.delay(1_000_000) == timedelta(seconds=60)
