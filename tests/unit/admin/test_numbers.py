"""Our numbers on in-memory repositories: one purpose each, and the webhook's cached view."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from textdesk.admin.numbers import NumberConflict, NumberDirectory, Numbers
from textdesk.domain.phones import InvalidPhone
from textdesk.testing.admin import (
    AdminTables,
    FakeNumberRepositories,
    FakeReadingUnitOfWork,
    fake_numbers,
)
from textdesk.testing.clock import FixedClock

DESK = "+15550100100"


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[AdminTables, FakeNumberRepositories] = field(
        default_factory=fake_numbers
    )
    clock: FixedClock = field(default_factory=FixedClock)

    @property
    def tables(self) -> AdminTables:
        return self.uow.tables

    def numbers(self) -> Numbers:
        return Numbers(self.uow, self.clock)


async def test_a_number_is_stored_in_e164_for_its_purpose() -> None:
    r = Rig()
    assert await r.numbers().add(phone="(555) 010-0100", purpose="notify") == DESK
    assert r.tables.numbers == {DESK: "notify"}


async def test_an_unknown_purpose_is_refused() -> None:
    r = Rig()
    with pytest.raises(ValueError, match="purpose must be one of conversational, notify"):
        await r.numbers().add(phone=DESK, purpose="marketing")
    assert r.tables.numbers == {}


async def test_a_number_that_is_not_a_phone_number_is_refused() -> None:
    with pytest.raises(InvalidPhone):
        await Rig().numbers().add(phone="not a number", purpose="notify")


async def test_adding_a_number_again_for_the_same_purpose_changes_nothing() -> None:
    r = Rig()
    await r.numbers().add(phone=DESK, purpose="conversational")
    assert await r.numbers().add(phone=DESK, purpose="conversational") == DESK
    assert r.tables.numbers == {DESK: "conversational"}


async def test_a_number_is_never_given_a_second_purpose() -> None:
    """The conversational channel must not share its number with another integration."""
    r = Rig()
    await r.numbers().add(phone=DESK, purpose="conversational")
    with pytest.raises(NumberConflict, match="already configured for conversational"):
        await r.numbers().add(phone=DESK, purpose="notify")
    assert r.tables.numbers == {DESK: "conversational"}


async def test_numbers_are_listed_in_the_order_they_were_added() -> None:
    r = Rig()
    await r.numbers().add(phone="+15550100200", purpose="notify")
    await r.numbers().add(phone=DESK, purpose="conversational")
    assert [(n.phone, n.purpose) for n in await r.numbers().all()] == [
        ("+15550100200", "notify"),
        (DESK, "conversational"),
    ]


async def test_removing_a_number_says_whether_it_was_configured() -> None:
    r = Rig()
    await r.numbers().add(phone=DESK, purpose="conversational")
    assert await r.numbers().remove(DESK)
    assert not await r.numbers().remove(DESK)
    assert r.tables.numbers == {}


async def test_the_directory_answers_only_on_conversational_numbers() -> None:
    tables = AdminTables(numbers={DESK: "conversational", "+15550100200": "notify"})
    directory = NumberDirectory(fake_numbers(tables))
    assert await directory.is_conversational(DESK)
    assert not await directory.is_conversational("+15550100200")
    assert await directory.purpose_of("+15550100200") == "notify"
    assert await directory.purpose_of("+15550100999") is None


async def test_the_directory_reads_the_numbers_once_while_its_cache_is_fresh() -> None:
    uow = fake_numbers(AdminTables(numbers={DESK: "conversational"}))
    directory = NumberDirectory(uow, ttl_seconds=60)
    for _ in range(3):
        assert await directory.is_conversational(DESK)
    uow.tables.numbers["+15550100300"] = "conversational"  # added by another process

    assert not await directory.is_conversational("+15550100300")  # stale, as designed
    assert uow.reads == 1
    await directory.refresh()
    assert await directory.is_conversational("+15550100300")


async def test_a_stale_directory_reads_the_numbers_again() -> None:
    uow = fake_numbers(AdminTables(numbers={DESK: "conversational"}))
    directory = NumberDirectory(uow, ttl_seconds=-1)  # always stale
    await directory.is_conversational(DESK)
    uow.tables.numbers.pop(DESK)
    assert not await directory.is_conversational(DESK)
    assert uow.reads == 2
