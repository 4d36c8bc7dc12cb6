"""Accounts on in-memory repositories: one per phone, imports that report bad rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from textdesk.admin.users import Accounts, DuplicatePhone, NoSuchUser
from textdesk.domain.phones import InvalidPhone
from textdesk.ports import UserFootprint, UserRow
from textdesk.testing.admin import (
    AdminTables,
    FakeReadingUnitOfWork,
    FakeUserRepositories,
    fake_users,
)
from textdesk.testing.clock import FixedClock

ALICE = "+15551230001"
BOB = "+15551230002"


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[AdminTables, FakeUserRepositories] = field(
        default_factory=fake_users
    )
    clock: FixedClock = field(default_factory=FixedClock)

    @property
    def tables(self) -> AdminTables:
        return self.uow.tables

    def accounts(self) -> Accounts:
        return Accounts(self.uow, self.clock)


async def test_an_account_keeps_its_phone_in_e164_and_its_name_trimmed() -> None:
    r = Rig()
    user_id = await r.accounts().add(name="  Alice ", phone="(555) 123-0001", email="")
    assert r.tables.users[user_id] == UserRow(user_id, "Alice", None, ALICE)


async def test_an_account_may_have_no_phone() -> None:
    r = Rig()
    user_id = await r.accounts().add(name="Alice", phone=None, email="alice@example.com")
    assert r.tables.users[user_id].phone is None


async def test_a_second_account_for_a_phone_is_refused_and_nothing_is_kept() -> None:
    r = Rig()
    await r.accounts().add(name="Alice", phone=ALICE)
    with pytest.raises(DuplicatePhone, match=r"an account already has the number \+15551230001"):
        await r.accounts().add(name="Mallory", phone="555-123-0001")
    assert [u.name for u in r.tables.users.values()] == ["Alice"]
    assert r.uow.rollbacks == 1


async def test_a_phone_that_is_not_one_is_refused_before_any_write() -> None:
    r = Rig()
    with pytest.raises(InvalidPhone):
        await r.accounts().add(name="Alice", phone="12")
    assert r.uow.commits == 0


async def test_an_import_adds_new_people_skips_known_ones_and_reports_bad_rows(
    tmp_path: Path,
) -> None:
    r = Rig()
    await r.accounts().add(name="Alice", phone=ALICE)
    csv = tmp_path / "people.csv"
    csv.write_text(
        "name,email,phone\n"
        "Alice Again,,+15551230001\n"
        "Bob,bob@example.com,(555) 123-0002\n"
        "No Phone,,12\n"
        ",,+15551230003\n"
        "Bob Twice,,+15551230002\n",
        encoding="utf-8",
    )

    report = await r.accounts().import_csv(csv)
    assert (report.added, report.skipped) == (1, 2)
    assert report.errors is not None
    assert [e.split(":")[0] for e in report.errors] == ["line 4", "line 5"]
    assert report.errors[1] == "line 5: name is empty"
    assert {u.phone: u.name for u in r.tables.users.values()} == {ALICE: "Alice", BOB: "Bob"}


async def test_an_import_without_the_needed_columns_adds_nobody(tmp_path: Path) -> None:
    r = Rig()
    csv = tmp_path / "people.csv"
    csv.write_text("name,email\nAlice,alice@example.com\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        await r.accounts().import_csv(csv)
    assert r.tables.users == {}


async def test_an_account_is_found_by_its_number_as_people_type_it() -> None:
    r = Rig()
    user_id = await r.accounts().add(name="Alice", phone=ALICE)
    assert (await r.accounts().find("(555) 123-0001")).id == user_id
    with pytest.raises(NoSuchUser, match=r"no account has the number \+15551230002"):
        await r.accounts().find(BOB)


async def test_removing_an_account_forgets_it() -> None:
    r = Rig()
    user_id = await r.accounts().add(name="Alice", phone=ALICE)
    r.tables.footprints[user_id] = UserFootprint(True, 2, 3, 1, 1)
    alice = await r.accounts().find(ALICE)
    assert (await r.accounts().footprint(alice)).notifications == 3

    await r.accounts().remove(alice)
    assert await r.accounts().all() == []
    assert await r.accounts().get(user_id) is None


async def test_accounts_are_paged_in_the_order_they_were_added() -> None:
    r = Rig()
    for i in range(5):
        await r.accounts().add(name=f"Person {i}", phone=f"+1555123000{i}")
    assert [u.name for u in await r.accounts().all(limit=2, offset=1)] == ["Person 1", "Person 2"]
